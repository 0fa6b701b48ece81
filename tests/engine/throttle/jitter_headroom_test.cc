// The headroom sized by the jitter of the portal's answers (JitterHeadroom),
// and the local budget that applies it (LocalRequestBudget), on made-up
// times: no clock runs.
#include "engine/throttle/jitter_headroom.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "engine/budget/local_budget_store.h"

namespace b24gate::jitter_headroom_test {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

// Answers `n` requests, one every `every`, each delayed `delay(i)`; returns
// the time after the last.
template <typename Delay>
absl::Time AnswerEvery(JitterHeadroom* j, absl::Time from, int n, absl::Duration every,
                       Delay delay) {
  absl::Time t = from;
  for (int i = 0; i < n; ++i, t += every) j->Observe(t, t + delay(i), t + absl::Milliseconds(300));
  return t;
}

TEST(JitterHeadroom, TheConfiguredHeadroomUntilEnoughAnswersAreSeen) {
  JitterHeadroom j;
  EXPECT_EQ(j.Headroom(1, 2, kT0), 1);
  AnswerEvery(&j, kT0, 9, absl::Milliseconds(500), [](int) { return absl::Milliseconds(30); });
  EXPECT_FALSE(j.Spread(kT0 + absl::Seconds(5)));
  EXPECT_EQ(j.Headroom(1, 2, kT0 + absl::Seconds(5)), 1) << "9 answers are not enough";
}

// Steady delays (30 ms, ± 2 ms) leave the floor: 0.1 s × 2/s = 0.2 requests,
// instead of a whole one; at 5/s (enterprise) 0.5.
TEST(JitterHeadroom, ShrinksUnderSteadyDelays) {
  JitterHeadroom j;
  const absl::Time end = AnswerEvery(&j, kT0, 40, absl::Milliseconds(500), [](int i) {
    return absl::Milliseconds(28 + (i * 7) % 5);
  });
  ASSERT_TRUE(j.Spread(end));
  EXPECT_EQ(*j.Spread(end), absl::Milliseconds(4));
  EXPECT_DOUBLE_EQ(j.Headroom(1, 2, end), 0.2);
  EXPECT_DOUBLE_EQ(j.Headroom(1, 5, end), 0.5);
  // Wider steady spread: 2 × 80 ms × 2/s.
  JitterHeadroom wide;
  const absl::Time t = AnswerEvery(&wide, kT0, 40, absl::Milliseconds(500), [](int i) {
    return absl::Milliseconds(i % 2 == 0 ? 20 : 100);
  });
  EXPECT_DOUBLE_EQ(wide.Headroom(1, 2, t), 0.32);
}

// One answer delayed 200 ms more than the rest widens the headroom with
// that answer (a load spike), and it stays wide until the answer leaves the
// window and a busy period it was in; then it shrinks back.
TEST(JitterHeadroom, GrowsAtOnceOnJitterAndShrinksOnlyWhenItLeavesTheWindow) {
  JitterHeadroom j;
  absl::Time t = AnswerEvery(&j, kT0, 20, absl::Milliseconds(500),
                             [](int) { return absl::Milliseconds(30); });
  ASSERT_DOUBLE_EQ(j.Headroom(5, 2, t), 0.2);
  j.Observe(t, t + absl::Milliseconds(230), t + absl::Milliseconds(300));
  EXPECT_DOUBLE_EQ(j.Headroom(5, 2, t + absl::Milliseconds(300)), 0.8);  // 2 × 0.2 s × 2/s
  t = AnswerEvery(&j, t + absl::Milliseconds(500), 100, absl::Milliseconds(500),
                  [](int) { return absl::Milliseconds(30); });
  EXPECT_DOUBLE_EQ(j.Headroom(5, 2, t), 0.8) << "50 s later the spike is still in the window";
  j.BusyPeriodBegins(t);  // and the counter has emptied since
  t = AnswerEvery(&j, t, 30, absl::Milliseconds(500), [](int) { return absl::Milliseconds(30); });
  EXPECT_DOUBLE_EQ(j.Headroom(5, 2, t), 0.2) << "65 s later it has left";
}

TEST(JitterHeadroom, NeverExceedsTheConfiguredHeadroom) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> ms(0, 3000);
  JitterHeadroom j;
  absl::Time t = kT0;
  for (int i = 0; i < 500; ++i, t += absl::Milliseconds(200)) {
    j.Observe(t, t + absl::Milliseconds(ms(random)), t);
    for (double configured : {0.0, 0.5, 1.0, 3.0}) {
      ASSERT_LE(j.Headroom(configured, 2, t), configured) << "answer " << i;
      ASSERT_LE(j.Headroom(configured, 200, t), configured) << "answer " << i;
    }
  }
  EXPECT_DOUBLE_EQ(j.Headroom(3, 2, t), 3) << "3 s of jitter: the whole configured headroom";
}

