#include "engine/bitrix/method_traits.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/field_text.h"

namespace b24gate {

std::string NormalizeMethod(absl::string_view method) {
  std::string m = absl::AsciiStrToLower(absl::StripAsciiWhitespace(method));
  while (!m.empty() && m.back() == '/') m.pop_back();
  if (absl::EndsWith(m, ".json")) m.resize(m.size() - 5);
  return m;
}

absl::Status ValidateMethodName(absl::string_view method) {
  if (method.empty()) return absl::InvalidArgumentError("method: must not be empty");
  if (method.size() > kMaxMethodBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "method: \"", EchoText(method), "\" has ", method.size(),
        " bytes, above the limit of ", kMaxMethodBytes, " for a method name"));
  }
  for (absl::string_view part : absl::StrSplit(method, '.')) {
    if (part.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("method: \"", method, "\" has an empty name part"));
    }
    for (char c : part) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
        return absl::InvalidArgumentError(absl::StrCat(
            "method: \"", method,
            "\" may contain only letters, digits, '_' and '.' (parameters go in params)"));
      }
    }
  }
  return absl::OkStatus();
}

bool IsReadMethod(absl::string_view method) {
  static const auto* kReadVerbs = new std::set<std::string>{
      "get",    "list",   "fields", "search", "current", "getlist", "getfields",
      "count",  "export", "info",   "access", "scope",   "methods", "getchildren", "tail",
  };
  std::string m = NormalizeMethod(method);
  std::string last = m.substr(m.rfind('.') == std::string::npos ? 0 : m.rfind('.') + 1);
  if (kReadVerbs->count(last)) return true;
  // "crm.deal.contact.items.get" ends in get already; "profile", "server.time"
  // and friends are single-word reads.
  static const auto* kReadMethods = new std::set<std::string>{"profile", "server.time", "app.info",
                                                               "user.access", "methods", "scope"};
  return kReadMethods->count(m) > 0;
}

std::optional<ListShape> KnownListShape(absl::string_view method) {
  // Upper-case CRM lists: result is the list, keyset over "ID".
  static const ListShape kCrmFlat{"", "ID", "ID", "ID"};
  static const auto* kTable = new std::map<std::string, ListShape>{
      {"crm.lead.list", kCrmFlat},
      {"crm.deal.list", kCrmFlat},
      {"crm.contact.list", kCrmFlat},
      {"crm.company.list", kCrmFlat},
      {"crm.quote.list", kCrmFlat},
      {"crm.activity.list", kCrmFlat},
      {"crm.requisite.list", kCrmFlat},
      {"crm.invoice.list", kCrmFlat},
      {"crm.product.list", kCrmFlat},
      // Flat lists the gateway reads by offset only (own sort parameters,
      // no `order` map, or small dictionaries).
      {"crm.status.list", ListShape{}},
      {"crm.address.list", ListShape{}},
      {"crm.timeline.comment.list", ListShape{}},
      {"crm.deal.contact.items.get", ListShape{}},
      {"crm.deal.productrows.get", ListShape{}},
      {"user.get", ListShape{}},
      {"user.search", ListShape{}},
      {"department.get", ListShape{}},
      {"lists.element.get", ListShape{}},
      {"entity.item.get", ListShape{}},
      {"disk.folder.getchildren", ListShape{}},
      {"calendar.event.get", ListShape{}},
      {"bizproc.task.list", ListShape{}},
      // Wrapped lists.
      {"crm.item.list", ListShape{"items", "id", "id", "id"}},
      {"crm.stagehistory.list", ListShape{"items", "", "", ""}},
      {"tasks.task.list", ListShape{"tasks", "ID", "ID", "id"}},
      {"crm.type.list", ListShape{"types", "", "", ""}},
      {"crm.category.list", ListShape{"categories", "", "", ""}},
      {"userfieldconfig.list", ListShape{"fields", "", "", ""}},
      {"catalog.product.list", ListShape{"products", "", "", ""}},
      {"catalog.product.offer.list", ListShape{"offers", "", "", ""}},
      {"catalog.price.list", ListShape{"prices", "", "", ""}},
      {"catalog.store.list", ListShape{"stores", "", "", ""}},
      {"catalog.document.list", ListShape{"documents", "", "", ""}},
      {"sale.order.list", ListShape{"orders", "", "", ""}},
      {"sale.payment.list", ListShape{"payments", "", "", ""}},
      {"sale.basketitem.list", ListShape{"basketItems", "", "", ""}},
  };
  auto it = kTable->find(NormalizeMethod(method));
  if (it == kTable->end()) return std::nullopt;
  return it->second;
}

}  // namespace b24gate
