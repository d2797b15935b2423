#pragma once
// Time comes through this interface so tests move time instead of sleeping.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace hmc {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  // Wall-clock now. Thread-safe.
  virtual TimePoint now() const = 0;
};

class SystemTimeSource final : public TimeSource {
 public:
  TimePoint now() const override { return Clock::now(); }
};

// A clock that only moves when told to. Thread-safe.
class ManualTimeSource final : public TimeSource {
 public:
  explicit ManualTimeSource(TimePoint start = TimePoint{std::chrono::seconds{1'700'000'000}})
      : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint{Clock::duration{now_.load()}}; }
  void advance(Clock::duration d) { now_ += d.count(); }

 private:
  std::atomic<Clock::duration::rep> now_;
};

// RFC 3339 / ISO 8601 UTC with milliseconds, as Marathon writes timestamps.
std::string format_time(TimePoint t);
// Parses Marathon's timestamps ("2016-09-05T11:02:54.133Z"); nullopt if malformed.
std::optional<TimePoint> parse_time(std::string_view s);

}  // namespace hmc
