// Field catalogs of crm.lead, crm.deal, crm.contact and crm.company, with the
// generators of their seeded values. Field order and names follow real
// `crm.*.fields` answers; the salts (second Mix argument) are arbitrary but
// fixed, so changing one field never changes another.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "data/catalog.h"
#include "data/catalog_util.h"
#include "data/status_catalog.h"

namespace b24emu::data {
namespace {

using catalog::Camel;
using catalog::Custom;
using catalog::Derived;
using catalog::F;
using catalog::IdField;
using catalog::Links;
using catalog::Multi;
using catalog::Null;
using catalog::ReadOnly;
using catalog::Status;
using catalog::Text;
using FT = FieldType;

constexpr const char* kLeadStatuses[] = {"NEW", "NEW", "NEW", "IN_PROCESS", "IN_PROCESS",
                                         "PROCESSED", "CONVERTED", "JUNK"};
constexpr const char* kDealStages[] = {"NEW", "NEW", "PREPARATION", "PREPAYMENT_INVOICE",
                                       "EXECUTING", "FINAL_INVOICE", "WON", "WON", "LOSE",
                                       "APOLOGY"};
constexpr const char* kSources[] = {"CALL", "EMAIL", "WEB", "WEB", "ADVERTISING", "PARTNER",
                                    "RECOMMENDATION", "TRADE_SHOW", "WEBFORM", "CALLBACK",
                                    "OTHER"};
constexpr const char* kCurrencies[] = {"USD", "USD", "USD", "EUR", "EUR", "GBP"};
constexpr const char* kPosts[] = {"CEO", "Purchasing manager", "CTO", "Office manager",
                                  "Head of sales", "Accountant", "Logistics lead"};
constexpr const char* kLeadTitles[] = {"Website request", "Price inquiry", "Callback request",
                                       "Trade show contact", "Demo request", "Partner referral"};
constexpr const char* kDealProducts[] = {"Annual license", "Implementation", "Support plan",
                                         "Hardware supply", "Consulting package", "Training"};
constexpr const char* kCampaigns[] = {"spring_sale", "newsletter_q3", "google_ads", "webinar",
                                      "partner_program"};
constexpr const char* kUtm[] = {"google", "facebook", "newsletter", "linkedin"};

int64_t Created(const Row& r, int64_t max_id) { return gen::CreatedAt(r.id, max_id); }

Cell UserId(const Row& r, const SeedContext& c, uint64_t salt) {
  return gen::IdCell(gen::PickId(r.id, salt, c.user_ids));
}

// PHONE for a person-like row: 85% have a work phone, a fifth of them a mobile too.
Cell Phones(const Row& r, int code) {
  MultiList l;
  if (gen::Chance(r.id, 301, 85)) {
    l.push_back({gen::MultiId(r.id, code, 0), "WORK", gen::Phone(r.id, 302)});
    if (gen::Chance(r.id, 303, 20)) l.push_back({gen::MultiId(r.id, code, 1), "MOBILE", gen::Phone(r.id, 304)});
  }
  return l;
}

Cell Emails(const Row& r, int code) {
  MultiList l;
  if (gen::Chance(r.id, 311, 70)) l.push_back({gen::MultiId(r.id, code, 2), "WORK", gen::Email(r.id, 1)});
  return l;
}

// 0–3 contacts, first one primary; `percent` of rows have any.
LinkList SeededLinks(const Row& r, const SeedContext& c, int percent, int max_links) {
  LinkList out;
  if (c.contact_ids.empty() || !gen::Chance(r.id, 401, percent)) return out;
  int n = 1 + static_cast<int>(gen::Pick(r.id, 402, max_links));
  for (int i = 0; i < n; ++i) {
    int64_t cid = *gen::PickId(r.id, 410 + i, c.contact_ids);
    bool dup = std::any_of(out.begin(), out.end(),
                           [cid](const ContactLink& l) { return l.contact_id == cid; });
    if (!dup) out.push_back({cid, 10 * (static_cast<int>(out.size()) + 1), 0, out.empty()});
  }
  return out;
}

Cell PrimaryContact(const Table& t, const Row& r) {
  int i = t.def().Find("CONTACT_IDS");
  Cell c = t.Get(r, i);
  const LinkList* l = std::get_if<LinkList>(&c);
  if (l == nullptr) return Null();
  for (const ContactLink& link : *l) {
    if (link.is_primary) return Text(std::to_string(link.contact_id));
  }
  return Null();
}

// Common tail fields every CRM entity has, in their usual position.
void AddAuditFields(std::vector<FieldDef>& f, Generator created, Generator modified) {
  f.push_back(F("ASSIGNED_BY_ID", FT::kUser, "Responsible person",
                +[](const Row& r, const SeedContext& c) { return UserId(r, c, 21); }));
  f.push_back(Camel(ReadOnly(F("CREATED_BY_ID", FT::kUser, "Created by",
                               +[](const Row& r, const SeedContext& c) { return UserId(r, c, 22); })),
                    "createdBy"));
  f.push_back(Camel(ReadOnly(F("MODIFY_BY_ID", FT::kUser, "Modified by",
                               +[](const Row& r, const SeedContext& c) { return UserId(r, c, 23); })),
                    "updatedBy"));
  f.push_back(Camel(ReadOnly(F("DATE_CREATE", FT::kDateTime, "Created on", created)), "createdTime"));
  f.push_back(Camel(ReadOnly(F("DATE_MODIFY", FT::kDateTime, "Modified on", modified)), "updatedTime"));
}

EntityDef* MakeLead() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("TITLE", FT::kString, "Lead Name", +[](const Row& r, const SeedContext&) {
    return Text(absl::StrCat(gen::PickFrom(r.id, 1, kLeadTitles), ": ", gen::CompanyName(r.id, 11)));
  }));
  f.push_back(Status(F("HONORIFIC", FT::kCrmStatus, "Salutation"), "HONORIFIC"));
  f.push_back(F("NAME", FT::kString, "First name",
                +[](const Row& r, const SeedContext&) { return Text(gen::FirstName(r.id, 1)); }));
  f.push_back(F("SECOND_NAME", FT::kString, "Middle name"));
  f.push_back(F("LAST_NAME", FT::kString, "Last name",
                +[](const Row& r, const SeedContext&) { return Text(gen::LastName(r.id, 2)); }));
  f.push_back(F("BIRTHDATE", FT::kDate, "Date of birth"));
  f.push_back(F("COMPANY_TITLE", FT::kString, "Company name", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 12, 70) ? Text(gen::CompanyName(r.id, 11)) : Null();
  }));
  f.push_back(Status(F("SOURCE_ID", FT::kCrmStatus, "Source", +[](const Row& r, const SeedContext&) {
    return Text(gen::PickFrom(r.id, 3, kSources));
  }), "SOURCE"));
  f.push_back(F("SOURCE_DESCRIPTION", FT::kString, "Source information"));
  f.push_back(Status(F("STATUS_ID", FT::kCrmStatus, "Status", +[](const Row& r, const SeedContext&) {
    return Text(gen::PickFrom(r.id, 4, kLeadStatuses));
  }), "STATUS"));
  f.push_back(F("STATUS_DESCRIPTION", FT::kString, "Status information"));
  f.push_back(Derived(F("STATUS_SEMANTIC_ID", FT::kString, "Status details"),
                      +[](const Table& t, const Row& r) -> Cell {
                        return Text(SemanticOf("STATUS", catalog::FieldText(t, r, "STATUS_ID")));
                      }));
  f.push_back(F("POST", FT::kString, "Position", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 5, 50) ? Text(gen::PickFrom(r.id, 6, kPosts)) : Null();
  }));
  f.push_back(F("ADDRESS_CITY", FT::kString, "City", +[](const Row& r, const SeedContext&) {
    return Text(gen::City(r.id, 7));
  }));
  f.push_back(F("CURRENCY_ID", FT::kCrmCurrency, "Currency",
                +[](const Row& r, const SeedContext&) { return Text(gen::PickFrom(r.id, 8, kCurrencies)); }));
  f.push_back(F("OPPORTUNITY", FT::kDouble, "Amount", +[](const Row& r, const SeedContext&) {
    return Text(FormatMoney(static_cast<double>(gen::Pick(r.id, 9, 400)) * 250.0));
  }));
  f.push_back(F("IS_MANUAL_OPPORTUNITY", FT::kChar, "IS_MANUAL_OPPORTUNITY",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("OPENED", FT::kChar, "Available to everyone",
                +[](const Row&, const SeedContext&) { return Text("Y"); }));
  f.push_back(F("COMMENTS", FT::kString, "Comment", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 13, 60) ? Text(gen::Sentence(r.id, 14)) : Null();
  }));
  f.push_back(Derived(F("HAS_PHONE", FT::kChar, "Has phone"),
                      +[](const Table& t, const Row& r) { return catalog::HasMulti(t, r, "PHONE"); }));
  f.push_back(Derived(F("HAS_EMAIL", FT::kChar, "Has email"),
                      +[](const Table& t, const Row& r) { return catalog::HasMulti(t, r, "EMAIL"); }));
  AddAuditFields(
      f,
      +[](const Row& r, const SeedContext& c) { return Text(FormatDateTime(Created(r, c.max_lead_id))); },
      +[](const Row& r, const SeedContext& c) {
        return Text(FormatDateTime(Created(r, c.max_lead_id) + 3600 * gen::Pick(r.id, 15, 400)));
      });
  f.push_back(F("COMPANY_ID", FT::kCrmCompany, "Company", +[](const Row& r, const SeedContext& c) {
    return gen::Chance(r.id, 16, 20) ? gen::IdCell(gen::PickId(r.id, 17, c.company_ids)) : Null();
  }));
  f.push_back(Derived(F("CONTACT_ID", FT::kCrmContact, "Contact"), PrimaryContact));
  f.push_back(Links("CONTACT_IDS", "Contacts", +[](const Row& r, const SeedContext& c) -> Cell {
    return SeededLinks(r, c, 15, 1);
  }));
  f.push_back(F("IS_RETURN_CUSTOMER", FT::kChar, "Repeat lead",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("DATE_CLOSED", FT::kDateTime, "Date closed"));
  f.push_back(F("ORIGINATOR_ID", FT::kString, "External source"));
  f.push_back(F("ORIGIN_ID", FT::kString, "Item ID in data source"));
  f.push_back(F("UTM_SOURCE", FT::kString, "Ad system", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 18, 30) ? Text(gen::PickFrom(r.id, 19, kUtm)) : Null();
  }));
  f.push_back(Multi("PHONE", "Phone", +[](const Row& r, const SeedContext&) { return Phones(r, kCodeLead); }));
  f.push_back(Multi("EMAIL", "E-mail", +[](const Row& r, const SeedContext&) { return Emails(r, kCodeLead); }));
  f.push_back(Multi("WEB", "Website"));
  f.push_back(Custom("UF_CRM_1700000001", FT::kString, "Campaign", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 501, 40) ? Text(gen::PickFrom(r.id, 502, kCampaigns)) : Null();
  }));
  f.push_back(Custom("UF_CRM_1700000002", FT::kInteger, "Lead score", +[](const Row& r, const SeedContext&) {
    return Text(std::to_string(gen::Pick(r.id, 503, 101)));
  }));
  return new EntityDef("crm.lead", std::move(f));
}