// A path slow for minutes (330 ms instead of 30) keeps the headroom its
// drop back would need, though the last minute's delays agree: the counter
// holds requests that took 330 ms, and the next may take 30.
TEST(JitterHeadroom, APathSlowForMinutesKeepsTheHeadroomItsReturnNeeds) {
  JitterHeadroom j;
  absl::Time t = AnswerEvery(&j, kT0, 20, absl::Milliseconds(500),
                             [](int) { return absl::Milliseconds(30); });
  t = AnswerEvery(&j, t, 360, absl::Milliseconds(500), [](int) { return absl::Milliseconds(330); });
  EXPECT_DOUBLE_EQ(j.Headroom(5, 2, t), 1.2) << "2 × 0.3 s × 2/s, 3 minutes on";
  t = AnswerEvery(&j, t, 1000, absl::Milliseconds(500),
                  [](int) { return absl::Milliseconds(330); });
  EXPECT_DOUBLE_EQ(j.Headroom(5, 2, t), 0.2) << "ten minutes on, the slow path is the path";
}

// A portal idle for a window: its old answers say nothing of the network
// now, and it starts again at the configured headroom.
TEST(JitterHeadroom, AnIdleWindowStartsAgainAtTheConfiguredHeadroom) {
  JitterHeadroom j;
  const absl::Time t = AnswerEvery(&j, kT0, 20, absl::Milliseconds(500),
                                   [](int) { return absl::Milliseconds(30); });
  ASSERT_DOUBLE_EQ(j.Headroom(1, 2, t), 0.2);
  EXPECT_EQ(j.Headroom(1, 2, t + absl::Seconds(61)), 1);
}

// The local budget on a saturated standard-plan portal (burst 50, 2/s,
// configured headroom 1). Each request reaches the portal `delay` after its
// slot, and its answer feeds the budget 300 ms after it arrived. The
// portal's counter (its docs' rule: refused when above 49 on arrival) is
// replayed afterwards over the arrivals in their order.
struct Saturated {
  explicit Saturated(BucketPolicy policy, JitterPolicy jitter = {})
      : budget(policy, jitter), drain(policy.drain_per_second) {}

  // Sends every request the budget lets go before `until`; false if one
  // left where the model with the headroom in force says the counter passes
  // burst - 1 - headroom.
  template <typename Delay>
  bool Run(absl::Time until, Delay delay) {
    while (true) {
      const absl::Time slot = budget.NextFree(now);
      // An answer before the slot may move it (a smaller headroom).
      if (!pending.empty() && AnsweredAt(pending.front()) < slot) {
        now = std::max(now, AnsweredAt(pending.front()));
        const auto [sent_at, arrival] = pending.front();
        pending.pop_front();
        budget.ObserveStart(sent_at, arrival, now);
        continue;
      }
      if (slot >= until) return true;
      now = slot;
      const double before = budget.Level(now);
      if (budget.Reserve(now) != now) continue;
      if (before > budget.policy().burst - 1 - budget.Headroom() + 1e-9) return false;
      const absl::Time arrival = now + delay(static_cast<int>(slots.size()));
      slots.push_back(now);
      arrivals.push_back(arrival);
      pending.push_back({now, arrival});
    }
  }
  static absl::Time AnsweredAt(const std::pair<absl::Time, absl::Time>& request) {
    return request.second + absl::Milliseconds(300);
  }
  // The portal's highest counter on a request's arrival (refused above 49).
  double PortalWorst() const {
    std::vector<absl::Time> in_order = arrivals;
    std::sort(in_order.begin(), in_order.end());
    double counter = 0;
    double worst = 0;
    for (size_t i = 0; i < in_order.size(); ++i) {
      if (i > 0) {
        counter = std::max(
            0.0, counter - absl::ToDoubleSeconds(in_order[i] - in_order[i - 1]) * drain);
      }
      worst = std::max(worst, counter);
      counter += 1;
    }
    return worst;
  }

  LocalRequestBudget budget;
  double drain;
  absl::Time now = kT0;
  std::vector<absl::Time> slots;
  std::vector<absl::Time> arrivals;  // in the order sent
  std::deque<std::pair<absl::Time, absl::Time>> pending;  // (slot, arrival)
};

