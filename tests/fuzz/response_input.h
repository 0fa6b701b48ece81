// The input format shared by the response fuzz targets, readable so that seed
// and regression inputs in corpus/ can be written and reviewed by hand:
//
//   STATUS [KEY ...]\n
//   BODY
//
// STATUS is the HTTP status (a number; "unsent" or "lost" stand for the two
// transport failures); the KEYs are the batch's command keys (batch target
// only). Without a newline the whole input is the body of a 200 answer.
//
// CheckUnreadable() is the property both targets share for a failed parse.
#ifndef B24GATE_TESTS_FUZZ_RESPONSE_INPUT_H_
#define B24GATE_TESTS_FUZZ_RESPONSE_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/common/errors.h"
#include "engine/http/http_transport.h"
#include "tests/fuzz/fuzz_check.h"

namespace b24gate::fuzz {

struct ResponseInput {
  HttpResponse response;
  std::vector<std::string> keys;
};

inline ResponseInput ReadResponseInput(const uint8_t* data, size_t size) {
  ResponseInput in;
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t newline = text.find('\n');
  in.response.status = 200;
  if (newline == std::string::npos) {
    in.response.body = text;
    return in;
  }
  std::vector<std::string> header =
      absl::StrSplit(text.substr(0, newline), ' ', absl::SkipEmpty());
  in.response.body = text.substr(newline + 1);
  if (header.empty()) return in;
  if (header[0] == "unsent" || header[0] == "lost") {
    in.response.failure =
        header[0] == "unsent" ? TransportFailure::kNotSent : TransportFailure::kAfterSend;
    in.response.failure_message = "connection refused";
    in.response.status = 0;
  } else if (!absl::SimpleAtoi(header[0], &in.response.status)) {
    in.response.status = 200;
  }
  in.keys.assign(header.begin() + 1, header.end());
  return in;
}

// A failed parse is UNAVAILABLE, or, for a 4xx page that is not Bitrix24's,
// a refusal of the request: NOT_EXECUTED. Only a 4xx may claim that the
// request was not run (a write so answered is repeated); a malformed JSON
// object under a 4xx may stay UNAVAILABLE, the cautious answer. The message is
// one short line: it quotes at most a snippet of the body, without control
// characters, so it is safe in logs and in gRPC statuses (valid UTF-8).
inline void CheckUnreadable(const absl::Status& status, int http_status) {
  const bool refused = http_status >= 400 && http_status < 500;
  if (ReasonOf(status) == "NOT_EXECUTED") {
    FUZZ_CHECK(refused, "NOT_EXECUTED claimed for HTTP " + std::to_string(http_status));
  } else {
    FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable,
               "failure is not UNAVAILABLE (nor NOT_EXECUTED for a 4xx): " + status.ToString());
  }
  // "unreadable Bitrix24 answer (HTTP -2147483648): ...; body \"<120 bytes>...\""
  FUZZ_CHECK(status.message().size() <= 300,
             "message of " + std::to_string(status.message().size()) + " bytes");
  for (char c : status.message()) {
    FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f,
               "control character in message");
  }
  // Valid UTF-8, as proto3 strings must be (nlohmann's dump is the judge).
  try {
    (void)nlohmann::json(std::string(status.message())).dump();
  } catch (const nlohmann::json::exception&) {
    FUZZ_CHECK(false, "message is not valid UTF-8");
  }
}

}  // namespace b24gate::fuzz

#endif  // B24GATE_TESTS_FUZZ_RESPONSE_INPUT_H_
