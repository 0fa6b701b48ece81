// End-to-end test of the C++ file helpers (clients/cpp/b24gate/files.h)
// against a real b24gate and b24-emulator: a file uploaded from a path and
// one from a stream come back byte for byte (SHA-256), to a path (also
// resumed from an offset) and to a stream; a file put into a deal's file field
// comes back from it identical.
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "clients/cpp/b24gate/files.h"
#include "tests/e2e/harness.h"

namespace b24gate::e2e::cpp_client_files_test {
namespace {

std::string Sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

int64_t IdOf(const client::Json& file) {
  const client::Json& id = file["ID"];
  return id.is_string() ? std::stoll(id.get<std::string>()) : id.get<int64_t>();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CppClientFiles, UploadThenDownloadIsByteIdentical) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits"};
  auto stack = Up(emulator);
  ASSERT_TRUE(stack);
  client::Files files(client::MakeChannel(stack->gateway().address()));
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("b24gate-cpp-files-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string data(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 random(7);
  for (char& c : data) c = static_cast<char>(random());
  std::ofstream(dir / "scan.bin", std::ios::binary) << data;

  std::vector<int64_t> progress;
  client::UploadOptions into_folder;
  into_folder.folder_id = 1;
  into_folder.generate_unique_name = true;
  into_folder.rights = {{42, "U1"}};
  into_folder.content_type = "application/pdf";
  into_folder.progress = [&](int64_t sent) { progress.push_back(sent); };
  auto up = files.UploadFile((dir / "scan.bin").string(), into_folder);
  ASSERT_TRUE(up.ok()) << up.error().description;
  EXPECT_EQ(up.value().size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(up.value().sha256, Sha256(data));
  EXPECT_EQ(progress, (std::vector<int64_t>{1 << 20, 2 << 20, 3 << 20, static_cast<int64_t>(data.size())}));
  const int64_t id = IdOf(up.value().file);

  const std::string back = (dir / "back.bin").string();
  auto got = files.DownloadFile(id, back);
  ASSERT_TRUE(got.ok()) << got.error().description;
  EXPECT_EQ(got.value().size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(got.value().content_type, "application/pdf");
  EXPECT_EQ(stack->EmulatorGet("disk/files/" + std::to_string(id))["rights"],
            client::Json::parse(R"([{"TASK_ID":"42","ACCESS_CODE":"U1"}])"));
  EXPECT_EQ(Sha256(ReadAll(back)), Sha256(data));
  EXPECT_EQ(got.value().sha256, up.value().sha256) << "the gateway's hash of what it streamed";
  std::filesystem::resize_file(back, 1000);
  client::DownloadOptions resumed;
  resumed.offset = 1000;
  auto tail = files.DownloadFile(id, back, resumed);
  ASSERT_TRUE(tail.ok()) << tail.error().description;
  EXPECT_EQ(tail.value().sha256, Sha256(data.substr(1000))) << "the hash covers the part streamed";
  EXPECT_EQ(Sha256(ReadAll(back)), Sha256(data));

  // A stream up, a stream down.
  std::string digits;
  for (int i = 0; i < 1000; ++i) digits += "0123456789";
  std::istringstream in(digits);
  client::UploadOptions into_storage;
  into_storage.storage_id = 1;
  into_storage.name = "digits.txt";
  into_storage.size = static_cast<int64_t>(digits.size());
  auto small = files.Upload(in, into_storage);
  ASSERT_TRUE(small.ok()) << small.error().description;
  std::ostringstream out;
  ASSERT_TRUE(files.Download(IdOf(small.value().file), out).ok());
  EXPECT_EQ(Sha256(out.str()), Sha256(digits));
  std::filesystem::remove_all(dir);
}

TEST(CppClientFiles, RecordFieldGoesUpAndComesBackIdentical) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  client::Files files(client::MakeChannel(stack->gateway().address()));
  nlohmann::json added = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "with a scan"}}}});
  ASSERT_TRUE(added["result"].is_number_integer()) << added;
  client::RecordField field;
  field.entity_type = "deal";
  field.record_id = added["result"].get<int64_t>();
  field.field = "UF_CRM_1700000103";  // the emulator's file field on deals
  std::string data(2 * 1024 * 1024 + 1, '\0');
  std::mt19937 random(11);
  for (char& c : data) c = static_cast<char>(random());

  std::istringstream in(data);
  client::UploadOptions into_field;
  into_field.record_field = field;
  into_field.name = "scan.pdf";
  into_field.size = static_cast<int64_t>(data.size());
  auto up = files.Upload(in, into_field);
  ASSERT_TRUE(up.ok()) << up.error().description;
  EXPECT_EQ(up.value().sha256, Sha256(data));
  const std::string link = up.value().file.value("downloadUrl", "");
  EXPECT_FALSE(link.empty()) << up.value().file;
  EXPECT_EQ(link.find("auth="), std::string::npos) << link;

  std::ostringstream out;
  client::DownloadOptions from_field;
  from_field.record_field = field;
  auto got = files.Download(0, out, from_field);
  ASSERT_TRUE(got.ok()) << got.error().description;
  EXPECT_EQ(got.value().written, static_cast<int64_t>(data.size()));
  EXPECT_EQ(got.value().sha256, up.value().sha256);
  EXPECT_EQ(Sha256(out.str()), Sha256(data));
}

}  // namespace
}  // namespace b24gate::e2e::cpp_client_files_test
