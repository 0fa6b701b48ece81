#include "engine/gateway/input_limits.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "engine/common/field_text.h"

namespace b24gate {
namespace {

using Json = nlohmann::ordered_json;

// Walks one tree; recursion is bounded by max_depth (the wire decoder and
// the JSON text reader refuse deeper input before it gets here, and the
// walk stops at the limit anyway).
class Checker {
 public:
  Checker(const std::string& where, const InputLimits& limits) : where_(where), limits_(limits) {}

  absl::Status Check(const Json& value, const std::string& path, int depth) {
    switch (value.type()) {
      case Json::value_t::string:
        return CheckText(value.get_ref<const std::string&>(), path, "");
      case Json::value_t::number_float:
        if (!std::isfinite(value.get<double>())) {
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": ", std::isnan(value.get<double>()) ? "NaN" : "an infinite number",
              " has no JSON form (it would be sent as null); send a number or a string"));
        }
        return absl::OkStatus();
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
        return CheckInteger(value, path);
      case Json::value_t::object:
      case Json::value_t::array:
        return CheckContainer(value, path, depth + 1);
      default:
        return absl::OkStatus();
    }
  }

 private:
  absl::Status CheckContainer(const Json& value, const std::string& path, int depth) {
    if (depth > limits_.max_depth) {
      return absl::InvalidArgumentError(absl::StrCat(where_, ": nested deeper than the limit of ",
                                                     limits_.max_depth,
                                                     " levels (limits.max_depth), at ", path,
                                                     "; flatten the parameters"));
    }
    if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        if (absl::Status s = Check(value[i], absl::StrCat(path, "[", i, "]"), depth); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    for (const auto& [key, child] : value.items()) {
      if (absl::Status s = CheckText(key, path, key); !s.ok()) return s;
      if (absl::Status s = Check(child, absl::StrCat(path, ".", PathKey(key)), depth); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // A string value at `path`, or (`key` non-empty) a key of the object at
  // `path`.
  absl::Status CheckText(const std::string& text, const std::string& path, absl::string_view key) {
    const std::string what =
        key.empty() ? absl::StrCat(path, ":") : absl::StrCat(path, ": the key \"", PathKey(key), "\"");
    if (text.size() > limits_.max_string_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, key.empty() ? " a string of " : " has ", text.size(),
          " bytes, above the limit of ", limits_.max_string_bytes, " (limits.max_string_bytes)"));
    }
    if (size_t bad = FindInvalidUtf8(text); bad != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, key.empty() ? "" : " is", " not valid UTF-8 (byte ", bad, "); text must be UTF-8"));
    }
    if (size_t nul = text.find('\0'); nul != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " holds a NUL byte (byte ", nul,
          "), which Bitrix24 would cut the text at; remove it"));
    }
    return absl::OkStatus();
  }

  absl::Status CheckInteger(const Json& value, const std::string& path) {
    uint64_t magnitude;
    if (value.is_number_unsigned()) {
      magnitude = value.get<uint64_t>();
    } else {
      const int64_t v = value.get<int64_t>();
      magnitude = v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    }
    if (magnitude <= kMaxExactJsonInteger) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", value.dump(), " is beyond 2^53, which a JSON number does not carry exactly; "
        "send it as a string"));
  }

  const std::string& where_;
  const InputLimits& limits_;
};

}  // namespace

absl::Status CheckParams(const nlohmann::ordered_json& params, const std::string& where,
                         const InputLimits& limits) {
  Checker checker(where, limits);
  if (absl::Status s = checker.Check(params, where, 0); !s.ok()) return s;
  if (!params.is_structured()) return absl::OkStatus();
  // Measured once the content is known to be valid (dump() would throw on
  // text that is not UTF-8).
  const size_t bytes = params.dump().size();
  if (bytes > limits.max_params_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": ", bytes, " bytes as JSON, above the limit of ", limits.max_params_bytes,
        " (limits.max_params_bytes)"));
  }
  return absl::OkStatus();
}

absl::Status CheckCount(size_t count, size_t limit, absl::string_view field, absl::string_view what,
                        absl::string_view key, absl::string_view advice) {
  if (count <= limit) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", count, " ", what,
                                                 ", above the limit of ", limit, " (limits.", key,
                                                 ")", advice.empty() ? "" : "; ", advice));
}

}  // namespace b24gate
