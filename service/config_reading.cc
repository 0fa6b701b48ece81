#include "service/config_reading.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

// Line and column of byte `offset` in `text`, for parse errors (the text
// itself is never quoted: it may hold a webhook).
std::string PositionOf(const std::string& text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return absl::StrCat("line ", line, ", column ", column);
}

// Follows nlohmann's parse events to know where in the document it is, and
// remembers the path of the first key given twice in one object.
class DuplicateKeyFinder {
 public:
  bool OnEvent(ConfigJson::parse_event_t event, const ConfigJson& parsed) {
    using Event = ConfigJson::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        stack_.push_back(Frame{event == Event::array_start});
        break;
      case Event::key: {
        Frame& f = stack_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second && duplicate_.empty()) duplicate_ = Path();
        break;
      }
      case Event::object_end:
      case Event::array_end:
        stack_.pop_back();
        [[fallthrough]];
      case Event::value:
        if (!stack_.empty() && stack_.back().array) ++stack_.back().index;
        break;
    }
    return true;
  }

  // "config.a[2].b" of the first duplicate key, or "".
  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool array = false;
    size_t index = 0;    // arrays: the element being read
    std::string key;     // objects: the key being read
    std::set<std::string> keys;
  };
  std::string Path() const {
    std::string path = "config";
    for (const Frame& f : stack_) {
      absl::StrAppend(&path, f.array ? absl::StrCat("[", f.index, "]") : absl::StrCat(".", f.key));
    }
    return path;
  }

  std::vector<Frame> stack_;
  std::string duplicate_;
};

}  // namespace

absl::Status Bad(absl::string_view where, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", why));
}

absl::Status ReadString(const ConfigJson& j, const char* key, const std::string& where, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_string()) return Bad(absl::StrCat(where, ".", key), "must be a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadNumber(const ConfigJson& j, const char* key, const std::string& where, double* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_number()) return Bad(absl::StrCat(where, ".", key), "must be a number");
  *out = it->get<double>();
  return absl::OkStatus();
}

absl::Status ReadBool(const ConfigJson& j, const char* key, const std::string& where, bool* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_boolean()) return Bad(absl::StrCat(where, ".", key), "must be true or false");
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status ReadStringList(const ConfigJson& j, const char* key, const std::string& where,
                            std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (it->is_string()) {
    *out = {it->get<std::string>()};
    return absl::OkStatus();
  }
  if (!it->is_array()) return Bad(absl::StrCat(where, ".", key), "must be a list of strings");
  std::vector<std::string> values;
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) return Bad(absl::StrCat(where, ".", key, "[", i, "]"), "must be a string");
    values.push_back((*it)[i].get<std::string>());
  }
  *out = std::move(values);
  return absl::OkStatus();
}

absl::Status CheckKeys(const ConfigJson& j, const std::string& where, const std::vector<std::string>& known) {
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    for (const auto& k : known) ok = ok || key == k;
    if (!ok) return Bad(absl::StrCat(where, ".", key), "unknown setting");
  }
  return absl::OkStatus();
}

absl::Status CheckReadableFile(const std::string& path, const std::string& what) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Bad(what, absl::StrCat("cannot read \"", path, "\": ", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) return Bad(what, absl::StrCat("\"", path, "\" is a directory, not a file"));
  if (!std::ifstream(path)) return Bad(what, absl::StrCat("cannot read \"", path, "\""));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  B24GATE_RETURN_IF_ERROR(CheckReadableFile(path, what));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Bad(what, absl::StrCat("cannot read \"", path, "\""));
  return text.str();
}

absl::Status ReadSeconds(const ConfigJson& j, const char* key, const std::string& where, double min,
                         double max, absl::Duration* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  // `!(a <= v && v <= b)` is also true for NaN.
  if (!it->is_number() || !(it->get<double>() >= min && it->get<double>() <= max)) {
    return Bad(absl::StrCat(where, ".", key), absl::StrCat("must be a number of seconds in ", min,
                                                           "..", max));
  }
  *out = absl::Seconds(it->get<double>());
  return absl::OkStatus();
}

absl::StatusOr<ConfigJson> ParseConfigJson(const std::string& text, const std::string& what) {
  DuplicateKeyFinder finder;
  ConfigJson j;
  try {
    j = ConfigJson::parse(text, [&finder](int, ConfigJson::parse_event_t event, ConfigJson& parsed) {
      return finder.OnEvent(event, parsed);
    });
  } catch (const ConfigJson::parse_error& e) {
    // e.what() quotes the last token read, which may be a secret.
    bool at_end = e.byte >= text.size();
    return Bad(what, absl::StrCat("not valid JSON: ",
                                  at_end ? "unexpected end of file (truncated?)" : "syntax error",
                                  " at ", PositionOf(text, e.byte == 0 ? 0 : e.byte - 1)));
  } catch (const ConfigJson::out_of_range&) {
    return Bad(what, "not valid JSON: a number beyond the range of a double");  // e.g. 1e600
  }
  if (!finder.duplicate().empty()) {
    return Bad(finder.duplicate(), "given twice in one object (each key may appear once)");
  }
  return j;
}

}  // namespace b24gate
