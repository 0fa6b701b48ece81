// Drives a Portal without HTTP: builds RestRequests, parses replies.
#ifndef B24EMU_TEST_PORTAL_HARNESS_H_
#define B24EMU_TEST_PORTAL_HARNESS_H_

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/emulator/portal.h"
#include "tests/emulator/test/fake_clock.h"
#include "tests/emulator/test/fake_methods.h"

namespace b24emu {

inline PortalConfig TestConfig() {
  PortalConfig config;
  config.webhooks = {{1, "secret"}};
  config.cost = *CostProfile("zero");
  return config;
}

class PortalHarness {
 public:
  explicit PortalHarness(PortalConfig config = TestConfig())
      : portal_(std::make_unique<Portal>(std::move(config), &methods_, &clock_)) {}

  // GET "/rest/...?query".
  HttpReply Get(const std::string& target) { return Send(target, "", ""); }
  HttpReply PostJson(const std::string& target, const std::string& body) {
    return Send(target, "application/json", body);
  }
  HttpReply PostForm(const std::string& target, const std::string& body) {
    return Send(target, "application/x-www-form-urlencoded", body);
  }
  HttpReply Send(const std::string& target, const std::string& content_type,
                 const std::string& body) {
    RestRequest r;
    r.target = target;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.params.query = target.substr(q + 1);
    r.params.content_type = content_type;
    r.params.body = body;
    r.host = "127.0.0.1:8080";
    r.https = https_;
    r.arrived = arrived_;
    return portal_->HandleRest(r);
  }

  static nlohmann::json Json(const HttpReply& reply) { return nlohmann::json::parse(reply.body); }

  FakeClock& clock() { return clock_; }
  FakeMethods& methods() { return methods_; }
  Portal& portal() { return *portal_; }
  void set_https(bool https) { https_ = https; }
  // When the requests sent from now on arrived (the server's reading of
  // the kernel's record); unset: when HandleRest runs.
  void set_arrived(std::optional<absl::Time> arrived) { arrived_ = arrived; }

 private:
  FakeClock clock_;
  FakeMethods methods_;
  bool https_ = false;
  std::optional<absl::Time> arrived_;
  std::unique_ptr<Portal> portal_;
};

}  // namespace b24emu

#endif  // B24EMU_TEST_PORTAL_HARNESS_H_
