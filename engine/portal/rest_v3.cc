#include "engine/portal/rest_v3.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace b24gate {

std::string V3Url(absl::string_view base_url, absl::string_view method) {
  const size_t scheme = base_url.find("://");
  const size_t from = scheme == absl::string_view::npos ? 0 : scheme + 3;
  const size_t rest = base_url.find("/rest/", from);
  if (rest == absl::string_view::npos) return absl::StrCat(base_url, "api/", method);
  const size_t after = rest + 6;  // past "/rest/"
  return absl::StrCat(base_url.substr(0, after), "api/", base_url.substr(after), method);
}

void MakeV3Request(const Auth& auth, const std::string& method,
                   const nlohmann::ordered_json& params, const std::string& idempotency_key,
                   HttpRequest* request) {
  request->url = V3Url(auth.base_url, method);
  request->content_type = "application/json";
  nlohmann::ordered_json body =
      params.is_object() ? params : nlohmann::ordered_json::object();
  if (!auth.access_token.empty()) body["auth"] = auth.access_token;
  request->body = body.dump();
  if (!idempotency_key.empty()) request->headers.emplace_back("Idempotency-Key", idempotency_key);
}

void MakeV3BatchRequest(const Auth& auth, const std::vector<BatchCommandSpec>& commands,
                        HttpRequest* request) {
  request->url = V3Url(auth.base_url, "batch");
  request->content_type = "application/json";
  nlohmann::ordered_json body = nlohmann::ordered_json::array();
  for (const BatchCommandSpec& c : commands) {
    body.push_back({{"method", c.method}, {"query", c.params}, {"as", c.key}});
  }
  request->body = body.dump();
  if (!auth.access_token.empty()) {
    request->headers.emplace_back("Authorization", absl::StrCat("Bearer ", auth.access_token));
  }
}

std::string NewIdempotencyKey() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("b24gate-%016x%016x", rng(), rng());
}

absl::Status CheckIdempotencyKey(absl::string_view key, absl::string_view field) {
  if (key.empty() || key.size() > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 1 to 255 characters, got ", key.size()));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] < ' ' || key[i] > '~') {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": only printable ASCII characters are allowed; byte ", i, " is not one"));
    }
  }
  return absl::OkStatus();
}

}  // namespace b24gate
