// The C++ file helpers' own checks (clients/cpp/b24gate/files.h,
// sha256.h), against an in-process fake FilesService instead of a gateway:
// the header-only SHA-256 agrees with OpenSSL's on every length around its
// block boundaries, and a download whose bytes differ from what the
// gateway's summary says it sent (corrupted, cut, or grown on the way) is
// CHECKSUM_MISMATCH, while a whole one returns the gateway's hash; the file
// is asked for by id, attached object or record field, exactly one of them.
#include <openssl/evp.h>

#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "clients/cpp/b24gate/files.h"
#include "clients/cpp/b24gate/sha256.h"

namespace b24gate::client_test::download_check_test {
namespace {

namespace pb = bitrix24::gateway::v1;

std::string OpenSslHex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

TEST(Sha256, AgreesWithOpenSslWhateverTheLengthAndTheCuts) {
  std::string data;
  for (int i = 0; i < 300; ++i) data += static_cast<char>(i * 7 + 3);
  for (size_t n = 0; n <= data.size(); ++n) {
    client::Sha256 whole;
    whole.Update(data.substr(0, n));
    EXPECT_EQ(whole.HexDigest(), OpenSslHex(data.substr(0, n))) << n;
    client::Sha256 cut;  // the same bytes in two pieces
    cut.Update(data.substr(0, n / 3));
    cut.Update(data.substr(n / 3, n - n / 3));
    EXPECT_EQ(cut.HexDigest(), OpenSslHex(data.substr(0, n))) << n;
  }
  std::string large(3 << 20, 'x');
  client::Sha256 big;
  big.Update(large);
  EXPECT_EQ(big.HexDigest(), OpenSslHex(large));
}

// Streams a header, `chunks`, and the summary of "0123456789" (the true
// bytes, as the gateway hashed them) unless `summary` is off.
class FakeFiles final : public pb::FilesService::Service {
 public:
  std::vector<std::string> chunks;
  bool summary = true;

  // The requests received (read after the client's call returned).
  std::vector<pb::DownloadFileRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  grpc::Status DownloadFile(grpc::ServerContext*, const pb::DownloadFileRequest* request,
                            grpc::ServerWriter<pb::DownloadFileResponse>* writer) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(*request);
    }
    pb::DownloadFileResponse message;
    message.mutable_header()->set_name("a.bin");
    message.mutable_header()->set_size(10);
    writer->Write(message);
    for (const std::string& chunk : chunks) {
      message.set_chunk(chunk);
      writer->Write(message);
    }
    if (summary) {
      message.mutable_summary()->set_size(10);
      message.mutable_summary()->set_sha256(OpenSslHex("0123456789"));
      writer->Write(message);
    }
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  std::vector<pb::DownloadFileRequest> requests_;
};

class DownloadCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    files_ = std::make_unique<client::Files>(client::MakeChannel("127.0.0.1:" + std::to_string(port)));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  FakeFiles fake_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<client::Files> files_;
};

TEST_F(DownloadCheck, AWholeDownloadReturnsTheGatewaysHash) {
  fake_.chunks = {"0123", "456789"};
  std::ostringstream out;
  auto got = files_->Download(7, out);
  ASSERT_TRUE(got.ok()) << got.error().description;
  EXPECT_EQ(out.str(), "0123456789");
  EXPECT_EQ(got.value().sha256, OpenSslHex("0123456789"));
}

TEST_F(DownloadCheck, CorruptedCutOrGrownBytesAreAChecksumMismatch) {
  for (std::vector<std::string> chunks : {std::vector<std::string>{"0123", "456788"},
                                          std::vector<std::string>{"0123", "45678"},
                                          std::vector<std::string>{"0123", "456789", "x"}}) {
    fake_.chunks = chunks;
    std::ostringstream out;
    auto got = files_->Download(7, out);
    ASSERT_FALSE(got.ok()) << chunks.size();
    EXPECT_EQ(got.error().code, "CHECKSUM_MISMATCH");
    EXPECT_EQ(got.error().grpc_code, grpc::StatusCode::DATA_LOSS);
  }
}

TEST_F(DownloadCheck, ADownloadWithoutASummaryHasNoHash) {
  fake_.chunks = {"0123456789"};
  fake_.summary = false;
  std::ostringstream out;
  auto got = files_->Download(7, out);
  ASSERT_TRUE(got.ok()) << got.error().description;
  EXPECT_EQ(got.value().sha256, "");
  EXPECT_EQ(got.value().written, 10);
}

TEST_F(DownloadCheck, ADownloadByAttachedObjectIdAsksForThatObjectsFile) {
  fake_.chunks = {"0123456789"};
  std::ostringstream out;
  client::DownloadOptions options;
  options.attached_object_id = 12;
  auto got = files_->Download(0, out, options);
  ASSERT_TRUE(got.ok()) << got.error().description;
  EXPECT_EQ(out.str(), "0123456789");
  const std::vector<pb::DownloadFileRequest> requests = fake_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].attached_object_id(), 12);
  EXPECT_EQ(requests[0].file_id(), 0);
  EXPECT_FALSE(requests[0].has_record_field());
}

TEST_F(DownloadCheck, ADownloadNamesExactlyOneFile) {
  fake_.chunks = {"0123456789"};
  client::DownloadOptions none, both, all;
  both.attached_object_id = 12;
  all.attached_object_id = 12;
  all.record_field = client::RecordField{"deal", 1, "UF_CRM_FILE"};
  for (auto [file_id, options] : {std::pair{int64_t{0}, none}, std::pair{int64_t{7}, both},
                                  std::pair{int64_t{0}, all}}) {
    std::ostringstream out;
    auto got = files_->Download(file_id, out, options);
    ASSERT_FALSE(got.ok()) << file_id;
    EXPECT_EQ(got.error().grpc_code, grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_TRUE(fake_.requests().empty()) << "a request without exactly one file was sent";
  std::ostringstream out;
  ASSERT_TRUE(files_->Download(7, out).ok());
  ASSERT_EQ(fake_.requests().size(), 1u);
  EXPECT_EQ(fake_.requests()[0].file_id(), 7);
}

}  // namespace
}  // namespace b24gate::client_test::download_check_test
