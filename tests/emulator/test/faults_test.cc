#include "tests/emulator/faults.h"

#include <gtest/gtest.h>

namespace b24emu::faults_test {
namespace {

TEST(FaultSpecTest, ParsesKindsCountsAndMethod) {
  absl::StatusOr<FaultSpec> spec = ParseFaultSpec("500=0.25, reset=@3,method=crm.deal.add");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->entries.size(), 2u);
  EXPECT_EQ(spec->entries[0].kind, FaultKind::k500);
  EXPECT_DOUBLE_EQ(spec->entries[0].probability, 0.25);
  EXPECT_EQ(spec->entries[0].remaining, -1);
  EXPECT_EQ(spec->entries[1].kind, FaultKind::kReset);
  EXPECT_EQ(spec->entries[1].remaining, 3);
  EXPECT_EQ(spec->method, "crm.deal.add");
}

TEST(FaultSpecTest, EmptyAndNone) {
  EXPECT_TRUE(ParseFaultSpec("")->entries.empty());
  EXPECT_TRUE(ParseFaultSpec("none")->entries.empty());
}

TEST(FaultSpecTest, RejectsBadInput) {
  EXPECT_FALSE(ParseFaultSpec("teapot=1").ok());
  EXPECT_FALSE(ParseFaultSpec("500").ok());
  EXPECT_FALSE(ParseFaultSpec("500=1.5").ok());
  EXPECT_FALSE(ParseFaultSpec("500=@x").ok());
  EXPECT_FALSE(ParseFaultSpec("500=-0.1").ok());
}

TEST(FaultInjectorTest, CountedFaultsInSpecOrderThenNothing) {
  FaultInjector injector(1);
  injector.Set(*ParseFaultSpec("502=@2,delay=@1"));
  EXPECT_EQ(injector.Draw("m"), FaultKind::k502);
  EXPECT_EQ(injector.Draw("m"), FaultKind::k502);
  EXPECT_EQ(injector.Draw("m"), FaultKind::kDelay);
  EXPECT_EQ(injector.Draw("m"), FaultKind::kNone);
  EXPECT_EQ(injector.Describe(), "502=@0,delay=@0");
}

TEST(FaultInjectorTest, ProbabilityZeroAndOne) {
  FaultInjector injector(1);
  injector.Set(*ParseFaultSpec("overload=0"));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(injector.Draw("m"), FaultKind::kNone);
  injector.Set(*ParseFaultSpec("overload=1"));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(injector.Draw("m"), FaultKind::kOverload);
}

TEST(FaultInjectorTest, SameSeedSameSequence) {
  FaultInjector a(42), b(42);
  a.Set(*ParseFaultSpec("500=0.3,504=0.3"));
  b.Set(*ParseFaultSpec("500=0.3,504=0.3"));
  int hits = 0;
  for (int i = 0; i < 1000; ++i) {
    const FaultKind k = a.Draw("m");
    ASSERT_EQ(k, b.Draw("m"));
    hits += k != FaultKind::kNone;
  }
  EXPECT_GT(hits, 450);  // ~600 expected; a loose bound, not a statistics test
  EXPECT_LT(hits, 750);
}

TEST(FaultInjectorTest, MethodRestrictionDoesNotConsumeCounts) {
  FaultInjector injector(1);
  injector.Set(*ParseFaultSpec("500=@1,method=crm.deal.add"));
  EXPECT_EQ(injector.Draw("crm.lead.add"), FaultKind::kNone);
  EXPECT_EQ(injector.Draw("crm.deal.add"), FaultKind::k500);
  EXPECT_EQ(injector.Draw("crm.deal.add"), FaultKind::kNone);
}

TEST(FaultKindTest, WhichKindsPreventExecution) {
  EXPECT_TRUE(FaultPreventsExecution(FaultKind::k502));
  EXPECT_TRUE(FaultPreventsExecution(FaultKind::kRedirect));
  EXPECT_TRUE(FaultPreventsExecution(FaultKind::kOverload));
  EXPECT_FALSE(FaultPreventsExecution(FaultKind::k500));
  EXPECT_FALSE(FaultPreventsExecution(FaultKind::k504));
  EXPECT_FALSE(FaultPreventsExecution(FaultKind::kReset));
  EXPECT_FALSE(FaultPreventsExecution(FaultKind::kDelay));
}

}  // namespace
}  // namespace b24emu::faults_test
