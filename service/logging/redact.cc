#include "service/logging/redact.h"

#include <cctype>

#include "absl/strings/ascii.h"

namespace b24gate {
namespace {

bool IsValueEnd(char c) {
  return c == '&' || c == '"' || c == '\'' || c == ',' || c == '}' || c == ' ' || c == '\n' ||
         c == '\\' || c == ';';
}

// Replaces what follows each `key` (a value) by "***", up to a delimiter.
std::string MaskAfter(const std::string& text, absl::string_view key) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t at = text.find(key.data(), pos, key.size());
    if (at == std::string::npos) break;
    size_t value = at + key.size();
    // JSON style: "key": "value"
    while (value < text.size() && (text[value] == ' ' || text[value] == '"' ||
                                   text[value] == ':' || text[value] == '=' ||
                                   text[value] == '\\')) {
      ++value;
    }
    size_t end = value;
    while (end < text.size() && !IsValueEnd(text[end])) ++end;
    out.append(text, pos, value - pos);
    if (end > value) out.append("***");
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

// ".../rest/DIGITS/CODE/..." -> ".../rest/DIGITS/***/..."
std::string MaskWebhookCodes(const std::string& text) {
  static constexpr absl::string_view kRest = "/rest/";
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t at = text.find(kRest.data(), pos, kRest.size());
    if (at == std::string::npos) break;
    size_t user = at + kRest.size();
    size_t digits = user;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == user || digits >= text.size() || text[digits] != '/') {
      out.append(text, pos, user - pos);
      pos = user;
      continue;
    }
    size_t code = digits + 1;
    size_t end = code;
    while (end < text.size() && text[end] != '/' && !IsValueEnd(text[end]) && text[end] != '?') {
      ++end;
    }
    out.append(text, pos, code - pos);
    if (end > code) out.append("***");
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

// "scheme://user:password@host" -> "scheme://***@host"
std::string MaskUserInfo(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t at = text.find("://", pos);
    if (at == std::string::npos) break;
    size_t start = at + 3;
    size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '@' && !IsValueEnd(text[end])) {
      ++end;
    }
    out.append(text, pos, start - pos);
    if (end < text.size() && text[end] == '@') {
      out.append("***");
    } else {
      out.append(text, start, end - start);
    }
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace

std::string RedactSecrets(absl::string_view text) {
  std::string out = MaskUserInfo(std::string(text));
  out = MaskWebhookCodes(out);
  for (absl::string_view key : {"auth=", "access_token", "refresh_token", "client_secret"}) {
    out = MaskAfter(out, key);
  }
  return out;
}

}  // namespace b24gate
