// TLS and mutual TLS on the gateway's gRPC port, against a real b24gate:
// TLS calls work and plain text is refused; client certificates from the
// configured CA only; a client certificate logs in as the configured client
// whose certificate_identity it carries, an unknown one is refused; a
// replaced certificate reaches new connections while an open stream finishes
// on the old one (periodic check and SIGHUP); a bad replacement keeps the old
// certificate and is counted. The PKI is made fresh by make_test_certs.sh.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "service/tls/certificate_check.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::grpc_tls_test {
namespace {

using ::testing::HasSubstr;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces `to` by `from` the way an operator (or cert-manager) would: a new
// file renamed over the old one.
void Replace(const std::string& from, const std::string& to) {
  std::string tmp = to + ".new";
  std::ofstream(tmp) << ReadText(from);
  ASSERT_EQ(std::rename(tmp.c_str(), to.c_str()), 0) << to;
}

class GrpcTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char dir[] = "/tmp/b24gate-grpc-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    pki_ = dir;
    std::string cmd = absl::StrCat("bash ", kTestCertsScript, " ", pki_, " >/dev/null");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "make_test_certs.sh failed";
  }
  static void TearDownTestSuite() {
    if (!pki_.empty()) std::system(("rm -rf " + pki_).c_str());
  }

  void SetUp() override {
    // The served files: each test replaces them as it likes.
    cert_ = pki_ + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".pem";
    key_ = cert_ + ".key";
    Replace(pki_ + "/server-1001.pem", cert_);
    Replace(pki_ + "/server-1001.key", key_);
  }

  static std::string File(const std::string& name) { return pki_ + "/" + name; }

  // Channel credentials trusting the test CA, with a client certificate
  // ("client", "stranger", ...) or none.
  static std::shared_ptr<grpc::ChannelCredentials> Credentials(const std::string& client = "") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadText(File("ca.pem"));
    if (!client.empty()) {
      options.pem_cert_chain = ReadText(File(client + ".pem"));
      options.pem_private_key = ReadText(File(client + ".key"));
    }
    return grpc::SslCredentials(options);
  }

  // The gateway's "tls" config object.
  json TlsSettings(json extra = json::object()) const {
    json tls = {{"cert_file", cert_}, {"key_file", key_}};
    for (auto& [k, v] : extra.items()) tls[k] = v;
    return tls;
  }

  std::unique_ptr<Stack> UpWithTls(json tls, EmulatorSpec emulator = {},
                                   std::vector<std::string> extra_args = {}) {
    GatewaySpec gateway;
    gateway.settings = {{"tls", tls}};
    gateway.credentials = Credentials();
    gateway.extra_args = std::move(extra_args);
    return Up(std::move(emulator), std::move(gateway));
  }

  std::string cert_, key_;
  static std::string pki_;
};

std::string GrpcTls::pki_;

struct Probe {
  grpc::Status status;
  std::string peer_serial;  // the serial of the certificate the gateway showed
};

// One ListPortals on a new connection of its own (no subchannel shared with
// other channels), and the serial of the certificate its handshake got.
Probe ProbeNewConnection(const std::string& address,
                         std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, std::move(credentials), args);
  auto admin = pb::AdminService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  pb::ListPortalsResponse response;
  Probe probe;
  probe.status = admin->ListPortals(&context, {}, &response);
  if (auto auth = context.auth_context()) {
    for (const auto& pem : auth->FindPropertyValues("x509_pem_cert")) {
      absl::StatusOr<CertificateInfo> info =
          InspectCertificateChain(std::string(pem.data(), pem.size()), "peer");
      if (info.ok()) probe.peer_serial = info->serial_hex;
    }
  }
  return probe;
}

std::string SerialOf(const std::string& path) {
  absl::StatusOr<CertificateInfo> info = InspectCertificateChain(ReadText(path), path);
  return info.ok() ? info->serial_hex : "";
}

// Probes new connections until one gets the certificate with `serial`.
bool WaitForServedSerial(const std::string& address,
                         const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                         const std::string& serial, double seconds) {
  return WaitFor([&] { return ProbeNewConnection(address, credentials).peer_serial == serial; },
                 seconds);
}

// The value of an unlabelled series in a /metrics page ("" when absent).
std::string MetricValue(const std::string& page, const std::string& name) {
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) == 0) return line.substr(name.size() + 1);
  }
  return "";
}