EntityDef* MakeDeal() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("TITLE", FT::kString, "Name", +[](const Row& r, const SeedContext&) {
    return Text(absl::StrCat(gen::PickFrom(r.id, 1, kDealProducts), " for ", gen::CompanyName(r.id, 11)));
  }));
  f.push_back(Status(F("TYPE_ID", FT::kCrmStatus, "Type", +[](const Row& r, const SeedContext&) {
    constexpr const char* kTypes[] = {"SALE", "SALE", "COMPLEX", "GOODS", "SERVICES", "SERVICE"};
    return Text(gen::PickFrom(r.id, 2, kTypes));
  }), "DEAL_TYPE"));
  f.push_back(F("CATEGORY_ID", FT::kCrmCategory, "Pipeline",
                +[](const Row&, const SeedContext&) { return Text("0"); }));
  f.push_back(Status(F("STAGE_ID", FT::kCrmStatus, "Stage", +[](const Row& r, const SeedContext&) {
    return Text(gen::PickFrom(r.id, 3, kDealStages));
  }), "DEAL_STAGE"));
  f.push_back(Derived(F("STAGE_SEMANTIC_ID", FT::kString, "Stage group"),
                      +[](const Table& t, const Row& r) -> Cell {
                        return Text(SemanticOf("DEAL_STAGE", catalog::FieldText(t, r, "STAGE_ID")));
                      }));
  f.push_back(Derived(F("IS_NEW", FT::kChar, "New deal"), +[](const Table& t, const Row& r) -> Cell {
    return Text(catalog::FieldText(t, r, "STAGE_ID") == "NEW" ? "Y" : "N");
  }));
  f.push_back(F("IS_RECURRING", FT::kChar, "Recurring deal",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("IS_RETURN_CUSTOMER", FT::kChar, "Repeat deal",
                +[](const Row& r, const SeedContext&) { return Text(gen::Chance(r.id, 4, 15) ? "Y" : "N"); }));
  f.push_back(F("PROBABILITY", FT::kInteger, "Probability", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 5, 50) ? Text(std::to_string(10 * gen::Pick(r.id, 6, 11))) : Null();
  }));
  f.push_back(F("CURRENCY_ID", FT::kCrmCurrency, "Currency",
                +[](const Row& r, const SeedContext&) { return Text(gen::PickFrom(r.id, 8, kCurrencies)); }));
  f.push_back(F("OPPORTUNITY", FT::kDouble, "Income", +[](const Row& r, const SeedContext&) {
    return Text(FormatMoney(static_cast<double>(1 + gen::Pick(r.id, 9, 2000)) * 500.0));
  }));
  f.push_back(F("IS_MANUAL_OPPORTUNITY", FT::kChar, "IS_MANUAL_OPPORTUNITY",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  f.push_back(F("TAX_VALUE", FT::kDouble, "Tax rate",
                +[](const Row&, const SeedContext&) { return Text("0.00"); }));
  f.push_back(F("COMPANY_ID", FT::kCrmCompany, "Company", +[](const Row& r, const SeedContext& c) {
    return gen::Chance(r.id, 16, 80) ? gen::IdCell(gen::PickId(r.id, 17, c.company_ids)) : Null();
  }));
  f.push_back(Derived(F("CONTACT_ID", FT::kCrmContact, "Contact"), PrimaryContact));
  f.push_back(Links("CONTACT_IDS", "Contacts", +[](const Row& r, const SeedContext& c) -> Cell {
    return SeededLinks(r, c, 85, 3);
  }));
  f.push_back(F("QUOTE_ID", FT::kInteger, "Quote"));
  f.push_back(F("BEGINDATE", FT::kDate, "Start date", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDate(Created(r, c.max_deal_id)));
  }));
  f.push_back(F("CLOSEDATE", FT::kDate, "Estimated close date", +[](const Row& r, const SeedContext& c) {
    return Text(FormatDate(Created(r, c.max_deal_id) + 86400 * (7 + gen::Pick(r.id, 10, 60))));
  }));
  f.push_back(F("OPENED", FT::kChar, "Available to everyone",
                +[](const Row&, const SeedContext&) { return Text("Y"); }));
  f.push_back(Derived(F("CLOSED", FT::kChar, "Closed"), +[](const Table& t, const Row& r) -> Cell {
    return Text(SemanticOf("DEAL_STAGE", catalog::FieldText(t, r, "STAGE_ID"))[0] == 'P' ? "N" : "Y");
  }));
  f.push_back(F("COMMENTS", FT::kString, "Comment", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 13, 60) ? Text(gen::Sentence(r.id, 14)) : Null();
  }));
  AddAuditFields(
      f,
      +[](const Row& r, const SeedContext& c) { return Text(FormatDateTime(Created(r, c.max_deal_id))); },
      +[](const Row& r, const SeedContext& c) {
        return Text(FormatDateTime(Created(r, c.max_deal_id) + 3600 * gen::Pick(r.id, 15, 400)));
      });
  f.push_back(Status(F("SOURCE_ID", FT::kCrmStatus, "Source", +[](const Row& r, const SeedContext&) {
    return Text(gen::PickFrom(r.id, 3, kSources));
  }), "SOURCE"));
  f.push_back(F("SOURCE_DESCRIPTION", FT::kString, "Source information"));
  f.push_back(F("LEAD_ID", FT::kCrmLead, "Lead", +[](const Row& r, const SeedContext& c) {
    return gen::Chance(r.id, 18, 30) ? gen::IdCell(gen::PickId(r.id, 19, c.lead_ids)) : Null();
  }));
  f.push_back(F("ADDITIONAL_INFO", FT::kString, "Additional information"));
  f.push_back(F("ORIGINATOR_ID", FT::kString, "External source"));
  f.push_back(F("ORIGIN_ID", FT::kString, "Item ID in data source"));
  f.push_back(Custom("UF_CRM_1700000101", FT::kString, "Contract number", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 511, 50) ? Text(absl::StrCat("CN-", 10000 + gen::Pick(r.id, 512, 90000)))
                                      : Null();
  }));
  f.push_back(Custom("UF_CRM_1700000102", FT::kDate, "Delivery date", +[](const Row& r, const SeedContext& c) {
    return gen::Chance(r.id, 513, 40)
               ? Text(FormatDate(Created(r, c.max_deal_id) + 86400 * (14 + gen::Pick(r.id, 514, 90))))
               : Null();
  }));
  return new EntityDef("crm.deal", std::move(f));
}

