#include "hmc/common/clock.hpp"

#include <gtest/gtest.h>

namespace hmc {
namespace {

TEST(ParseTime, MarathonTimestampsRoundTrip) {
  for (const char* s : {"2016-09-05T11:02:54.133Z", "1970-01-01T00:00:00.000Z", "2261-12-31T23:59:59.999Z",
                        "1678-01-01T00:00:00.000Z"}) {
    const auto t = parse_time(s);
    ASSERT_TRUE(t) << s;
    EXPECT_EQ(format_time(*t), s);
  }
}

// Found by the parse_status and marathon_queue fuzz targets
// (test/fuzz/regressions): a year beyond what TimePoint holds overflowed the
// seconds-to-nanoseconds conversion (undefined behaviour) instead of being
// refused as malformed.
TEST(ParseTime, YearsBeyondTheClockRangeAreMalformed) {
  EXPECT_FALSE(parse_time("8048-11-25T18:01:30.000Z"));
  EXPECT_FALSE(parse_time("8372-01-01T00:09:00.000Z"));
  EXPECT_FALSE(parse_time("2262-06-01T00:00:00.000Z"));
  EXPECT_FALSE(parse_time("1600-01-01T00:00:00.000Z"));
  EXPECT_FALSE(parse_time("-999-01-01T00:00:00.000Z"));
}

TEST(ParseTime, NotANumberSecondsAreMalformed) {
  EXPECT_FALSE(parse_time("2026-01-01T00:00:nanZ"));
  EXPECT_FALSE(parse_time("2026-01-01T00:00:infZ"));
  EXPECT_FALSE(parse_time("2026-01-01T00:-1:00Z"));
  EXPECT_FALSE(parse_time("2026-01-01T-1:00:00Z"));
}

}  // namespace
}  // namespace hmc