// Steady 20-40 ms delays: once ten answers are in, the headroom is the
// floor (0.2 of a request): the 50th request goes at the tenth answer
// instead of 0.5 s after the burst, and every one after it 0.4 s earlier
// than with a whole request kept; the portal refuses none.
TEST(LocalRequestBudget, SendsWithTheMeasuredHeadroomAndThePortalRefusesNone) {
  Saturated s(BucketPolicy{50, 2, 1});
  ASSERT_TRUE(s.Run(kT0 + absl::Seconds(60),
                    [](int i) { return absl::Milliseconds(20 + (i * 13) % 21); }));
  EXPECT_LE(s.PortalWorst(), 49 + 1e-9) << "the portal refused a request";
  EXPECT_DOUBLE_EQ(s.budget.Headroom(), 0.2);
  EXPECT_EQ(s.budget.policy().headroom, 1) << "the configured one is kept";
  ASSERT_GE(s.slots.size(), 100u);
  EXPECT_EQ(s.slots[48], kT0);
  EXPECT_LT(s.slots[49], kT0 + absl::Milliseconds(500));
  // With headroom 1 the 100th would go at 25.5 s.
  EXPECT_EQ(s.slots[99], kT0 + absl::Seconds(25.1));
}

// The portal's counter, saturated, keeps the timing of the request that
// began its busy period: one arriving faster than that one did arrives
// early on it by the difference. Here the burst takes 110 ms and every
// tenth request after it 20 ms: 90 ms early, 0.18 of a request at 2/s.
// The headroom in force covers it (the floor's 0.2 before the first fast
// answer, 2 × 90 ms × 2/s after), and the portal refuses none; with none
// kept it refuses.
TEST(LocalRequestBudget, AJitterWithinTheHeadroomInForceIsNeverRefused) {
  auto delay = [](int i) { return absl::Milliseconds(i >= 50 && i % 10 == 5 ? 20 : 110); };
  Saturated s(BucketPolicy{50, 2, 1});
  ASSERT_TRUE(s.Run(kT0 + absl::Seconds(80), delay));
  EXPECT_LE(s.PortalWorst(), 49 + 1e-9) << "the portal refused a request";
  EXPECT_DOUBLE_EQ(s.budget.Headroom(), 0.36);
  Saturated none(BucketPolicy{50, 2, 0});
  ASSERT_TRUE(none.Run(kT0 + absl::Seconds(80), delay));
  EXPECT_GT(none.PortalWorst(), 49 + 1e-9);
}

// A read 100 s ago saw 20 ms; this one begins on a path taking 300 ms,
// for two minutes, then 20 ms again: the requests after the drop arrive
// 280 ms early on the counter the first ones began (0.56 of a request at
// 2/s), for as long as it stays busy. The headroom kept for it (the
// slowest delay of the busy period less the fastest of ten minutes)
// absorbs it; the floor's alone (what the last minute's delays would size)
// is refused.
TEST(LocalRequestBudget, ADelayThatDropsAfterMinutesIsNeverRefused) {
  auto run = [](double configured) {
    auto s = std::make_unique<Saturated>(BucketPolicy{50, 2, configured});
    for (int i = 0; i < 10; ++i) {
      const absl::Time sent = kT0 - absl::Seconds(100) + absl::Milliseconds(i);
      s->budget.ObserveStart(sent, sent + absl::Milliseconds(20), sent + absl::Seconds(1));
    }
    EXPECT_TRUE(s->Run(kT0 + absl::Seconds(200), [](int i) {
      return absl::Milliseconds(i < 290 ? 300 : 20);
    }));
    return s;
  };
  auto measured = run(1);
  EXPECT_LE(measured->PortalWorst(), 49 + 1e-9) << "the portal refused a request";
  EXPECT_DOUBLE_EQ(measured->budget.Headroom(), 1) << "80 s after the drop, still busy";
  // The floor's headroom kept throughout: refused.
  EXPECT_GT(run(0.2)->PortalWorst(), 49 + 1e-9);
}

// The operator's value stays the most: a configured headroom of 0.1 is
// kept under any jitter, and 0 keeps none.
TEST(LocalRequestBudget, NeverKeepsMoreThanTheConfiguredHeadroom) {
  for (double configured : {0.0, 0.1, 1.0}) {
    LocalRequestBudget budget(BucketPolicy{50, 2, configured});
    absl::Time t = kT0;
    for (int i = 0; i < 40; ++i, t += absl::Milliseconds(500)) {
      budget.ObserveStart(t, t + absl::Milliseconds(i % 2 ? 10 : 900), t + absl::Seconds(1));
      ASSERT_LE(budget.Headroom(), configured);
    }
    EXPECT_EQ(budget.Headroom(), configured);
    EXPECT_EQ(budget.Jitter(t), absl::Milliseconds(890));
  }
}

}  // namespace
}  // namespace b24gate::jitter_headroom_test
