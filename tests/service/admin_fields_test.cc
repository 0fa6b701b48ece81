// One list, many views: every stat in portal_stats.h and every tunable in
// tuning_fields.h has a field of the same name in the admin proto, and the
// proto views are filled from those lists.
#include <gtest/gtest.h>

#include "bitrix24/gateway/v1/admin.pb.h"
#include "engine/portal/portal_stats.h"
#include "engine/portal/tuning_fields.h"
#include "service/admin_service.h"

namespace b24gate::admin_fields_test {
namespace {

namespace pb = bitrix24::gateway::v1;

TEST(AdminFields, EveryListedStatHasAProtoField) {
  const auto* d = pb::PortalStatus::descriptor();
#define B24GATE_EXPECT_FIELD(name, help) \
  EXPECT_NE(d->FindFieldByName(#name), nullptr) << "PortalStatus has no field " #name;
  B24GATE_PORTAL_COUNTERS(B24GATE_EXPECT_FIELD)
  B24GATE_PORTAL_GAUGES(B24GATE_EXPECT_FIELD)
#undef B24GATE_EXPECT_FIELD
}

TEST(AdminFields, EveryTunableHasAProtoField) {
  const auto* d = pb::PortalTuning::descriptor();
  for (const TuningField& f : TuningFields()) {
    EXPECT_NE(d->FindFieldByName(f.name), nullptr) << "PortalTuning has no field " << f.name;
  }
  // And the reverse: no proto field without a tunable.
  EXPECT_EQ(static_cast<size_t>(d->field_count()), TuningFields().size());
}

TEST(AdminFields, StatusIsFilledFromTheLists) {
  PortalStats s;
  int i = 1;
#define B24GATE_SET(name, help) s.name = i++;
  B24GATE_PORTAL_COUNTERS(B24GATE_SET)
  B24GATE_PORTAL_GAUGES(B24GATE_SET)
#undef B24GATE_SET
  s.operating["crm.lead.list"] = 2.5;
  pb::PortalStatus status;
  FillStatus(s, &status);
  EXPECT_EQ(status.http_requests(), s.http_requests);
  EXPECT_EQ(status.redirects(), s.redirects);
  EXPECT_EQ(status.bucket_level(), s.bucket_level);
  EXPECT_EQ(status.concurrency_limit(), static_cast<int>(s.concurrency_limit));
  EXPECT_EQ(status.rate_factor(), s.rate_factor);
  EXPECT_EQ(status.operating_seconds().at("crm.lead.list"), 2.5);
}

TEST(AdminFields, TuningRoundTripsAndMergeKeepsUnsetFields) {
  PortalTuning t;
  t.bucket.burst = 70;
  t.batch_size = 9;
  t.linger = absl::Milliseconds(7);
  t.operating.margin = absl::Seconds(12);
  pb::PortalTuning proto;
  FillTuning(t, &proto);
  EXPECT_EQ(proto.burst(), 70);
  EXPECT_EQ(proto.batch_size(), 9);
  EXPECT_EQ(proto.linger_ms(), 7);
  EXPECT_EQ(proto.operating_margin_seconds(), 12);
  pb::PortalTuning change;
  change.set_drain_per_second(0.5);
  change.set_max_concurrency(3);
  PortalTuning merged = t;
  MergeTuning(change, &merged);
  EXPECT_EQ(merged.bucket.drain_per_second, 0.5);
  EXPECT_EQ(merged.max_concurrency, 3);
  EXPECT_EQ(merged.bucket.burst, 70);
  EXPECT_EQ(merged.batch_size, 9);
}

}  // namespace
}  // namespace b24gate::admin_fields_test
