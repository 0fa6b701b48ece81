// The EntityDef of every emulated entity (process-wide singletons).
#ifndef B24EMU_DATA_CATALOG_H_
#define B24EMU_DATA_CATALOG_H_

#include "data/entity_def.h"

namespace b24emu::data {

// Codes mixed into seeded multi-field ids so they are unique portal-wide.
enum EntityCode { kCodeLead = 0, kCodeDeal = 1, kCodeContact = 2, kCodeCompany = 3 };

// catalog_crm.cc
const EntityDef& LeadDef();
const EntityDef& DealDef();
const EntityDef& ContactDef();
const EntityDef& CompanyDef();
// catalog_item.cc: the smart process (entityTypeId 128).
inline constexpr int kSmartProcessTypeId = 128;
const EntityDef& SmartItemDef();
// catalog_other.cc
const EntityDef& TaskDef();
const EntityDef& TaskCommentDef();
const EntityDef& UserDef();
const EntityDef& StatusDef();
const EntityDef& TimelineCommentDef();
const EntityDef& ActivityDef();

}  // namespace b24emu::data

#endif  // B24EMU_DATA_CATALOG_H_
