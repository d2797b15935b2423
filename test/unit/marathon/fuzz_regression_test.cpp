// Inputs the fuzz targets (test/fuzz) found breaking the Marathon parsers,
// each reduced to what broke; the full inputs are in test/fuzz/regressions/
// and fuzz_replay_test runs them too.

#include "hmc/marathon/marathon_client.hpp"

#include <gtest/gtest.h>

namespace hmc::marathon {
namespace {

// parse_queue: an offer timestamp in the year 8372 overflowed the time
// conversion (undefined behaviour); malformed timestamps are absent.
TEST(FuzzRegression, QueueTimestampsBeyondTheClockRangeAreAbsent) {
  auto queue = parse_queue(R"({"queue":[{"app":{"id":"/a"},"count":1,"since":"8372-01-01T00:09:00.000Z",
      "processedOffersSummary":{"lastUnusedOfferAt":"9999-12-31T23:59:59.999Z"},
      "lastUnusedOffers":[{"offer":{"id":"o"},"timestamp":"8372-01-01T00:09:00.000Z","reason":[]}]}]})");
  ASSERT_TRUE(queue) << queue.error().message;
  const auto& e = queue->at(0);
  EXPECT_FALSE(e.since);
  EXPECT_FALSE(e.last_unused_offer_at);
  EXPECT_FALSE(e.last_unused_offers.at(0).timestamp);
}

}  // namespace
}  // namespace hmc::marathon
