// The reference lists crm.status.list serves (lead statuses, deal stages,
// sources, types ...). Seeded rows draw their STATUS_ID/STAGE_ID/SOURCE_ID
// from the same lists, so every value a client sees resolves in
// crm.status.list.
#ifndef B24EMU_DATA_STATUS_CATALOG_H_
#define B24EMU_DATA_STATUS_CATALOG_H_

#include <string>
#include <vector>

namespace b24emu::data {

struct StatusEntry {
  const char* entity_id;  // "STATUS", "DEAL_STAGE", "SOURCE", "DYNAMIC_128_STAGE_9" ...
  const char* status_id;  // "NEW", "DT128_9:NEW" ...
  const char* name;
  int sort;
  const char* semantics;  // nullptr (in progress), "S" (success), "F" (failure)
  const char* color;      // nullptr for non-stage lists
  int category_id;        // -1: none (null)
};

const std::vector<StatusEntry>& AllStatuses();

// Stage semantics of a status id within `entity_id`: "P", "S" or "F".
const char* SemanticOf(const char* entity_id, const std::string& status_id);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_STATUS_CATALOG_H_