EntityDef* MakeContact() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(Status(F("HONORIFIC", FT::kCrmStatus, "Salutation"), "HONORIFIC"));
  f.push_back(F("NAME", FT::kString, "First name",
                +[](const Row& r, const SeedContext&) { return Text(gen::FirstName(r.id, 1)); }));
  f.push_back(F("SECOND_NAME", FT::kString, "Middle name"));
  f.push_back(F("LAST_NAME", FT::kString, "Last name",
                +[](const Row& r, const SeedContext&) { return Text(gen::LastName(r.id, 2)); }));
  f.push_back(F("PHOTO", FT::kString, "Photo"));
  f.push_back(F("BIRTHDATE", FT::kDate, "Date of birth", +[](const Row& r, const SeedContext&) {
    if (!gen::Chance(r.id, 3, 50)) return Null();
    return Text(FormatDate(86400 * static_cast<int64_t>(365 * 20 + gen::Pick(r.id, 4, 365 * 30))));
  }));
  f.push_back(Status(F("TYPE_ID", FT::kCrmStatus, "Contact type", +[](const Row& r, const SeedContext&) {
    constexpr const char* kTypes[] = {"CLIENT", "CLIENT", "CLIENT", "SUPPLIER", "PARTNER", "OTHER"};
    return Text(gen::PickFrom(r.id, 5, kTypes));
  }), "CONTACT_TYPE"));
  f.push_back(Status(F("SOURCE_ID", FT::kCrmStatus, "Source", +[](const Row& r, const SeedContext&) {
    return Text(gen::PickFrom(r.id, 3, kSources));
  }), "SOURCE"));
  f.push_back(F("SOURCE_DESCRIPTION", FT::kString, "Source information"));
  f.push_back(F("POST", FT::kString, "Position", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 6, 70) ? Text(gen::PickFrom(r.id, 7, kPosts)) : Null();
  }));
  f.push_back(F("ADDRESS_CITY", FT::kString, "City",
                +[](const Row& r, const SeedContext&) { return Text(gen::City(r.id, 8)); }));
  f.push_back(F("COMMENTS", FT::kString, "Comment", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 13, 40) ? Text(gen::Sentence(r.id, 14)) : Null();
  }));
  f.push_back(F("OPENED", FT::kChar, "Available to everyone",
                +[](const Row&, const SeedContext&) { return Text("Y"); }));
  f.push_back(F("EXPORT", FT::kChar, "Included in export",
                +[](const Row&, const SeedContext&) { return Text("Y"); }));
  f.push_back(Derived(F("HAS_PHONE", FT::kChar, "Has phone"),
                      +[](const Table& t, const Row& r) { return catalog::HasMulti(t, r, "PHONE"); }));
  f.push_back(Derived(F("HAS_EMAIL", FT::kChar, "Has email"),
                      +[](const Table& t, const Row& r) { return catalog::HasMulti(t, r, "EMAIL"); }));
  AddAuditFields(
      f,
      +[](const Row& r, const SeedContext& c) { return Text(FormatDateTime(Created(r, c.max_contact_id))); },
      +[](const Row& r, const SeedContext& c) {
        return Text(FormatDateTime(Created(r, c.max_contact_id) + 3600 * gen::Pick(r.id, 15, 400)));
      });
  f.push_back(F("COMPANY_ID", FT::kCrmCompany, "Company", +[](const Row& r, const SeedContext& c) {
    return gen::Chance(r.id, 16, 60) ? gen::IdCell(gen::PickId(r.id, 17, c.company_ids)) : Null();
  }));
  f.push_back(F("LEAD_ID", FT::kCrmLead, "Lead", +[](const Row& r, const SeedContext& c) {
    return gen::Chance(r.id, 18, 20) ? gen::IdCell(gen::PickId(r.id, 19, c.lead_ids)) : Null();
  }));
  f.push_back(F("ORIGINATOR_ID", FT::kString, "External source"));
  f.push_back(F("ORIGIN_ID", FT::kString, "Item ID in data source"));
  f.push_back(Multi("PHONE", "Phone", +[](const Row& r, const SeedContext&) { return Phones(r, kCodeContact); }));
  f.push_back(Multi("EMAIL", "E-mail", +[](const Row& r, const SeedContext&) { return Emails(r, kCodeContact); }));
  f.push_back(Multi("WEB", "Website"));
  f.push_back(Multi("IM", "Messenger"));
  f.push_back(Custom("UF_CRM_1700000201", FT::kString, "Preferred language",
                     +[](const Row& r, const SeedContext&) {
                       constexpr const char* kLang[] = {"en", "de", "fr", "es", "ru"};
                       return Text(gen::PickFrom(r.id, 521, kLang));
                     }));
  return new EntityDef("crm.contact", std::move(f));
}

