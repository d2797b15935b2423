// Inputs the fuzz targets (test/fuzz) found breaking the reconciler's codecs,
// each reduced to what broke; the full inputs are in test/fuzz/regressions/
// and fuzz_replay_test runs them too.

#include "hmc/reconciler/status.hpp"

#include <gtest/gtest.h>

namespace hmc::reconciler {
namespace {

// parse_status: a time whose year lies beyond TimePoint's range overflowed
// (undefined behaviour); now it is malformed and keeps its default.
TEST(FuzzRegression, StatusTimesBeyondTheClockRangeKeepTheirDefaults) {
  const auto s = parse_status(R"({"name":"word-count","updatedAt":"8048-11-25T18:01:30.000Z",
      "nextRetryTime":"9999-01-01T00:00:00.000Z","waiting":{"since":"2262-05-01T00:00:00.000Z"},
      "conditions":[{"type":"Synced","status":"True","lastTransitionTime":"5000-01-01T00:00:00.000Z"}]})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->updated_at, TimePoint{});
  EXPECT_FALSE(s->next_retry_time);
  ASSERT_TRUE(s->waiting);
  EXPECT_FALSE(s->waiting->since);
  ASSERT_EQ(s->conditions.size(), 1u);
  EXPECT_EQ(s->conditions[0].last_transition_time, TimePoint{});
  EXPECT_EQ(parse_status(to_json(*s)), s);
}

}  // namespace
}  // namespace hmc::reconciler
