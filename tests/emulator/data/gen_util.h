// Deterministic building blocks for seeded values: a stateless hash of
// (row id, field salt) picks names, amounts and dates, so a value is the same
// on every run and can be recomputed on demand instead of stored.
#ifndef B24EMU_DATA_GEN_UTIL_H_
#define B24EMU_DATA_GEN_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "data/cell.h"

namespace b24emu::data::gen {

// splitmix64 finaliser over (id, salt).
inline uint64_t Mix(uint64_t id, uint64_t salt) {
  uint64_t z = id * 0x9E3779B97F4A7C15ULL + salt * 0xBF58476D1CE4E5B9ULL + 0x94D049BB133111EBULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, n).
inline uint64_t Pick(int64_t id, uint64_t salt, uint64_t n) { return Mix(id, salt) % n; }
// True with probability percent/100.
inline bool Chance(int64_t id, uint64_t salt, int percent) {
  return static_cast<int>(Mix(id, salt) % 100) < percent;
}

template <typename T, size_t N>
const T& PickFrom(int64_t id, uint64_t salt, const T (&arr)[N]) {
  return arr[Pick(id, salt, N)];
}

// An id from a seeded id list; nullopt when the list is empty.
inline const int64_t* PickId(int64_t id, uint64_t salt, const std::vector<int64_t>& ids) {
  if (ids.empty()) return nullptr;
  return &ids[Pick(id, salt, ids.size())];
}

inline Cell IdCell(const int64_t* id) {
  if (id == nullptr) return std::monostate{};
  return std::to_string(*id);
}

const char* FirstName(int64_t id, uint64_t salt);
const char* LastName(int64_t id, uint64_t salt);
// "Northwind Logistics LLC".
std::string CompanyName(int64_t id, uint64_t salt);
// "+1 415 555 0123"-like, 11 digits, deterministic.
std::string Phone(int64_t id, uint64_t salt);
// Lower-case "first.last123@example.com".
std::string Email(int64_t id, uint64_t salt);
// A sentence of filler text for COMMENTS / DESCRIPTION.
std::string Sentence(int64_t id, uint64_t salt);
const char* City(int64_t id, uint64_t salt);

// Creation time of row `id` of a table whose seeded ids end at `max_id`:
// spread over 2021-01-01 .. 2024-09-01, increasing with id as real
// autoincrement rows do, with a per-row jitter of a few minutes.
int64_t CreatedAt(int64_t id, int64_t max_id);

// Seeded multi-field item ids, unique across entities: (row id, entity code
// 0..7, slot 0..3). New items get ids from the portal's counter above these.
inline int64_t MultiId(int64_t row_id, int entity_code, int slot) {
  return row_id * 32 + entity_code * 4 + slot;
}

}  // namespace b24emu::data::gen

#endif  // B24EMU_DATA_GEN_UTIL_H_
