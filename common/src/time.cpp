#include "hmc/common/clock.hpp"

#include <cstdio>
#include <ctime>

namespace hmc {

namespace {
constexpr int kMinYear = 1678;
constexpr int kMaxYear = 2261;
}  // namespace

std::string format_time(TimePoint t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (ms < 0 && ms % 1000 != 0) --secs;
  const int frac = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::optional<TimePoint> parse_time(std::string_view s) {
  int y, mo, d, h, mi;
  double sec;
  char z = 0;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%c", &y, &mo, &d, &h, &mi, &sec, &z) < 6)
    return std::nullopt;
  // The year range keeps the time within TimePoint (int64 nanoseconds since
  // 1970 reach 1677..2262); `!(sec >= 0 ...)` also refuses a NaN ("nan").
  if (y < kMinYear || y > kMaxYear || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
      mi < 0 || mi > 59 || !(sec >= 0 && sec < 61))
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = 0;
  const std::time_t base = timegm(&tm);
  const auto ms = static_cast<long long>(sec * 1000.0 + 0.5);
  return TimePoint{std::chrono::seconds{base}} + std::chrono::milliseconds{ms};
}

}  // namespace hmc
