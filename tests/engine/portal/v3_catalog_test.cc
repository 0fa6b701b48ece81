// V3Catalog on a fake portal and a fake clock: the OpenAPI document is
// fetched once (through the portal, as a REST 3.0 read) and shared by every
// caller that asked while it was on its way; "not found" makes the next
// caller fetch it again, no sooner than a minute after the last fetch; a
// portal without the document serves no REST 3.0; a failed first fetch is
// its callers' error and the next caller tries again.
#include "engine/portal/v3_catalog.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/common/errors.h"
#include "tests/support/fake_dispatcher.h"

namespace b24gate::v3_catalog_test {
namespace {

using Listed = absl::StatusOr<std::shared_ptr<const V3MethodSet>>;

CallReply Document(std::vector<std::string> paths) {
  CallReply reply;
  reply.result = {{"openapi", "3.0.0"}, {"paths", nlohmann::ordered_json::object()}};
  for (const std::string& p : paths) reply.result["paths"][p] = {{"post", {}}};
  return reply;
}

class V3CatalogTest : public ::testing::Test {
 protected:
  // Asks the catalog; the answer lands in the returned slot.
  std::shared_ptr<std::optional<Listed>> Ask() {
    auto slot = std::make_shared<std::optional<Listed>>();
    catalog_.Methods([slot](Listed listed) { *slot = std::move(listed); });
    return slot;
  }
  // Answers the one fetch waiting, checking what it asked for.
  void Answer(absl::StatusOr<CallReply> reply) {
    std::optional<FakeDispatcher::Request> r = portal_.Take();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "rest.documentation.openapi");
    EXPECT_EQ(r->options.api, RestApi::kV3);
    EXPECT_TRUE(r->options.idempotent);
    EXPECT_TRUE(r->as_json);
    r->call_done(std::move(reply));
  }

  FakeClock clock_;
  FakeDispatcher portal_;
  V3Catalog catalog_{&portal_, &clock_};
};

TEST_F(V3CatalogTest, ConcurrentFirstCallersShareOneFetch) {
  auto a = Ask();
  auto b = Ask();
  EXPECT_FALSE(a->has_value());
  EXPECT_EQ(portal_.waiting(), 1u);
  Answer(Document({"/tasks.task.list", "/Crm.Activity.Mail.GetContent", "/rest/api/batch"}));
  ASSERT_TRUE(a->has_value() && b->has_value());
  ASSERT_TRUE(a->value().ok()) << a->value().status();
  const V3MethodSet& methods = *a->value().value();
  EXPECT_EQ(methods, (V3MethodSet{"tasks.task.list", "crm.activity.mail.getcontent", "batch"}));
  // Kept: the next caller is answered at once, with nothing sent.
  auto c = Ask();
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ(c->value().value(), a->value().value());
  EXPECT_EQ(portal_.requests(), 1);
}

TEST_F(V3CatalogTest, StaleListIsFetchedAgainAtMostOncePerMinute) {
  Ask();
  Answer(Document({"/tasks.task.list"}));
  catalog_.MarkStale();
  // Within the minute the old list still answers.
  EXPECT_TRUE(Ask()->has_value());
  EXPECT_EQ(portal_.requests(), 1);
  clock_.Advance(V3Catalog::kMinRefresh);
  auto fresh = Ask();
  EXPECT_FALSE(fresh->has_value());
  Answer(Document({"/tasks.task.list", "/note.document.add"}));
  ASSERT_TRUE(fresh->has_value() && fresh->value().ok());
  EXPECT_EQ(fresh->value().value()->count("note.document.add"), 1u);
  // Fresh again: no more fetches however long after.
  clock_.Advance(absl::Hours(1));
  EXPECT_TRUE(Ask()->has_value());
  EXPECT_EQ(portal_.requests(), 2);
}

TEST_F(V3CatalogTest, PortalWithoutTheDocumentServesNoV3) {
  auto a = Ask();
  Answer(B24ErrorStatus("ERROR_METHOD_NOT_FOUND", "Method not found!", 404));
  ASSERT_TRUE(a->has_value() && a->value().ok()) << a->value().status();
  EXPECT_TRUE(a->value().value()->empty());
  EXPECT_TRUE(Ask()->has_value());
  EXPECT_EQ(portal_.requests(), 1);
}

TEST_F(V3CatalogTest, FailedFirstFetchIsTheCallersErrorAndIsTriedAgain) {
  auto a = Ask();
  Answer(absl::UnavailableError("connection refused"));
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ(a->value().status().code(), absl::StatusCode::kUnavailable);
  auto b = Ask();
  EXPECT_FALSE(b->has_value());
  Answer(Document({"/tasks.task.get"}));
  ASSERT_TRUE(b->has_value() && b->value().ok());
  EXPECT_EQ(portal_.requests(), 2);
}

TEST_F(V3CatalogTest, FailedRefreshKeepsTheEarlierList) {
  Ask();
  Answer(Document({"/tasks.task.get"}));
  catalog_.MarkStale();
  clock_.Advance(V3Catalog::kMinRefresh);
  auto a = Ask();
  Answer(absl::UnavailableError("timeout"));
  ASSERT_TRUE(a->has_value() && a->value().ok());
  EXPECT_EQ(a->value().value()->count("tasks.task.get"), 1u);
  // Tried again a minute later, not at once.
  EXPECT_TRUE(Ask()->has_value());
  EXPECT_EQ(portal_.requests(), 2);
}

TEST_F(V3CatalogTest, DocumentWithoutPathsIsAnError) {
  auto a = Ask();
  CallReply odd;
  odd.result = {{"openapi", "3.0.0"}};
  Answer(odd);
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ(a->value().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace b24gate::v3_catalog_test
