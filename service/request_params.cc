#include "service/request_params.h"

#include <string>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/common/field_text.h"
#include "service/json_value.h"

namespace b24gate {
namespace {

// nlohmann's messages open with "[json.exception.parse_error.101] "; the
// rest ("parse error at line 1, column 9: syntax error ...") is for people.
absl::string_view WithoutExceptionId(absl::string_view what) {
  if (!what.empty() && what.front() == '[') {
    size_t end = what.find("] ");
    if (end != absl::string_view::npos) what.remove_prefix(end + 2);
  }
  return what;
}

// A SAX reader that stops at the first syntax error, where the text nests
// deeper than the limit, or at a key given twice in one object; it keeps one
// frame per open level (with the keys of an object read so far), so its
// memory is bounded by the limit and the text.
class TextCheck : public nlohmann::json_sax<nlohmann::ordered_json> {
 public:
  TextCheck(absl::string_view field, int max_depth) : field_(field), max_depth_(max_depth) {}
  const absl::Status& status() const { return status_; }

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t& literal) override {
    Value();
    // An integer literal too large for 64 bits arrives as a double, rounded.
    if (literal.find_first_of(".eE") != string_t::npos) return true;
    status_ = absl::InvalidArgumentError(absl::StrCat(
        Path(), ": ", literal.substr(0, 40), literal.size() > 40 ? "..." : "",
        " is beyond 2^53, which a JSON number does not carry exactly; send it as a string"));
    return false;
  }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Open(false); }
  bool key(string_t& key) override {
    Level& level = levels_.back();
    level.key = key;
    if (level.keys.insert(key).second) return true;
    // nlohmann keeps the last of the two; other readers the first.
    status_ = absl::InvalidArgumentError(absl::StrCat(
        Path(), ": the key is given twice in one object; JSON readers disagree on which one "
        "counts, so give it once"));
    return false;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(true); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    status_ = absl::InvalidArgumentError(absl::StrCat(field_, ": not valid JSON (byte ", position,
                                                      "): ", WithoutExceptionId(e.what())));
    return false;
  }

 private:
  struct Level {
    bool array;
    size_t next_index = 0;
    std::string key;
    std::unordered_set<std::string> keys;  // of an object, read so far
  };

  // Counts a value in the open list, for the path.
  bool Value() {
    if (!levels_.empty() && levels_.back().array) ++levels_.back().next_index;
    return true;
  }
  bool Open(bool array) {
    Value();
    if (static_cast<int>(levels_.size()) >= max_depth_) {
      status_ = absl::InvalidArgumentError(absl::StrCat(
          field_, ": nested deeper than the limit of ", max_depth_,
          " levels (limits.max_depth), at ", Path(), "; flatten the parameters"));
      return false;
    }
    levels_.push_back({array});
    return true;
  }
  bool Close() {
    levels_.pop_back();
    return true;
  }
  // The path to the value being read, its middle cut when long.
  std::string Path() const {
    std::string path(field_);
    for (size_t i = 0; i < levels_.size(); ++i) {
      if (levels_.size() > 13 && i == 10) {
        absl::StrAppend(&path, "...(", levels_.size() - 12, " more)...");
        i = levels_.size() - 2;
      }
      const Level& l = levels_[i];
      if (l.array) {
        absl::StrAppend(&path, "[", l.next_index - 1, "]");
      } else {
        absl::StrAppend(&path, ".", PathKey(l.key));
      }
    }
    return path;
  }

  const std::string field_;
  const int max_depth_;
  std::vector<Level> levels_;
  absl::Status status_;
};

absl::Status BothGiven(const ParamsFields& fields) {
  return absl::InvalidArgumentError(absl::StrCat(fields.params, " and ", fields.params_json,
                                                 " are exclusive: give the parameters once"));
}

absl::StatusOr<nlohmann::ordered_json> FromText(const std::string& params_json,
                                                const ParamsFields& fields, bool object_only);

}  // namespace

absl::StatusOr<nlohmann::ordered_json> ParseJsonText(const std::string& text,
                                                     absl::string_view field, int max_depth) {
  // First a pass that checks syntax and depth without building anything...
  TextCheck check(field, max_depth);
  nlohmann::ordered_json::sax_parse(text, &check);
  if (!check.status().ok()) return check.status();
  // ... then the tree. nlohmann reports errors only through exceptions; this
  // is the one place the service catches them (none is expected here).
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::ordered_json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not valid JSON: ", WithoutExceptionId(e.what())));
  }
}

namespace {

// An unset text is an empty object, so a request without parameters is valid.
absl::StatusOr<nlohmann::ordered_json> FromText(const std::string& params_json,
                                                const ParamsFields& fields, bool object_only) {
  if (params_json.empty()) return nlohmann::ordered_json::object();
  absl::StatusOr<nlohmann::ordered_json> parsed =
      ParseJsonText(params_json, fields.params_json, fields.max_depth);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object() && (object_only || !parsed->is_array())) {
    return absl::InvalidArgumentError(
        absl::StrCat(fields.params_json, ": must be a JSON object",
                     object_only ? "" : " (or a list for positional methods)", ", got ",
                     parsed->type_name()));
  }
  return parsed;
}

}  // namespace

absl::StatusOr<nlohmann::ordered_json> ParamsOrJson(const google::protobuf::Value* params,
                                                    const std::string& params_json,
                                                    const ParamsFields& fields, bool object_only) {
  if (params != nullptr && !params_json.empty()) return BothGiven(fields);
  if (params != nullptr) return ToJson(*params);
  return FromText(params_json, fields, object_only);
}

absl::StatusOr<nlohmann::ordered_json> ParamsOrJson(const google::protobuf::Struct* params,
                                                    const std::string& params_json,
                                                    const ParamsFields& fields) {
  if (params != nullptr && !params_json.empty()) return BothGiven(fields);
  if (params != nullptr) return ToJson(*params);
  return FromText(params_json, fields, /*object_only=*/true);
}

}  // namespace b24gate
