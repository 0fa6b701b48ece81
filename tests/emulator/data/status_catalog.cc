#include "data/status_catalog.h"

#include <cstring>

namespace b24emu::data {

const std::vector<StatusEntry>& AllStatuses() {
  static const auto* kList = new std::vector<StatusEntry>{
      {"STATUS", "NEW", "Unassigned", 10, nullptr, "#39A8EF", -1},
      {"STATUS", "IN_PROCESS", "In progress", 20, nullptr, "#2FC6F6", -1},
      {"STATUS", "PROCESSED", "Processed", 30, nullptr, "#55D0E0", -1},
      {"STATUS", "CONVERTED", "Good lead", 40, "S", "#7BD500", -1},
      {"STATUS", "JUNK", "Junk lead", 50, "F", "#FF5752", -1},
      {"SOURCE", "CALL", "Call", 10, nullptr, nullptr, -1},
      {"SOURCE", "EMAIL", "E-Mail", 20, nullptr, nullptr, -1},
      {"SOURCE", "WEB", "Website", 30, nullptr, nullptr, -1},
      {"SOURCE", "ADVERTISING", "Advertising", 40, nullptr, nullptr, -1},
      {"SOURCE", "PARTNER", "Existing client", 50, nullptr, nullptr, -1},
      {"SOURCE", "RECOMMENDATION", "By recommendation", 60, nullptr, nullptr, -1},
      {"SOURCE", "TRADE_SHOW", "Show/Exhibition", 70, nullptr, nullptr, -1},
      {"SOURCE", "WEBFORM", "CRM form", 80, nullptr, nullptr, -1},
      {"SOURCE", "CALLBACK", "Callback", 90, nullptr, nullptr, -1},
      {"SOURCE", "OTHER", "Other", 100, nullptr, nullptr, -1},
      {"DEAL_STAGE", "NEW", "New", 10, nullptr, "#39A8EF", 0},
      {"DEAL_STAGE", "PREPARATION", "Preparing documents", 20, nullptr, "#2FC6F6", 0},
      {"DEAL_STAGE", "PREPAYMENT_INVOICE", "Invoice", 30, nullptr, "#55D0E0", 0},
      {"DEAL_STAGE", "EXECUTING", "In progress", 40, nullptr, "#47E4C2", 0},
      {"DEAL_STAGE", "FINAL_INVOICE", "Final invoice", 50, nullptr, "#FFA900", 0},
      {"DEAL_STAGE", "WON", "Deal won", 60, "S", "#7BD500", 0},
      {"DEAL_STAGE", "LOSE", "Deal lost", 70, "F", "#FF5752", 0},
      {"DEAL_STAGE", "APOLOGY", "Analyze failure", 80, "F", "#FF5752", 0},
      {"DEAL_TYPE", "SALE", "Sales", 10, nullptr, nullptr, -1},
      {"DEAL_TYPE", "COMPLEX", "Integrated sale", 20, nullptr, nullptr, -1},
      {"DEAL_TYPE", "GOODS", "Merchandise sale", 30, nullptr, nullptr, -1},
      {"DEAL_TYPE", "SERVICES", "Service sale", 40, nullptr, nullptr, -1},
      {"DEAL_TYPE", "SERVICE", "After-sales service", 50, nullptr, nullptr, -1},
      {"CONTACT_TYPE", "CLIENT", "Clients", 10, nullptr, nullptr, -1},
      {"CONTACT_TYPE", "SUPPLIER", "Suppliers", 20, nullptr, nullptr, -1},
      {"CONTACT_TYPE", "PARTNER", "Partners", 30, nullptr, nullptr, -1},
      {"CONTACT_TYPE", "OTHER", "Other", 40, nullptr, nullptr, -1},
      {"COMPANY_TYPE", "CUSTOMER", "Client", 10, nullptr, nullptr, -1},
      {"COMPANY_TYPE", "SUPPLIER", "Supplier", 20, nullptr, nullptr, -1},
      {"COMPANY_TYPE", "COMPETITOR", "Competitor", 30, nullptr, nullptr, -1},
      {"COMPANY_TYPE", "PARTNER", "Partner", 40, nullptr, nullptr, -1},
      {"COMPANY_TYPE", "OTHER", "Other", 50, nullptr, nullptr, -1},
      {"INDUSTRY", "IT", "Information Technology", 10, nullptr, nullptr, -1},
      {"INDUSTRY", "TELECOM", "Telecommunication", 20, nullptr, nullptr, -1},
      {"INDUSTRY", "MANUFACTURING", "Manufacturing", 30, nullptr, nullptr, -1},
      {"INDUSTRY", "BANKING", "Banking Services", 40, nullptr, nullptr, -1},
      {"INDUSTRY", "CONSULTING", "Consulting", 50, nullptr, nullptr, -1},
      {"INDUSTRY", "FINANCE", "Finance", 60, nullptr, nullptr, -1},
      {"INDUSTRY", "DELIVERY", "Delivery", 70, nullptr, nullptr, -1},
      {"INDUSTRY", "OTHER", "Other", 80, nullptr, nullptr, -1},
      {"EMPLOYEES", "EMPLOYEES_1", "less than 50", 10, nullptr, nullptr, -1},
      {"EMPLOYEES", "EMPLOYEES_2", "50-250", 20, nullptr, nullptr, -1},
      {"EMPLOYEES", "EMPLOYEES_3", "250-500", 30, nullptr, nullptr, -1},
      {"EMPLOYEES", "EMPLOYEES_4", "over 500", 40, nullptr, nullptr, -1},
      {"DYNAMIC_128_STAGE_9", "DT128_9:NEW", "Start", 10, nullptr, "#39A8EF", 9},
      {"DYNAMIC_128_STAGE_9", "DT128_9:PREPARATION", "Preparation", 20, nullptr, "#2FC6F6", 9},
      {"DYNAMIC_128_STAGE_9", "DT128_9:CLIENT", "Client review", 30, nullptr, "#55D0E0", 9},
      {"DYNAMIC_128_STAGE_9", "DT128_9:SUCCESS", "Success", 40, "S", "#7BD500", 9},
      {"DYNAMIC_128_STAGE_9", "DT128_9:FAIL", "Failure", 50, "F", "#FF5752", 9},
  };
  return *kList;
}

const char* SemanticOf(const char* entity_id, const std::string& status_id) {
  for (const StatusEntry& e : AllStatuses()) {
    if (std::strcmp(e.entity_id, entity_id) == 0 && status_id == e.status_id) {
      return e.semantics == nullptr ? "P" : e.semantics;
    }
  }
  return "P";
}

}  // namespace b24emu::data
