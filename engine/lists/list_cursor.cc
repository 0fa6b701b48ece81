#include "engine/lists/list_cursor.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"

namespace b24gate {
namespace {

constexpr int kVersion = 1;

ListStrategyKind KindOf(const std::string& name) {
  for (ListStrategyKind k :
       {ListStrategyKind::kOffset, ListStrategyKind::kKeysetChain, ListStrategyKind::kParallelKeyset,
        ListStrategyKind::kV3Keyset, ListStrategyKind::kV3Tail, ListStrategyKind::kV3Offset,
        ListStrategyKind::kV3ParallelKeyset}) {
    if (name == ListStrategyName(k)) return k;
  }
  return ListStrategyKind::kDefault;
}

absl::Status NotACursor() {
  return absl::InvalidArgumentError(
      "resume_cursor: not a cursor this gateway made (pass the resume_cursor of a GetAll message "
      "unchanged)");
}

}  // namespace

const char* ListStrategyName(ListStrategyKind kind) {
  switch (kind) {
    case ListStrategyKind::kOffset: return "offset";
    case ListStrategyKind::kKeysetChain: return "keyset";
    case ListStrategyKind::kParallelKeyset: return "parallel_keyset";
    case ListStrategyKind::kV3Keyset: return "v3_keyset";
    case ListStrategyKind::kV3Tail: return "v3_tail";
    case ListStrategyKind::kV3Offset: return "v3_offset";
    case ListStrategyKind::kV3ParallelKeyset: return "v3_parallel_keyset";
    case ListStrategyKind::kDefault: break;
  }
  return "default";
}

uint64_t ListRequestHash(const std::string& method, const Json& params, const std::string& items_key) {
  // nlohmann::json (not ordered_json) sorts keys: a canonical text.
  std::string text = absl::StrCat(NormalizeMethod(method), "\n",
                                  nlohmann::json::parse(params.dump()).dump(), "\n", items_key);
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string EncodeListCursor(const ListCursor& cursor, uint64_t request_hash) {
  Json j = {{"v", kVersion},
            {"s", ListStrategyName(cursor.strategy)},
            {"n", cursor.delivered},
            {"h", absl::StrCat(absl::Hex(request_hash))},
            {"st", cursor.state}};
  return absl::WebSafeBase64Escape(j.dump());
}

absl::StatusOr<ListCursor> DecodeListCursor(const std::string& text, uint64_t request_hash) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(text, &raw)) return NotACursor();
  Json j = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
  // Types are checked before values are read: get<>/value() throw on a
  // mismatch, and the text comes from the client.
  if (!j.is_object() || !j.contains("v") || !j["v"].is_number_integer() || j["v"] != kVersion ||
      !j.contains("s") || !j["s"].is_string() ||
      !j.contains("n") || !j["n"].is_number_integer() || !j.contains("h") || !j["h"].is_string()) {
    return NotACursor();
  }
  ListCursor cursor;
  cursor.strategy = KindOf(j["s"].get<std::string>());
  cursor.delivered = j["n"].get<int64_t>();
  if (cursor.strategy == ListStrategyKind::kDefault || cursor.delivered < 0) return NotACursor();
  if (j["h"].get<std::string>() != absl::StrCat(absl::Hex(request_hash))) {
    return absl::InvalidArgumentError(
        "resume_cursor: made for another request; resume with the same method, params and "
        "items_key");
  }
  cursor.state = j.value("st", Json());
  return cursor;
}

}  // namespace b24gate
