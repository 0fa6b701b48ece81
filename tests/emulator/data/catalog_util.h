// Shorthands for writing field catalogs (internal to catalog_*.cc).
#ifndef B24EMU_DATA_CATALOG_UTIL_H_
#define B24EMU_DATA_CATALOG_UTIL_H_

#include <string>
#include <utility>

#include "data/entity_def.h"
#include "data/gen_util.h"
#include "data/table.h"
#include "data/values.h"

namespace b24emu::data::catalog {

inline FieldDef F(std::string name, FieldType type, std::string title, Generator gen = nullptr) {
  FieldDef f;
  f.name = std::move(name);
  f.type = type;
  f.title = std::move(title);
  f.gen = gen;
  return f;
}
inline FieldDef ReadOnly(FieldDef f) {
  f.read_only = true;
  return f;
}
inline FieldDef Required(FieldDef f) {
  f.required = true;
  return f;
}
inline FieldDef Camel(FieldDef f, std::string camel) {
  f.camel = std::move(camel);
  return f;
}
inline FieldDef Status(FieldDef f, std::string status_type) {
  f.status_type = std::move(status_type);
  return f;
}
inline FieldDef Derived(FieldDef f, Deriver d) {
  f.derive = d;
  f.read_only = true;
  return f;
}
inline FieldDef Multi(std::string name, std::string title, Generator gen = nullptr) {
  FieldDef f = F(std::move(name), FieldType::kCrmMultifield, std::move(title), gen);
  f.multiple = true;
  return f;
}
inline FieldDef Links(std::string name, std::string title, Generator gen) {
  FieldDef f = F(std::move(name), FieldType::kContactLinks, std::move(title), gen);
  f.multiple = true;
  return f;
}
inline FieldDef Custom(std::string name, FieldType type, std::string label, Generator gen) {
  FieldDef f = F(std::move(name), type, std::move(label), gen);
  f.custom = true;
  return f;
}
inline FieldDef IdField() { return ReadOnly(F("ID", FieldType::kInteger, "ID")); }

inline Cell Text(std::string s) { return Cell(std::move(s)); }
inline Cell Null() { return std::monostate{}; }

// "Y" when the multi-field `name` of the row has an item.
inline Cell HasMulti(const Table& t, const Row& r, const char* name) {
  int i = t.def().Find(name);
  if (i < 0) return Text("N");
  Cell c = t.Get(r, i);
  const MultiList* l = std::get_if<MultiList>(&c);
  return Text(l != nullptr && !l->empty() ? "Y" : "N");
}

// Text of another field of the row ("" when null).
inline std::string FieldText(const Table& t, const Row& r, const char* name) {
  int i = t.def().Find(name);
  if (i < 0) return "";
  Cell c = t.Get(r, i);
  const std::string* s = AsText(c);
  return s == nullptr ? "" : *s;
}

}  // namespace b24emu::data::catalog

#endif  // B24EMU_DATA_CATALOG_UTIL_H_
