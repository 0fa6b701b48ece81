// BodySpool: long values of a JSON or form body go to files as the body
// arrives, in pieces cut anywhere; the text left parses with markers in
// their place, which read back (Inflate) or decode from disk as base64.
#include "tests/emulator/body_spool.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"

namespace b24emu::body_spool_test {
namespace {

std::string Dir() {
  const char* tmp = getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

std::string Bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + i / 251);
  return s;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Feeds `body` in pieces of `piece` bytes.
std::string Spool(BodySpool& spool, const std::string& body, size_t piece) {
  for (size_t at = 0; at < body.size(); at += piece) {
    EXPECT_TRUE(spool.Feed(body.data() + at, std::min(piece, body.size() - at)));
  }
  return spool.TakeText();
}

TEST(BodySpool, AJsonBodysLongStringsGoToDiskAndDecodeBack) {
  const std::string file = Bytes(5000);
  // PHP's json_encode writes "/" as "\/": the decoder takes both.
  std::string b64 = absl::Base64Escape(file);
  std::string escaped;
  for (char c : b64) escaped += c == '/' ? std::string("\\/") : std::string(1, c);
  const std::string body = R"({"id":7,"fields":{"TITLE":"short \"q\"","UF":{"fileData":["a.bin",")" +
                           escaped + R"("]},"NOTE":")" + std::string(3000, 'n') + R"("}})";
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}}) {
    SCOPED_TRACE(piece);
    BodySpool spool(Dir(), BodySpool::Encoding::kJson, /*threshold=*/1000);
    const std::string text = Spool(spool, body, piece);
    EXPECT_LT(text.size(), 200u) << text;
    const nlohmann::json parsed = nlohmann::json::parse(text);
    EXPECT_EQ(parsed["fields"]["TITLE"], "short \"q\"");
    const std::string content = parsed["fields"]["UF"]["fileData"][1];
    ASSERT_TRUE(spool.FileOf(content).has_value());
    const std::string out = Dir() + "/body_spool_test.out";
    absl::StatusOr<int64_t> size = DecodeBase64ToFile(&spool, content, out);
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_EQ(*size, 5000);
    EXPECT_TRUE(ReadFile(out) == file);
    absl::StatusOr<std::string> note = spool.Inflate(parsed["fields"]["NOTE"].get<std::string>());
    ASSERT_TRUE(note.ok()) << note.status();
    EXPECT_EQ(*note, std::string(3000, 'n'));
    ::unlink(out.c_str());
  }
}

TEST(BodySpool, AFormBodysLongValuesGoToDiskAndDecodeBack) {
  const std::string file = Bytes(4000);
  const std::string b64 = absl::Base64Escape(file);
  std::string encoded;  // +, / and = percent-encoded, as a form sends them
  for (char c : b64) {
    encoded += c == '+' ? "%2B" : c == '/' ? "%2F" : c == '=' ? "%3D" : std::string(1, c);
  }
  const std::string body = "id=7&fields[UF][fileData][0]=a.bin&fields[UF][fileData][1]=" + encoded;
  BodySpool spool(Dir(), BodySpool::Encoding::kForm, /*threshold=*/1000);
  const std::string text = Spool(spool, body, 333);
  EXPECT_LT(text.size(), 200u) << text;
  EXPECT_NE(text.find("id=7&"), std::string::npos) << text;
  const std::string out = Dir() + "/body_spool_form.out";
  absl::StatusOr<int64_t> size = DecodeBase64ToFile(&spool, "\x01spool:0", out);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_TRUE(ReadFile(out) == file);
  ::unlink(out.c_str());
}

TEST(BodySpool, TextThatIsNotBase64IsRefusedAndLeavesNoFile) {
  const std::string out = Dir() + "/body_spool_bad.out";
  for (const char* text : {"QUJD*", "QQ=Q", "Q"}) {
    EXPECT_EQ(DecodeBase64ToFile(nullptr, text, out).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
    EXPECT_FALSE(std::ifstream(out).good()) << text;
  }
  absl::StatusOr<int64_t> empty = DecodeBase64ToFile(nullptr, "", out);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, 0);
  ::unlink(out.c_str());
}

}  // namespace
}  // namespace b24emu::body_spool_test