EntityDef* MakeCompany() {
  std::vector<FieldDef> f;
  f.push_back(IdField());
  f.push_back(F("TITLE", FT::kString, "Company name",
                +[](const Row& r, const SeedContext&) { return Text(gen::CompanyName(r.id, 1)); }));
  f.push_back(Status(F("COMPANY_TYPE", FT::kCrmStatus, "Company type", +[](const Row& r, const SeedContext&) {
    constexpr const char* kTypes[] = {"CUSTOMER", "CUSTOMER", "CUSTOMER", "SUPPLIER", "COMPETITOR",
                                      "PARTNER", "OTHER"};
    return Text(gen::PickFrom(r.id, 2, kTypes));
  }), "COMPANY_TYPE"));
  f.push_back(F("LOGO", FT::kString, "Logo"));
  f.push_back(F("ADDRESS_CITY", FT::kString, "City",
                +[](const Row& r, const SeedContext&) { return Text(gen::City(r.id, 3)); }));
  f.push_back(Status(F("INDUSTRY", FT::kCrmStatus, "Industry", +[](const Row& r, const SeedContext&) {
    constexpr const char* kInd[] = {"IT", "TELECOM", "MANUFACTURING", "BANKING", "CONSULTING",
                                    "FINANCE", "DELIVERY", "OTHER"};
    return Text(gen::PickFrom(r.id, 4, kInd));
  }), "INDUSTRY"));
  f.push_back(Status(F("EMPLOYEES", FT::kCrmStatus, "Employees", +[](const Row& r, const SeedContext&) {
    constexpr const char* kEmp[] = {"EMPLOYEES_1", "EMPLOYEES_2", "EMPLOYEES_3", "EMPLOYEES_4"};
    return Text(gen::PickFrom(r.id, 5, kEmp));
  }), "EMPLOYEES"));
  f.push_back(F("CURRENCY_ID", FT::kCrmCurrency, "Currency",
                +[](const Row& r, const SeedContext&) { return Text(gen::PickFrom(r.id, 8, kCurrencies)); }));
  f.push_back(F("REVENUE", FT::kDouble, "Annual revenue", +[](const Row& r, const SeedContext&) {
    return Text(FormatMoney(static_cast<double>(1 + gen::Pick(r.id, 9, 1000)) * 10000.0));
  }));
  f.push_back(F("OPENED", FT::kChar, "Available to everyone",
                +[](const Row&, const SeedContext&) { return Text("Y"); }));
  f.push_back(F("COMMENTS", FT::kString, "Comment", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 13, 40) ? Text(gen::Sentence(r.id, 14)) : Null();
  }));
  f.push_back(Derived(F("HAS_PHONE", FT::kChar, "Has phone"),
                      +[](const Table& t, const Row& r) { return catalog::HasMulti(t, r, "PHONE"); }));
  f.push_back(Derived(F("HAS_EMAIL", FT::kChar, "Has email"),
                      +[](const Table& t, const Row& r) { return catalog::HasMulti(t, r, "EMAIL"); }));
  f.push_back(F("IS_MY_COMPANY", FT::kChar, "My company",
                +[](const Row&, const SeedContext&) { return Text("N"); }));
  AddAuditFields(
      f,
      +[](const Row& r, const SeedContext& c) { return Text(FormatDateTime(Created(r, c.max_company_id))); },
      +[](const Row& r, const SeedContext& c) {
        return Text(FormatDateTime(Created(r, c.max_company_id) + 3600 * gen::Pick(r.id, 15, 400)));
      });
  f.push_back(F("LEAD_ID", FT::kCrmLead, "Lead"));
  f.push_back(F("ORIGINATOR_ID", FT::kString, "External source"));
  f.push_back(F("ORIGIN_ID", FT::kString, "Item ID in data source"));
  f.push_back(Multi("PHONE", "Phone", +[](const Row& r, const SeedContext&) { return Phones(r, kCodeCompany); }));
  f.push_back(Multi("EMAIL", "E-mail", +[](const Row& r, const SeedContext&) { return Emails(r, kCodeCompany); }));
  f.push_back(Multi("WEB", "Website", +[](const Row& r, const SeedContext&) -> Cell {
    if (!gen::Chance(r.id, 321, 60)) return MultiList{};
    std::string host = gen::CompanyName(r.id, 1);
    host = absl::AsciiStrToLower(host.substr(0, host.find(' ')));
    return MultiList{{gen::MultiId(r.id, kCodeCompany, 3), "WORK", absl::StrCat("www.", host, ".example.com")}};
  }));
  f.push_back(Custom("UF_CRM_1700000301", FT::kString, "VAT number", +[](const Row& r, const SeedContext&) {
    return gen::Chance(r.id, 531, 70) ? Text(absl::StrCat("EU", 100000000 + gen::Pick(r.id, 532, 899999999)))
                                      : Null();
  }));
  return new EntityDef("crm.company", std::move(f));
}

}  // namespace

const EntityDef& LeadDef() {
  static const EntityDef* def = MakeLead();
  return *def;
}
const EntityDef& DealDef() {
  static const EntityDef* def = MakeDeal();
  return *def;
}
const EntityDef& ContactDef() {
  static const EntityDef* def = MakeContact();
  return *def;
}
const EntityDef& CompanyDef() {
  static const EntityDef* def = MakeCompany();
  return *def;
}

}  // namespace b24emu::data
