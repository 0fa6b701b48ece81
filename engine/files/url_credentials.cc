#include "engine/files/url_credentials.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace b24gate {
namespace {

// Whether a query parameter (`name=value`, still encoded) is an auth one.
bool IsAuthParam(absl::string_view param) {
  absl::string_view name = param.substr(0, param.find('='));
  std::string lower = absl::AsciiStrToLower(name);
  return lower == "auth" || absl::StartsWith(lower, "auth[") || absl::StartsWith(lower, "auth%5b");
}

bool LooksLikeLink(absl::string_view text) {
  return absl::StartsWithIgnoreCase(text, "http://") ||
         absl::StartsWithIgnoreCase(text, "https://") || absl::StartsWith(text, "/");
}

}  // namespace

std::string WithoutAuthParams(absl::string_view url) {
  const size_t query = url.find('?');
  if (query == absl::string_view::npos || !LooksLikeLink(url)) return std::string(url);
  absl::string_view rest = url.substr(query + 1);
  absl::string_view fragment;
  if (const size_t hash = rest.find('#'); hash != absl::string_view::npos) {
    fragment = rest.substr(hash);
    rest = rest.substr(0, hash);
  }
  std::vector<absl::string_view> kept;
  bool dropped = false;
  for (absl::string_view param : absl::StrSplit(rest, '&')) {
    if (IsAuthParam(param)) {
      dropped = true;
    } else {
      kept.push_back(param);
    }
  }
  if (!dropped) return std::string(url);
  std::string out(url.substr(0, query));
  if (!kept.empty()) out += "?" + absl::StrJoin(kept, "&");
  out.append(fragment.data(), fragment.size());
  return out;
}

bool MayCarryAuthParam(absl::string_view text) {
  // Lower-cased only when there is a query at all.
  return text.find('?') != absl::string_view::npos &&
         absl::StrContains(absl::AsciiStrToLower(text), "auth");
}

}  // namespace b24gate