TEST_F(GrpcTls, CallOverTlsWorksAndPlainTextIsRefused) {
  auto stack = UpWithTls(TlsSettings());
  ASSERT_TRUE(stack);
  CallOut out = Call1(*stack, "crm.lead.list", {{"select", {"ID"}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.response.total(), 300);
  EXPECT_EQ(ProbeNewConnection(stack->gateway().address(), Credentials()).peer_serial,
            SerialOf(File("server-1001.pem")));

  Probe plain = ProbeNewConnection(stack->gateway().address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(plain.status.error_code(), grpc::StatusCode::UNAVAILABLE) << plain.status.error_message();

  // A client that does not trust the test CA refuses the gateway.
  grpc::SslCredentialsOptions other;
  other.pem_root_certs = ReadText(File("other-ca.pem"));
  Probe untrusted = ProbeNewConnection(stack->gateway().address(), grpc::SslCredentials(other));
  EXPECT_EQ(untrusted.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcTls, MutualTlsRequiresACertificateFromTheClientCa) {
  auto stack = UpWithTls(TlsSettings({{"client_ca_file", File("ca.pem")}}));
  ASSERT_TRUE(stack);
  const std::string address = stack->gateway().address();
  Probe none = ProbeNewConnection(address, Credentials());
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::UNAVAILABLE) << none.status.error_message();
  Probe stranger = ProbeNewConnection(address, Credentials("stranger"));
  EXPECT_EQ(stranger.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << stranger.status.error_message();
  Probe client = ProbeNewConnection(address, Credentials("client"));
  EXPECT_TRUE(client.status.ok()) << client.status.error_message();
}

TEST_F(GrpcTls, OptionalClientCertificatesAreStillVerified) {
  auto stack = UpWithTls(
      TlsSettings({{"client_ca_file", File("ca.pem")}, {"require_client_cert", false}}));
  ASSERT_TRUE(stack);
  const std::string address = stack->gateway().address();
  EXPECT_TRUE(ProbeNewConnection(address, Credentials()).status.ok());
  EXPECT_TRUE(ProbeNewConnection(address, Credentials("client")).status.ok());
  EXPECT_EQ(ProbeNewConnection(address, Credentials("stranger")).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

// The files are replaced while a GetAll waits on the portal (the emulator
// holds its first answer 6 s): new connections get the new certificate, the
// open stream ends normally with every item.
TEST_F(GrpcTls, ReplacedCertificateReachesNewConnectionsWhileAStreamFinishes) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--fault-delay", "6"};
  auto stack = UpWithTls(TlsSettings({{"reload_interval_seconds", 1}}), emulator,
                         {"--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(stack);
  const std::string address = stack->gateway().address();
  ASSERT_EQ(ProbeNewConnection(address, Credentials()).peer_serial, SerialOf(File("server-1001.pem")));

  stack->SetFaults("delay=@1");
  std::atomic<bool> stream_done{false};
  GetAllOut all;
  std::thread reader([&] {
    all = GetAll(*stack, "crm.deal.list", {{"select", {"ID"}}});
    stream_done = true;
  });
  ASSERT_TRUE(WaitFor([&] { return stack->EmulatorStats()["in_flight"].get<int>() >= 1; }, 10))
      << "the GetAll never reached the portal";

  Replace(File("server-1002.key"), key_);
  Replace(File("server-1002.pem"), cert_);
  bool served = WaitForServedSerial(address, Credentials(), SerialOf(File("server-1002.pem")), 8);
  bool stream_was_open = !stream_done;
  reader.join();
  EXPECT_TRUE(served) << "new connections never got the new certificate";
  EXPECT_TRUE(stream_was_open) << "the stream ended before the new certificate was served";
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  EXPECT_EQ(all.items.size(), 120u);

  std::string metrics = ScrapeMetrics(stack->gateway());
  EXPECT_EQ(MetricValue(metrics, "b24gate_tls_reloads_total"), "1") << metrics;
  absl::StatusOr<CertificateInfo> info = InspectCertificateChain(ReadText(cert_), cert_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(MetricValue(metrics, "b24gate_tls_certificate_expiry_timestamp_seconds"),
            std::to_string(absl::ToUnixSeconds(info->not_after)));
}

// One Call on a new connection with `credentials`.
grpc::Status CallOnNewConnection(const std::string& address,
                                 std::shared_ptr<grpc::ChannelCredentials> credentials,
                                 const std::string& method, const json& params) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = pb::GatewayService::NewStub(grpc::CreateCustomChannel(address, std::move(credentials), args));
  pb::CallRequest request;
  request.set_method(method);
  *request.mutable_params() = V(params);
  pb::CallResponse response;
  return stub->Call(Ctx(10).get(), request, &response);
}

// Clients known by their certificates: "reports" by a URI SAN of client.pem
// (read-only), "billing" by a CN no test certificate has.
TEST_F(GrpcTls, ClientCertificateLogsInAsItsConfiguredClient) {
  GatewaySpec gateway;
  gateway.settings = {
      {"tls", TlsSettings({{"client_ca_file", File("ca.pem")}})},
      {"clients",
       {{{"name", "reports"},
         {"certificate_identity", "spiffe://b24gate.test/reports"},
         {"roles", {"read-only"}}},
        {{"name", "billing"}, {"certificate_identity", "svc-billing"}}}}};
  gateway.credentials = Credentials("client");
  auto stack = Up({}, gateway);
  ASSERT_TRUE(stack);
  const std::string address = stack->gateway().address();

  CallOut read = Call1(*stack, "crm.lead.list", {{"select", {"ID"}}});
  EXPECT_TRUE(read.status.ok()) << read.status.error_message();
  // The read-only rule of "reports" applies: the call was made as that client.
  CallOut write = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "x"}}}});
  EXPECT_EQ(write.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(write.status.error_message(), HasSubstr("client \"reports\""));

  // Signed by the CA, but no client has its identity.
  grpc::Status unknown = CallOnNewConnection(address, Credentials("unknown-client"), "crm.lead.list", {});
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED) << unknown.error_message();
  EXPECT_THAT(unknown.error_message(), HasSubstr("unknown client certificate"));
  // Same names as client.pem, another CA: refused in the handshake.
  grpc::Status stranger = CallOnNewConnection(address, Credentials("stranger"), "crm.lead.list", {});
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::UNAVAILABLE) << stranger.error_message();
}

// Optional client certificates next to tokens: the subject CN identifies a
// client too, and a caller with neither credential is refused.
TEST_F(GrpcTls, OptionalCertificateByCommonNameNextToTokens) {
  GatewaySpec gateway;
  gateway.settings = {
      {"tls", TlsSettings({{"client_ca_file", File("ca.pem")}, {"require_client_cert", false}})},
      {"clients",
       {{{"name", "reports"}, {"certificate_identity", "svc-reports"}, {"roles", {"read-only"}}},
        // sha256("a test token")
        {{"name", "sync"},
         {"token_sha256", "b8c5be7eec5618f93ae685a066b77d13979ada2a80af593c7b39423104cf13ef"}}}}};
  gateway.credentials = Credentials("client");
  auto stack = Up({}, gateway);
  ASSERT_TRUE(stack);
  CallOut write = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "x"}}}});
  EXPECT_EQ(write.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(write.status.error_message(), HasSubstr("client \"reports\""));

  grpc::Status anonymous =
      CallOnNewConnection(stack->gateway().address(), Credentials(), "crm.lead.list", {});
  EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED) << anonymous.error_message();
  EXPECT_THAT(anonymous.error_message(), HasSubstr("missing credentials"));
}

