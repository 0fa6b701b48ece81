#include "engine/bitrix/answer_json.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

using Json = nlohmann::ordered_json;

// Builds an answer's tree in one pass and without recursion (nlohmann's SAX
// parser keeps its own stack), refusing it past kMaxAnswerDepth levels, so
// no later step (copies, dumps, protobuf conversion, all recursive) meets a
// deep tree. Integers beyond 2^53 become their exact text: the answer
// travels on as protobuf Values, whose numbers are doubles.
//
// Each container is built whole when it closes, from members and elements
// gathered on two flat stacks, with its exact size reserved. Not for style:
// an ordered_json object is a vector of pair<const string, json>, whose
// move may throw (the const key is copied), so a vector that grows COPIES
// its members, values and all: nlohmann's own DOM parser, adding members
// one by one, copied 63 pages of a 50-page batch answer (its `result` map
// grows past 1, 2, 4, 8, 16 and 32 pages; so does `result_time`) and each
// item's first field. Measured with tests/bench/batch_answer_bench (a 168 KB
// answer of 2,500 leads): ParseBatchResponse 3.1 -> 1.2 ms.
class AnswerReader {
 public:
  explicit AnswerReader(Json* root) : root_(root) {}

  bool too_deep() const { return too_deep_; }

  bool null() { return Put(Json(nullptr)); }
  bool boolean(bool value) { return Put(Json(value)); }
  bool number_integer(Json::number_integer_t value) {
    if (value >= -kExact && value <= kExact) return Put(Json(value));
    return Put(Json(std::to_string(value)));
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    if (value <= static_cast<uint64_t>(kExact)) return Put(Json(value));
    return Put(Json(std::to_string(value)));
  }
  bool number_float(Json::number_float_t value, const Json::string_t& literal) {
    // An integer literal arrives here when 64 bits cannot hold it.
    if (literal.find_first_of(".eE") == Json::string_t::npos) return Put(Json(literal));
    return Put(Json(value));
  }
  bool string(Json::string_t& value) { return Put(Json(value)); }
  bool binary(Json::binary_t&) { return false; }  // JSON text has none
  bool start_object(std::size_t) { return Open(/*object=*/true); }
  bool key(Json::string_t& name) {
    members_.emplace_back(name, nullptr);
    return true;
  }
  bool end_object();
  bool start_array(std::size_t) { return Open(/*object=*/false); }
  bool end_array();
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  static constexpr int64_t kExact = int64_t{1} << 53;

  // An open container: where its members (or elements) start on the stacks.
  struct Frame {
    bool object;
    size_t first;
  };

  bool Open(bool object) {
    too_deep_ = static_cast<int>(open_.size()) >= kMaxAnswerDepth;
    if (too_deep_) return false;
    open_.push_back({object, object ? members_.size() : elements_.size()});
    return true;
  }
  // A finished value goes to its container's stack, or is the root.
  bool Put(Json value) {
    if (open_.empty()) {
      *root_ = std::move(value);
    } else if (open_.back().object) {
      members_.back().second = std::move(value);
    } else {
      elements_.push_back(std::move(value));
    }
    return true;
  }

  Json* root_;
  std::vector<Frame> open_;
  std::vector<std::pair<std::string, Json>> members_;
  std::vector<Json> elements_;
  bool too_deep_ = false;
};

bool AnswerReader::end_object() {
  const size_t first = open_.back().first;
  open_.pop_back();
  Json object(Json::value_t::object);
  Json::object_t& map = *object.get_ptr<Json::object_t*>();
  map.reserve(members_.size() - first);
  for (size_t i = first; i < members_.size(); ++i) {
    auto& [name, value] = members_[i];
    // A repeated name: its first place, its last value. Objects are small
    // (a row's fields, a batch's keys), and nlohmann's own insertion
    // searched the same way.
    auto same = map.begin();
    while (same != map.end() && same->first != name) ++same;
    if (same != map.end()) {
      same->second = std::move(value);
    } else {
      map.emplace_back(std::move(name), std::move(value));
    }
  }
  members_.resize(first);
  return Put(std::move(object));
}

bool AnswerReader::end_array() {
  const size_t first = open_.back().first;
  open_.pop_back();
  Json array(Json::value_t::array);
  Json::array_t& list = *array.get_ptr<Json::array_t*>();
  list.reserve(elements_.size() - first);
  for (size_t i = first; i < elements_.size(); ++i) list.push_back(std::move(elements_[i]));
  elements_.resize(first);
  return Put(std::move(array));
}

}  // namespace

absl::StatusOr<nlohmann::ordered_json> ReadAnswerJson(const std::string& text) {
  Json root;
  AnswerReader reader(&root);
  if (Json::sax_parse(text, &reader)) return root;
  return GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse,
                      reader.too_deep()
                          ? absl::StrCat("nested deeper than ", kMaxAnswerDepth, " levels")
                          : std::string("not JSON"));
}

}  // namespace b24gate
