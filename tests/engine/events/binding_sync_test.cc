// BindingSync against a fake portal that keeps its bindings as Bitrix24
// does: the exact calls a pass makes for a given list and given bindings,
// what it leaves alone (other handlers, ONOFFLINEEVENT, kinds not listed),
// that a second pass makes none but event.get, and what it reports.
#include "engine/events/binding_sync.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"

namespace b24gate::binding_sync_test {
namespace {

using OJson = nlohmann::ordered_json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kHandler[] = "https://gw.example/events/main";
constexpr char kOther[] = "https://someone-else.example/hook";

// The portal's bindings, changed by the calls it answers (at once).
class FakePortal {
 public:
  void Add(const std::string& event, const std::string& handler, const std::string& connector = "") {
    OJson b = {{"event", event}, {"handler", handler}, {"auth_type", "1"}};
    if (handler.empty()) {
      b["offline"] = 1;
      b["auth_connector"] = connector;
    }
    bindings_.push_back(std::move(b));
  }

  BindingSync::Caller caller() {
    return [this](const std::string& method, OJson params, CallCallback done) {
      calls_.push_back(absl::StrCat(method, " ", params.dump()));
      if (auto it = fail_.find(method); it != fail_.end()) return done(it->second);
      CallReply reply;
      if (method == "event.get") {
        reply.result = bindings_;
      } else if (method == "event.bind") {
        Add(params["event"], params.value("handler", ""), params.value("auth_connector", ""));
        reply.result = true;
      } else {
        Unbind(params);
        reply.result = {{"count", 1}};
      }
      done(std::move(reply));
    };
  }

  BindingSync::Report Sync(PortalOptions::EventBindings wanted, std::string handler = kHandler) {
    calls_.clear();
    std::optional<BindingSync::Report> report;
    BindingSync::Run(caller(), std::move(wanted), std::move(handler),
                     [&](BindingSync::Report r) { report = std::move(r); });
    EXPECT_TRUE(report) << "done not called";
    return report.value_or(BindingSync::Report{});
  }

  const std::vector<std::string>& calls() const { return calls_; }
  void FailWith(const std::string& method, absl::Status s) { fail_[method] = std::move(s); }

 private:
  void Unbind(const OJson& params) {
    const bool offline = params.value("event_type", "") == "offline";
    OJson kept = OJson::array();
    for (const OJson& b : bindings_) {
      const bool match = b["event"] == params["event"] && (b["handler"] == "") == offline &&
                         (offline || b["handler"] == params.value("handler", ""));
      if (!match) kept.push_back(b);
    }
    bindings_ = std::move(kept);
  }

