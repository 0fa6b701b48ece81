// Helpers for data-layer tests: a seeded portal and one-line method calls.
#ifndef B24EMU_DATA_TEST_TEST_UTIL_H_
#define B24EMU_DATA_TEST_TEST_UTIL_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/seed.h"
#include "method_api.h"

namespace b24emu::data::testing {

using json = nlohmann::json;

inline std::unique_ptr<MethodTable> Portal(const std::string& spec) {
  std::string error;
  std::unique_ptr<MethodTable> p = MakeSeededPortal(spec, &error);
  EXPECT_NE(p, nullptr) << error;
  return p;
}

inline MethodResult Call(MethodTable& portal, const std::string& method, json params = json::object(),
                         int64_t user_id = 1) {
  MethodCall call;
  call.method = method;
  call.params = std::move(params);
  call.user_id = user_id;
  EXPECT_TRUE(portal.HasMethod(method)) << method;
  return portal.Invoke(call);
}

// The ids of a flat list result (ID as string) or of wrapped items (`key`,
// lower-case id).
inline std::vector<int64_t> Ids(const json& rows) {
  std::vector<int64_t> out;
  for (const json& r : rows) {
    const json& id = r.contains("ID") ? r["ID"] : r["id"];
    out.push_back(id.is_string() ? std::stoll(id.get<std::string>()) : id.get<int64_t>());
  }
  return out;
}

inline std::set<int64_t> IdSet(const json& rows) {
  std::vector<int64_t> v = Ids(rows);
  return {v.begin(), v.end()};
}

}  // namespace b24emu::data::testing

#endif  // B24EMU_DATA_TEST_TEST_UTIL_H_
