// Field catalog of the smart process served by crm.item.* with
// entityTypeId 128 (stages DT128_9:*, pipeline 9). Internally UPPER names like
// the classic entities; crm.item renders the camelCase names.
#include "absl/strings/str_cat.h"
#include "data/catalog.h"
#include "data/catalog_util.h"

namespace b24emu::data {
namespace {

using catalog::Custom;
using catalog::F;
using catalog::IdField;
using catalog::Null;
using catalog::ReadOnly;
using catalog::Status;
using catalog::Text;
using FT = FieldType;

constexpr const char* kStages[] = {"DT128_9:NEW", "DT128_9:NEW", "DT128_9:PREPARATION",
                                   "DT128_9:CLIENT", "DT128_9:SUCCESS", "DT128_9:FAIL"};
constexpr const char* kProjects[] = {"Warehouse rollout", "CRM migration", "Office move",
                                     "Website relaunch", "Fleet tracking", "Audit"};

int64_t ItemCreated(const Row& r, const SeedContext& c) { return gen::CreatedAt(r.id, c.max_item_id); }

EntityDef* MakeSmartItem() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("XML_ID", FT::kString, "External ID"));
  f.push_back(F("TITLE", FT::kString, "Name", +[](const Row& r, const SeedContext&) {
    return Text(absl::StrCat(gen::PickFrom(r.id, 1, kProjects), " #", r.id));
  }));
  f.push_back(ReadOnly(F("CREATED_BY", FT::kUser, "Created by", +[](const Row& r, const SeedContext& c) {
    return gen::IdCell(gen::PickId(r.id, 22, c.user_ids));
  })));
  f.push_back(ReadOnly(F("UPDATED_BY", FT::kUser, "Updated by", +[](const Row& r, const SeedContext& c) {
    return gen::IdCell(gen::PickId(r.id, 23, c.user_ids));
  })));
  f.push_back(ReadOnly(F("MOVED_BY", FT::kUser, "Moved by", +[](const Row& r, const SeedContext& c) {
    return gen::IdCell(gen::PickId(r.id, 23, c.user_ids));
  })));
  f.push_back(ReadOnly(F("CREATED_TIME", FT::kDateTime, "Created on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(ItemCreated(r, c)));
  })));
  f.push_back(ReadOnly(F("UPDATED_TIME", FT::kDateTime, "Updated on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(ItemCreated(r, c) + 3600 * gen::Pick(r.id, 15, 400)));
  })));
  f.push_back(ReadOnly(F("MOVED_TIME", FT::kDateTime, "Moved on", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDateTime(ItemCreated(r, c) + 3600 * gen::Pick(r.id, 15, 400)));
  })));
  f.push_back(F("CATEGORY_ID", FT::kCrmCategory, "Pipeline",
                +[](const Row&, const SeedContext&) { return Text("9"); }));
  f.push_back(F("OPENED", FT::kChar, "Available to everyone",
                +[](const Row&, const SeedContext&) { return Text("Y"); }));
  f.push_back(Status(F("STAGE_ID", FT::kCrmStatus, "Stage", +[](const Row& r, const SeedContext&) {
    return Text(gen::PickFrom(r.id, 3, kStages));
  }), "DYNAMIC_128_STAGE_9"));
  f.push_back(ReadOnly(F("PREVIOUS_STAGE_ID", FT::kCrmStatus, "Previous stage")));
  f.push_back(F("BEGINDATE", FT::kDate, "Start date", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDate(ItemCreated(r, c)));
  }));
  f.push_back(F("CLOSEDATE", FT::kDate, "End date", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDate(ItemCreated(r, c) + 86400 * (7 + gen::Pick(r.id, 10, 60))));
  }));
  f.push_back(F("COMPANY_ID", FT::kCrmCompany, "Company", +[](const Row& r, const SeedContext& c) {
    return gen::Chance(r.id, 16, 60) ? gen::IdCell(gen::PickId(r.id, 17, c.company_ids)) : Null();
  }));
  f.push_back(F("CONTACT_ID", FT::kCrmContact, "Contact", +[](const Row& r, const SeedContext& c) {
    return gen::Chance(r.id, 18, 60) ? gen::IdCell(gen::PickId(r.id, 19, c.contact_ids)) : Null();
  }));
  f.push_back(F("OPPORTUNITY", FT::kDouble, "Amount", +[](const Row& r, const SeedContext&) {
    return Text(FormatMoney(static_cast<double>(gen::Pick(r.id, 9, 300)) * 1000.0));
  }));
  f.push_back(F("IS_MANUAL_OPPORTUNITY", FT::kChar, "Manual amount",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("TAX_VALUE", FT::kDouble, "Tax", +[](const Row&, const SeedContext&) { return Text("0.00"); }));
  f.push_back(F("CURRENCY_ID", FT::kCrmCurrency, "Currency",
                +[](const Row&, const SeedContext&) { return Text("USD"); }));
  f.push_back(F("MYCOMPANY_ID", FT::kCrmCompany, "My company"));
  f.push_back(Status(F("SOURCE_ID", FT::kCrmStatus, "Source"), "SOURCE"));
  f.push_back(F("SOURCE_DESCRIPTION", FT::kString, "Source information"));
  f.push_back(F("ASSIGNED_BY_ID", FT::kUser, "Responsible person", +[](const Row& r, const SeedContext& c) {
    return gen::IdCell(gen::PickId(r.id, 21, c.user_ids));
  }));
  f.push_back(Custom("UF_CRM_5_1700000401", FT::kString, "Project code", +[](const Row& r, const SeedContext&) {
    return Text(absl::StrCat("PRJ-", 1000 + gen::Pick(r.id, 541, 9000)));
  }));
  f.push_back(Custom("UF_CRM_5_1700000402", FT::kDouble, "Budget", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 542, 50) ? Text(FormatMoney(static_cast<double>(gen::Pick(r.id, 543, 100)) * 5000.0))
                                      : Null();
  }));
  return new EntityDef("crm.item", std::move(f));
}

}  // namespace

const EntityDef& SmartItemDef() {
  static const EntityDef* def = MakeSmartItem();
  return *def;
}

}  // namespace b24emu::data