// With an hour between periodic checks only SIGHUP can load the new files;
// a bad file then keeps the served certificate, and the process.
TEST_F(GrpcTls, SighupReloadsAndABadFileKeepsTheOldCertificate) {
  auto stack = UpWithTls(TlsSettings({{"reload_interval_seconds", 3600}}), {},
                         {"--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(stack);
  const std::string address = stack->gateway().address();
  const std::string first = SerialOf(File("server-1001.pem"));
  const std::string second = SerialOf(File("server-1003.pem"));
  ASSERT_NE(first, second);

  Replace(File("server-1003.key"), key_);
  Replace(File("server-1003.pem"), cert_);
  // gRPC's watcher reads our copies every second: 2.5 s without SIGHUP
  // shows that nothing but SIGHUP replaces them.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(ProbeNewConnection(address, Credentials()).peer_serial, first);
  ASSERT_EQ(kill(stack->gateway().pid(), SIGHUP), 0);
  EXPECT_TRUE(WaitForServedSerial(address, Credentials(), second, 5));

  // A certificate that does not match the key, then one that is not PEM.
  // Each SIGHUP's failure is awaited on /metrics before the next: a signal
  // sent while the last is still pending is merged with it, and a reload
  // may take seconds on a loaded machine (fixed sleeps of 0.5 s and 2 s
  // raced both).
  auto reload_errors = [&] {
    return MetricValue(ScrapeMetrics(stack->gateway()), "b24gate_tls_reload_errors_total");
  };
  Replace(File("server-1001.pem"), cert_);
  ASSERT_EQ(kill(stack->gateway().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] { return reload_errors() == "1"; })) << reload_errors();
  std::ofstream(cert_) << "not a certificate\n";
  ASSERT_EQ(kill(stack->gateway().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] { return reload_errors() == "2"; })) << reload_errors();
  Probe probe = ProbeNewConnection(address, Credentials());
  EXPECT_TRUE(probe.status.ok()) << probe.status.error_message();
  EXPECT_EQ(probe.peer_serial, second);
  CallOut out = Call1(*stack, "crm.lead.list", {{"select", {"ID"}}});
  EXPECT_TRUE(out.status.ok()) << out.status.error_message();

  std::string metrics = ScrapeMetrics(stack->gateway());
  EXPECT_EQ(MetricValue(metrics, "b24gate_tls_reloads_total"), "1") << metrics;
  EXPECT_EQ(MetricValue(metrics, "b24gate_tls_reload_errors_total"), "2") << metrics;
}

}  // namespace
}  // namespace b24gate::e2e::grpc_tls_test
