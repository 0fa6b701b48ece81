// The offline event queue of the emulator (events.h): bindings, firing on
// CRM writes, auth_connector, process_id marking, clear and error.
#include "tests/emulator/events.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/emulator/test/fake_clock.h"

namespace b24emu::events_test {
namespace {

using Json = nlohmann::json;

// crm.deal.add answers the next id; update and delete answer true.
class DealTable : public MethodTable {
 public:
  bool HasMethod(const std::string& method) const override {
    return method == "crm.deal.add" || method == "crm.deal.update" ||
           method == "crm.deal.delete" || method == "crm.deal.get";
  }
  MethodResult Invoke(const MethodCall& call) override {
    MethodResult result;
    if (call.method == "crm.deal.add") {
      result.result = next_id_++;
    } else if (call.params.value("id", "") == "404") {
      result.is_error = true;
      result.http_status = 400;
      result.error_description = "Not found";
    } else {
      result.result = call.method == "crm.deal.get" ? Json::object() : Json(true);
    }
    return result;
  }

 private:
  int64_t next_id_ = 1;
};

class EventsTest : public ::testing::Test {
 protected:
  MethodResult Run(const std::string& method, Json params = Json::object()) {
    MethodCall call;
    call.method = method;
    call.params = std::move(params);
    return events_.Invoke(call);
  }
  void BindOffline(const std::string& event, const std::string& connector = "") {
    Json params = {{"event", event}, {"event_type", "offline"}};
    if (!connector.empty()) params["auth_connector"] = connector;
    ASSERT_FALSE(Run("event.bind", params).is_error);
  }
  // The queued events' names and record ids, as "NAME:ID".
  std::vector<std::string> Names(const Json& events) {
    std::vector<std::string> out;
    for (const Json& e : events) {
      out.push_back(e["EVENT_NAME"].get<std::string>() + ":" +
                    e["EVENT_DATA"]["FIELDS"]["ID"].dump());
    }
    return out;
  }

