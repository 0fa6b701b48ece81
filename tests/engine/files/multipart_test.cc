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
