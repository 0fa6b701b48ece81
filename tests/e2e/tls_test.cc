// TLS to the portal: verified by default, a per-portal CA file, and an
// explicit insecure switch (fast_bitrix24's ssl=False). The emulator serves
// HTTPS with a self-signed certificate made here with the openssl CLI.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"
#include "tests/support/self_signed_certificate.h"

namespace b24gate::e2e::tls_test {
namespace {

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::SelfSignedCertificate();
    ASSERT_FALSE(dir_.empty()) << "openssl could not make a certificate";
  }

  static EmulatorSpec Https() {
    EmulatorSpec e;
    e.extra_args = {"--tls-cert", dir_ + "/cert.pem", "--tls-key", dir_ + "/key.pem"};
    return e;
  }

  static std::unique_ptr<Stack> Up(GatewaySpec gateway) {
    return e2e::Up(Https(), std::move(gateway));
  }

  static std::string dir_;
};

std::string Tls::dir_;

TEST_F(Tls, SelfSignedCertificateIsRefusedByDefault) {
  auto stack = Up({});
  ASSERT_TRUE(stack);
  ASSERT_EQ(stack->webhook_url().rfind("https://", 0), 0u);
  pb::CallRequest request;
  request.set_method("crm.lead.list");
  CallOut out = DoCall(*stack, request, /*seconds=*/5);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << out.status.error_code() << " " << out.status.error_message();
  EXPECT_FALSE(out.status.error_message().empty());
}

// A refused certificate is not retried for ever: after max_attempts the call
// fails with UNAVAILABLE long before a generous deadline.
TEST_F(Tls, RefusedCertificateIsNotRetriedForEver) {
  GatewaySpec gateway;
  gateway.portal = {{"max_attempts", 2}};
  auto stack = Up(gateway);
  ASSERT_TRUE(stack);
  pb::CallRequest request;
  request.set_method("crm.lead.list");
  CallOut out = DoCall(*stack, request, /*seconds=*/120);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << out.status.error_code() << " " << out.status.error_message();
  EXPECT_EQ(ReasonOf(out.status), "TRANSPORT_ERROR") << out.status.error_message();
}

TEST_F(Tls, CaFileMakesItWork) {
  GatewaySpec gateway;
  gateway.portal = {{"ca_file", dir_ + "/cert.pem"}};
  auto stack = Up(gateway);
  ASSERT_TRUE(stack);
  CallOut out = Call1(*stack, "crm.lead.list", {{"select", {"ID"}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.result().size(), 50u);
  EXPECT_EQ(out.response.total(), 300);
  // A batch and a GetAll over the same connection settings.
  GetAllOut all = GetAll(*stack, "crm.deal.list", {{"select", {"ID"}}});
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  EXPECT_EQ(all.items.size(), 120u);
}

TEST_F(Tls, InsecureSkipVerifyMakesItWork) {
  GatewaySpec gateway;
  gateway.portal = {{"insecure_skip_verify", true}};
  auto stack = Up(gateway);
  ASSERT_TRUE(stack);
  CallOut out = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "over TLS"}}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.result().is_number_integer());
  CallOut got = Call1(*stack, "crm.lead.get", {{"id", out.result()}});
  ASSERT_TRUE(got.status.ok()) << got.status.error_message();
  EXPECT_EQ(got.result()["TITLE"], "over TLS");
}

}  // namespace
}  // namespace b24gate::e2e::tls_test