  FakeClock clock_;
  DealTable deals_;
  EventingMethods events_{&deals_, &clock_};
};

TEST_F(EventsTest, WritesFireOnlyBoundEventsWithTheRecordId) {
  BindOffline("onCrmDealAdd");
  BindOffline("ONCRMDEALUPDATE");
  Run("crm.deal.add", {{"fields", {{"TITLE", "a"}}}});
  Run("crm.deal.update", {{"id", "1"}});
  Run("crm.deal.delete", {{"id", "1"}});                  // not bound
  Run("crm.deal.update", {{"id", "404"}});                // failed: nothing fires
  Run("crm.deal.get", {{"id", "1"}});                     // a read fires nothing
  MethodResult got = Run("event.offline.get", Json::object());
  ASSERT_FALSE(got.is_error);
  EXPECT_EQ(Names(got.result["events"]),
            (std::vector<std::string>{"ONCRMDEALADD:1", "ONCRMDEALUPDATE:1"}));
  const Json& first = got.result["events"][0];
  for (const char* key : {"ID", "TIMESTAMP_X", "EVENT_ADDITIONAL", "MESSAGE_ID"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
}

TEST_F(EventsTest, BindRefusesOnlineHandlersUnknownEventsAndDuplicates) {
  EXPECT_EQ(Run("event.bind", {{"event", "ONCRMDEALADD"}, {"handler", "http://h/"}}).error,
            "ERROR_ARGUMENT");
  EXPECT_EQ(Run("event.bind", {{"event", "ONNOTHING"}, {"event_type", "offline"}}).error,
            "ERROR_EVENT_NOT_FOUND");
  BindOffline("ONCRMDEALADD");
  EXPECT_EQ(Run("event.bind", {{"event", "ONCRMDEALADD"}, {"event_type", "offline"}}).error,
            "ERROR_HANDLER_ALREADY_BINDED");
  EXPECT_EQ(Run("event.get").result.size(), 1u);
  EXPECT_EQ(Run("event.unbind", {{"event", "ONCRMDEALADD"}}).result["count"], 0)
      << "online by default: the offline binding stays";
  EXPECT_EQ(Run("event.unbind", {{"event", "ONCRMDEALADD"}, {"event_type", "offline"}}).result["count"], 1);
  EXPECT_EQ(Run("event.get").result.size(), 0u);
}

TEST_F(EventsTest, CallsCarryingTheBindingsAuthConnectorQueueNothing) {
  BindOffline("ONCRMDEALADD", "service-a");
  Run("crm.deal.add", {{"auth_connector", "service-a"}});
  Run("crm.deal.add", {{"auth_connector", "service-b"}});
  Run("crm.deal.add");
  EXPECT_EQ(Names(Run("event.offline.get").result["events"]),
            (std::vector<std::string>{"ONCRMDEALADD:2", "ONCRMDEALADD:3"}));
}

TEST_F(EventsTest, ClearZeroMarksRowsThatTheSameProcessReadsAgainUntilCleared) {
  BindOffline("ONCRMDEALADD");
  for (int i = 0; i < 3; ++i) Run("crm.deal.add");
  Json taken = Run("event.offline.get", {{"clear", "0"}, {"process_id", "p1"}, {"limit", "2"}})
                   .result;
  EXPECT_EQ(taken["process_id"], "p1");
  ASSERT_EQ(Names(taken["events"]),
            (std::vector<std::string>{"ONCRMDEALADD:1", "ONCRMDEALADD:2"}));
  // Another process gets the rest (disjoint sets), and nothing was deleted.
  Json other = Run("event.offline.get", {{"clear", "0"}, {"process_id", "p2"}}).result;
  EXPECT_EQ(Names(other["events"]), (std::vector<std::string>{"ONCRMDEALADD:3"}));
  EXPECT_EQ(Run("event.offline.list").result.size(), 3u);
  // The same process reads its rows again; clearing one leaves the other.
  EXPECT_EQ(Run("event.offline.get", {{"clear", "0"}, {"process_id", "p1"}}).result["events"]
                .size(),
            2u);
  const std::string first_id = taken["events"][0]["ID"];
  ASSERT_FALSE(Run("event.offline.clear", {{"process_id", "p1"}, {"id", Json::array({first_id})}})
                   .is_error);
  EXPECT_EQ(Names(Run("event.offline.get", {{"clear", "0"}, {"process_id", "p1"}})
                      .result["events"]),
            (std::vector<std::string>{"ONCRMDEALADD:2"}));
  // Clearing with another process's id deletes nothing.
  Run("event.offline.clear", {{"process_id", "p2"}, {"id", Json::array({"2"})}});
  EXPECT_EQ(Run("event.offline.list").result.size(), 2u);
  EXPECT_EQ(Run("event.offline.clear", Json::object()).error, "ERROR_ARGUMENT");
}

TEST_F(EventsTest, RepeatedChangesOfAnObjectCollapseUntilAReaderTakesTheRow) {
  BindOffline("ONCRMDEALUPDATE");
  Run("crm.deal.update", {{"id", "5"}});
  clock_.Advance(absl::Seconds(3));
  Run("crm.deal.update", {{"id", "5"}});
  Run("crm.deal.update", {{"id", "6"}});
  Json taken = Run("event.offline.get", {{"clear", "0"}, {"process_id", "p"}}).result;
  ASSERT_EQ(Names(taken["events"]),
            (std::vector<std::string>{"ONCRMDEALUPDATE:5", "ONCRMDEALUPDATE:6"}));
  EXPECT_EQ(taken["events"][0]["TIMESTAMP_X"], taken["events"][1]["TIMESTAMP_X"])
      << "the collapsed row carries the time of the latest change";
  // Once taken, a new change is a new row: the reader must not clear it unseen.
  Run("crm.deal.update", {{"id", "5"}});
  EXPECT_EQ(Run("event.offline.list").result.size(), 3u);
}

TEST_F(EventsTest, DefaultClearDeletesWhatItReturns) {
  BindOffline("ONCRMDEALADD");
  Run("crm.deal.add");
  EXPECT_EQ(Run("event.offline.get").result["events"].size(), 1u);
  EXPECT_EQ(Run("event.offline.get").result["events"].size(), 0u);
  EXPECT_EQ(Run("event.offline.list").result.size(), 0u);
}

TEST_F(EventsTest, ErrorRowsAreSkippedUnlessAskedFor) {
  BindOffline("ONCRMDEALADD");
  Run("crm.deal.add");
  Json taken = Run("event.offline.get", {{"clear", "0"}, {"process_id", "p"}}).result;
  const std::string message_id = taken["events"][0]["MESSAGE_ID"];
  Run("event.offline.error", {{"process_id", "p"}, {"message_id", Json::array({message_id})}});
  EXPECT_EQ(Run("event.offline.get", {{"clear", "0"}, {"process_id", "p"}}).result["events"]
                .size(),
            0u);
  EXPECT_EQ(Run("event.offline.get", {{"clear", "0"}, {"process_id", "p"}, {"error", "1"}})
                .result["events"]
                .size(),
            1u);
}

TEST_F(EventsTest, EventNamesFollowTheMethod) {
  EXPECT_EQ(EventingMethods::EventOf("crm.company.delete"), "ONCRMCOMPANYDELETE");
  EXPECT_EQ(EventingMethods::EventOf("crm.deal.list"), "");
  EXPECT_EQ(EventingMethods::EventOf("crm.deal.productrows.set"), "");
  EXPECT_EQ(EventingMethods::EventOf("tasks.task.add"), "");
}

}  // namespace
}  // namespace b24emu::events_test

namespace b24emu::events_test {
namespace {

class RecordingPoster : public EventPoster {
 public:
  void Post(std::string url, std::string form) override { posts.push_back({url, form}); }
  std::vector<std::pair<std::string, std::string>> posts;
};

class OnlineEventsTest : public EventsTest {
 protected:
  RecordingPoster poster_;
  EventingMethods online_{&deals_, &clock_, &poster_,
                          PortalIdentity{"p.example", "member42", "app-token-1"}};
  MethodResult RunOnline(const std::string& method, Json params = Json::object()) {
    MethodCall call;
    call.method = method;
    call.params = std::move(params);
    return online_.Invoke(call);
  }
};

TEST_F(OnlineEventsTest, ABoundHandlerIsPostedTheDocumentedFormOncePerChange) {
  ASSERT_FALSE(RunOnline("event.bind", {{"event", "ONCRMDEALADD"}, {"handler", "http://h/events/main"}}).is_error);
  EXPECT_EQ(RunOnline("event.bind", {{"event", "ONCRMDEALADD"}, {"handler", "http://h/events/main"}}).error,
            "ERROR_HANDLER_ALREADY_BINDED");
  RunOnline("crm.deal.add", {{"fields", {{"TITLE", "a"}}}});
  RunOnline("crm.deal.update", {{"id", "1"}});  // not bound
  ASSERT_EQ(poster_.posts.size(), 1u);
  EXPECT_EQ(poster_.posts[0].first, "http://h/events/main");
  const std::string& form = poster_.posts[0].second;
  for (const char* part : {"event=ONCRMDEALADD", "event_handler_id=1", "data%5BFIELDS%5D%5BID%5D=1",
                           "auth%5Bdomain%5D=p.example", "auth%5Bmember_id%5D=member42",
                           "auth%5Bapplication_token%5D=app-token-1", "&ts="}) {
    EXPECT_NE(form.find(part), std::string::npos) << part << " in " << form;
  }
  Json bindings = RunOnline("event.get").result;
  ASSERT_EQ(bindings.size(), 1u);
  EXPECT_EQ(bindings[0]["handler"], "http://h/events/main");
}

TEST_F(OnlineEventsTest, OnOfflineEventIsPostedWhenTheQueueStopsBeingEmpty) {
  ASSERT_FALSE(RunOnline("event.bind", {{"event", "ONCRMDEALADD"}, {"event_type", "offline"}}).is_error);
  ASSERT_FALSE(RunOnline("event.bind", {{"event", "ONOFFLINEEVENT"}, {"handler", "http://h/n"}}).is_error);
  EXPECT_EQ(RunOnline("event.bind", {{"event", "ONOFFLINEEVENT"}, {"event_type", "offline"}}).error,
            "ERROR_ARGUMENT");
  RunOnline("crm.deal.add", Json::object());
  RunOnline("crm.deal.add", Json::object());  // the queue was not empty: no second notice
  ASSERT_EQ(poster_.posts.size(), 1u);
  EXPECT_NE(poster_.posts[0].second.find("event=ONOFFLINEEVENT"), std::string::npos);
  EXPECT_EQ(poster_.posts[0].second.find("data%5B"), std::string::npos) << "it carries no data";
  RunOnline("event.offline.get", {{"clear", 1}});
  RunOnline("crm.deal.add", Json::object());  // empty again, then not
  EXPECT_EQ(poster_.posts.size(), 2u);
}

}  // namespace
}  // namespace b24emu::events_test
