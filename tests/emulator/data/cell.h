// The value of one field of one row. Rows keep values in their wire text form
// ("410", "1000000.00", "Y", "2024-08-30T14:29:00+02:00"), so rendering a row
// into any of the wire styles is a formatting step, never a parse of stored
// state. Multi-fields (PHONE, EMAIL, ...) and contact links are structured.
#ifndef B24EMU_DATA_CELL_H_
#define B24EMU_DATA_CELL_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace b24emu::data {

// One item of a CRM multi-field: {"ID":"156","VALUE_TYPE":"WORK","VALUE":"+1..."}.
struct MultiValue {
  int64_t id = 0;
  std::string value_type;
  std::string value;
};

// One deal/lead → contact binding, as crm.deal.contact.items.get shows it.
struct ContactLink {
  int64_t contact_id = 0;
  int sort = 10;
  int role_id = 0;
  bool is_primary = false;
};

using MultiList = std::vector<MultiValue>;
using LinkList = std::vector<ContactLink>;

// monostate is SQL NULL: the field is empty (rendered as null).
using Cell = std::variant<std::monostate, std::string, MultiList, LinkList>;

inline bool IsNull(const Cell& c) { return std::holds_alternative<std::monostate>(c); }
// The text of a cell, or nullptr. Points into `c`: never pass a temporary.
inline const std::string* AsText(const Cell& c) { return std::get_if<std::string>(&c); }
const std::string* AsText(const Cell&& c) = delete;

}  // namespace b24emu::data

#endif  // B24EMU_DATA_CELL_H_