  OJson bindings_ = OJson::array();
  std::vector<std::string> calls_;
  std::map<std::string, absl::Status> fail_;
};

PortalOptions::EventBindings Lists(std::optional<std::vector<std::string>> offline,
                                   std::optional<std::vector<std::string>> online,
                                   std::string auth_connector = "") {
  return {std::move(offline), std::move(online), std::move(auth_connector)};
}

std::vector<std::string> Names(const std::vector<BindingSync::Binding>& bindings) {
  std::vector<std::string> out;
  for (const BindingSync::Binding& b : bindings) out.push_back(BindingSync::Describe(b));
  return out;
}

TEST(BindingSync, BindsWhatIsMissingAndUnbindsWhatItOwnsAndTheListLacks) {
  FakePortal portal;
  portal.Add("ONCRMDEALADD", "");
  portal.Add("ONCRMCONTACTADD", "");
  portal.Add("ONCRMLEADDELETE", kHandler);
  portal.Add("ONCRMLEADADD", kOther);
  portal.Add("ONOFFLINEEVENT", kHandler);
  BindingSync::Report r =
      portal.Sync(Lists(std::vector<std::string>{"ONCRMDEALADD", "ONCRMDEALUPDATE"},
                        std::vector<std::string>{"ONCRMLEADADD"}, "crm-sync-writes"));
  EXPECT_THAT(portal.calls(),
              ElementsAre("event.get {}",
                          R"(event.bind {"event":"ONCRMDEALUPDATE","event_type":"offline","auth_connector":"crm-sync-writes"})",
                          R"(event.bind {"event":"ONCRMLEADADD","handler":"https://gw.example/events/main"})",
                          R"(event.unbind {"event":"ONCRMCONTACTADD","event_type":"offline"})",
                          R"(event.unbind {"event":"ONCRMLEADDELETE","handler":"https://gw.example/events/main"})"))
      << "another handler's ONCRMLEADADD is not this gateway's, ONOFFLINEEVENT is the streams'";
  EXPECT_THAT(Names(r.desired), ElementsAre("ONCRMDEALADD (offline)", "ONCRMDEALUPDATE (offline)",
                                            "ONCRMLEADADD (online)"));
  EXPECT_THAT(Names(r.found), ElementsAre("ONCRMCONTACTADD (offline)", "ONCRMDEALADD (offline)",
                                          "ONCRMLEADDELETE (online)"));
  EXPECT_THAT(Names(r.bound), ElementsAre("ONCRMDEALUPDATE (offline)", "ONCRMLEADADD (online)"));
  EXPECT_THAT(Names(r.unbound), ElementsAre("ONCRMCONTACTADD (offline)", "ONCRMLEADDELETE (online)"));
  EXPECT_THAT(r.errors, IsEmpty());

  r = portal.Sync(Lists(std::vector<std::string>{"ONCRMDEALADD", "ONCRMDEALUPDATE"},
                        std::vector<std::string>{"ONCRMLEADADD"}, "crm-sync-writes"));
  EXPECT_THAT(portal.calls(), ElementsAre("event.get {}")) << "a second pass changes nothing";
  EXPECT_THAT(r.bound, IsEmpty());
  EXPECT_THAT(r.unbound, IsEmpty());
  EXPECT_EQ(r.found, r.desired);
}

TEST(BindingSync, NamesAreComparedWithoutRegardToCase) {
  FakePortal portal;
  portal.Add("onCrmDealAdd", "");
  portal.Sync(Lists(std::vector<std::string>{"ONCRMDEALADD"}, std::nullopt));
  EXPECT_THAT(portal.calls(), ElementsAre("event.get {}"));
}

TEST(BindingSync, AListNotGivenIsLeftAlone) {
  FakePortal portal;
  portal.Add("ONCRMDEALADD", "");
  portal.Add("ONCRMLEADADD", kHandler);
  BindingSync::Report r = portal.Sync(Lists(std::nullopt, std::vector<std::string>{}));
  EXPECT_THAT(portal.calls(),
              ElementsAre("event.get {}",
                          R"(event.unbind {"event":"ONCRMLEADADD","handler":"https://gw.example/events/main"})"))
      << "an empty online list unbinds this gateway's online bindings; no offline list keeps the offline ones";
  EXPECT_THAT(Names(r.found), ElementsAre("ONCRMLEADADD (online)"));
  portal.Sync(Lists(std::vector<std::string>{}, std::nullopt));
  EXPECT_THAT(portal.calls(), ElementsAre("event.get {}", R"(event.unbind {"event":"ONCRMDEALADD","event_type":"offline"})"));
}

TEST(BindingSync, OnlineBindingsOfAnotherHandlerAreNeverTouched) {
  FakePortal portal;
  portal.Add("ONCRMLEADADD", kOther);
  portal.Add("ONCRMDEALADD", "https://gw.example/events/other-portal");
  BindingSync::Report r = portal.Sync(Lists(std::nullopt, std::vector<std::string>{}));
  EXPECT_THAT(portal.calls(), ElementsAre("event.get {}"));
  EXPECT_THAT(r.found, IsEmpty());
}

TEST(BindingSync, ABindAStreamMadeMeanwhileCountsAsBound) {
  FakePortal portal;
  portal.FailWith("event.bind", B24ErrorStatus("ERROR_HANDLER_ALREADY_BINDED", "Handler already binded", 400));
  BindingSync::Report r = portal.Sync(Lists(std::vector<std::string>{"ONCRMDEALADD"}, std::nullopt));
  EXPECT_THAT(Names(r.bound), ElementsAre("ONCRMDEALADD (offline)"));
  EXPECT_THAT(r.errors, IsEmpty());
}

TEST(BindingSync, AFailedCallIsReportedAndTheOthersAreStillMade) {
  FakePortal portal;
  portal.Add("ONCRMCONTACTADD", "");
  portal.FailWith("event.bind", absl::PermissionDeniedError("insufficient rights"));
  BindingSync::Report r = portal.Sync(Lists(std::vector<std::string>{"ONCRMDEALADD", "ONCRMDEALUPDATE"}, std::nullopt));
  EXPECT_EQ(portal.calls().size(), 4u) << "get, two binds, one unbind";
  EXPECT_THAT(r.errors, ElementsAre("event.bind ONCRMDEALADD (offline): PERMISSION_DENIED: insufficient rights",
                                    "event.bind ONCRMDEALUPDATE (offline): PERMISSION_DENIED: insufficient rights"));
  EXPECT_THAT(r.bound, IsEmpty());
  EXPECT_THAT(Names(r.unbound), ElementsAre("ONCRMCONTACTADD (offline)"));
}

TEST(BindingSync, AFailedReadEndsThePass) {
  FakePortal portal;
  portal.FailWith("event.get", absl::UnavailableError("portal down"));
  BindingSync::Report r = portal.Sync(Lists(std::vector<std::string>{"ONCRMDEALADD"}, std::nullopt));
  EXPECT_THAT(portal.calls(), ElementsAre("event.get {}"));
  EXPECT_THAT(r.errors, ElementsAre("event.get: UNAVAILABLE: portal down"));
  EXPECT_THAT(Names(r.desired), ElementsAre("ONCRMDEALADD (offline)"));
  EXPECT_THAT(r.found, IsEmpty());
}

}  // namespace
}  // namespace b24gate::binding_sync_test
