// Clients identified by their mTLS certificate: a real TLS server (gRPC,
// client certificates required and verified against a test CA made here with
// the openssl command) serving AdminService behind AccessControl. A client
// whose certificate's CN is a configured certificate_identity is that client
// (admin: allowed; not admin: PERMISSION_DENIED); a verified certificate of
// nobody configured is UNAUTHENTICATED "unknown client certificate".
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/admin_service.h"
#include "service/auth/access_control.h"
#include "tests/support/one_portal_gateway.h"

namespace b24gate::mtls_identity_test {
namespace {

namespace pb = bitrix24::gateway::v1;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A CA, a server certificate for "localhost" and client certificates, made
// with the openssl command in a temp dir.
class TestPki {
 public:
  TestPki() {
    char dir[] = "/tmp/b24gate-mtls-XXXXXX";
    dir_ = mkdtemp(dir);
    ok_ = Run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=b24gate-test-ca "
              "-keyout ca.key -out ca.pem") &&
          Issue("server", "localhost", "subjectAltName=DNS:localhost") &&
          Issue("ops", "ops.test", "") && Issue("viewer", "viewer.test", "") &&
          Issue("stranger", "stranger.test", "");
  }
  ~TestPki() { Run("rm -rf " + dir_); }

  bool ok() const { return ok_; }
  std::string Pem(const std::string& name) const { return ReadFile(dir_ + "/" + name + ".pem"); }
  std::string Key(const std::string& name) const { return ReadFile(dir_ + "/" + name + ".key"); }

 private:
  bool Run(const std::string& command) const {
    std::string line = absl::StrCat("cd ", dir_, " && (", command, ") >/dev/null 2>&1");
    return std::system(line.c_str()) == 0;
  }
  bool Issue(const std::string& name, const std::string& cn, const std::string& extension) const {
    std::string ext;
    if (!extension.empty()) {
      std::ofstream(dir_ + "/" + name + ".ext") << extension << "\n";
      ext = absl::StrCat(" -extfile ", name, ".ext");
    }
    return Run(absl::StrCat("openssl req -newkey rsa:2048 -nodes -subj /CN=", cn, " -keyout ", name,
                            ".key -out ", name, ".csr && openssl x509 -req -days 2 -in ", name,
                            ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out ", name, ".pem",
                            ext));
  }

  std::string dir_;
  bool ok_ = false;
};

ClientSpec CertClient(const std::string& name, const std::string& identity,
                      std::vector<std::string> roles) {
  ClientSpec c;
  c.name = name;
  c.certificate_identity = identity;
  c.roles = std::move(roles);
  return c;
}

class MtlsIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << "openssl could not make the test certificates";
    access_ = std::make_unique<AccessControl>(std::vector<ClientSpec>{
        CertClient("ops", "ops.test", {kRoleAdmin}), CertClient("viewer", "viewer.test", {})});
    admin_ = std::make_unique<AdminService>(main_.gateway.get(), access_.get());

    grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    tls.pem_root_certs = pki_.Pem("ca");
    tls.pem_key_cert_pairs.push_back({pki_.Key("server"), pki_.Pem("server")});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), &port_);
    builder.RegisterService(admin_.get());
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ && port_ > 0);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // ListPortals over a TLS channel presenting client certificate `name`.
  grpc::Status ListPortalsAs(const std::string& name) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = pki_.Pem("ca");
    tls.pem_private_key = pki_.Key(name);
    tls.pem_cert_chain = pki_.Pem(name);
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_),
                                             grpc::SslCredentials(tls), args);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    pb::ListPortalsResponse response;
    return pb::AdminService::NewStub(channel)->ListPortals(&context, {}, &response);
  }

  TestPki pki_;
  testing::OnePortalGateway main_;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(MtlsIdentityTest, ACertificateOfAConfiguredIdentityIsThatClient) {
  grpc::Status ops = ListPortalsAs("ops");
  EXPECT_TRUE(ops.ok()) << ops.error_message();
  grpc::Status viewer = ListPortalsAs("viewer");
  EXPECT_EQ(viewer.error_code(), grpc::StatusCode::PERMISSION_DENIED) << viewer.error_message();
  EXPECT_TRUE(absl::StrContains(viewer.error_message(), "\"viewer\"")) << viewer.error_message();
}

TEST_F(MtlsIdentityTest, AVerifiedCertificateOfNobodyConfiguredIsRefused) {
  grpc::Status stranger = ListPortalsAs("stranger");
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::UNAUTHENTICATED) << stranger.error_message();
  EXPECT_TRUE(absl::StrContains(stranger.error_message(), "unknown client certificate"));
}

}  // namespace
}  // namespace b24gate::mtls_identity_test
