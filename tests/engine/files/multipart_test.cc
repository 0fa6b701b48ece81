#include "engine/files/multipart.h"

#include <gtest/gtest.h>

#include <string>

namespace b24gate::multipart_test {
namespace {

TEST(Multipart, FramesOneFileAroundItsBytes) {
  MultipartFraming f = FrameOneFile("file", "scan 1.pdf", "XyZ");
  EXPECT_EQ(f.content_type, "multipart/form-data; boundary=XyZ");
  EXPECT_EQ(f.head + "BYTES" + f.tail,
            "--XyZ\r\n"
            "Content-Disposition: form-data; name=\"file\"; filename=\"scan 1.pdf\"\r\n"
            "Content-Type: application/octet-stream\r\n"
            "\r\n"
            "BYTES\r\n"
            "--XyZ--\r\n");
}

TEST(Multipart, ThePartCarriesTheFilesMediaType) {
  MultipartFraming f = FrameOneFile("file", "a.pdf", "XyZ", "application/pdf");
  EXPECT_NE(f.head.find("\r\nContent-Type: application/pdf\r\n\r\n"), std::string::npos) << f.head;
}

TEST(Multipart, MediaTypesThatCannotTravelAreRefusedNamingTheField) {
  for (const char* good : {"", "application/pdf", "text/plain; charset=utf-8",
                           "text/plain;charset=\"utf-8\"", "application/vnd.ms-excel",
                           "multipart/x; a=\"q\\\"t\""}) {
    EXPECT_TRUE(CheckContentType(good, "header.content_type").ok()) << good;
  }
  for (const std::string bad :
       {std::string("pdf"), std::string("text/"), std::string("/plain"), std::string("text/plain;"),
        std::string("text/plain\r\nX-Evil: 1"), std::string("text/plain; a"),
        std::string("text/plain; a=\"open"), std::string("text/pl ain"),
        std::string("text/plain; a=\"\x01\""), std::string("t\xc3\xa9xt/plain"),
        "text/" + std::string(300, 'a')}) {
    absl::Status s = CheckContentType(bad, "header.content_type");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message().substr(0, 20), "header.content_type:") << s;
  }
}

TEST(Multipart, FileNamesThatCannotTravelAreRefusedNamingTheField) {
  EXPECT_TRUE(CheckFileName("отчёт (1).docx", "header.name").ok());
  for (const std::string bad : {std::string(""), std::string("a/b"), std::string("a\"b"),
                                std::string("a\r\nX-Evil: 1"), std::string("a:b"),
                                std::string(256, 'a'), std::string("\xff\xfe")}) {
    absl::Status s = CheckFileName(bad, "header.name");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message().substr(0, 12), "header.name:") << s;
  }
}

}  // namespace
}  // namespace b24gate::multipart_test
