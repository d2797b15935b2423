// Failing containers: counting task failures across snapshots. Marathon keeps
// one lastTaskFailure per app (TaskFailure: taskId, timestamp, version,
// message, state, host) and replaces it at the next failure, so the counts
// live in the status the controller writes, keyed by task id. A failure
// belongs to the app's current config when its version (the app version the
// task was launched with) is not older than versionInfo.lastConfigChangeAt,
// as Marathon's TaskStatsByVersion tells withLatestConfig from
// withOutdatedConfig.

#include "hmc/reconciler/reconcile.hpp"

#include <algorithm>
#include <cmath>

namespace hmc::reconciler {

namespace {

std::optional<TimePoint> config_version_of(const ObservedApp& a) {
  if (a.config_version) return a.config_version;
  if (!a.version.empty()) return parse_time(a.version);
  return std::nullopt;
}

bool of_current_config(const TaskFailure& f, const std::optional<TimePoint>& config) {
  if (!config) return true;  // nothing to compare with: Marathon shows it for this app
  const auto& when = f.version ? f.version : f.timestamp;
  return when && *when >= *config;
}

std::string one_line(std::string s, std::size_t max) {
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

std::string window_text(std::chrono::milliseconds d) {
  using namespace std::chrono;
  if (d % minutes(1) == milliseconds(0)) return std::to_string(d / minutes(1)) + "m";
  return std::to_string(duration_cast<seconds>(d).count()) + "s";
}

std::string container_list(const std::vector<long>& idx) {
  std::string out = idx.size() == 1 ? "container " : "containers ";
  const std::size_t shown = std::min<std::size_t>(idx.size(), 8);
  for (std::size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + std::to_string(idx[i]);
  if (idx.size() > shown) out += " and " + std::to_string(idx.size() - shown) + " more";
  return out;
}

}  // namespace

long container_index(std::string_view id) {
  const auto slash = id.rfind('/');
  const std::string_view last = id.substr(slash == std::string_view::npos ? 0 : slash + 1);
  if (last.empty() || last.size() > 9 ||
      !std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  long n = 0;
  for (char c : last) n = n * 10 + (c - '0');
  return n;
}

FailureReport track_failures(const ReconcilerConfig& cfg, const ObservedGroup& group,
                             const std::vector<AppFailures>& previous, const MarathonSnapshot& snapshot,
                             TimePoint now) {
  FailureReport r;
  const TimePoint horizon = now - cfg.failure_window;
  struct Seen {
    long index;
    std::size_t count;
    const ObservedApp* app;
  };
  std::vector<Seen> failing;
  bool capped = false;
  for (const auto& app : group.apps) {
    const auto config = config_version_of(app);
    AppFailures mem;
    mem.app = app.id;
    mem.config_version = config;
    auto prev = std::find_if(previous.begin(), previous.end(), [&](const AppFailures& p) { return p.app == app.id; });
    // What was counted for an older config no longer counts.
    if (prev != previous.end() && prev->config_version == config) {
      mem.task_id = prev->task_id;
      mem.times = prev->times;
    }
    if (app.failure && app.failure->timestamp && !app.failure->task_id.empty() &&
        app.failure->task_id != mem.task_id && of_current_config(*app.failure, config) &&
        (mem.times.empty() || *app.failure->timestamp >= mem.times.back())) {
      mem.task_id = app.failure->task_id;
      if (*app.failure->timestamp >= horizon) {
        mem.times.push_back(*app.failure->timestamp);
        ++r.new_failures;
      }
    }
    std::erase_if(mem.times, [&](TimePoint t) { return t < horizon; });
    if (mem.times.size() > kMaxFailureTimes)
      mem.times.erase(mem.times.begin(), mem.times.end() - static_cast<std::ptrdiff_t>(kMaxFailureTimes));
    if (mem.times.empty()) continue;
    if (mem.times.size() == kMaxFailureTimes) capped = true;
    failing.push_back({container_index(app.id), mem.times.size(), &app});
    r.memory.push_back(std::move(mem));
  }
  if (failing.empty()) return r;
  r.failing = true;
  std::sort(failing.begin(), failing.end(), [](const Seen& a, const Seen& b) { return a.index < b.index; });
  std::vector<long> indices;
  std::size_t total = 0;
  for (const auto& f : failing) {
    indices.push_back(f.index);
    total += f.count;
  }
  r.message = container_list(indices) + " failed " + (capped ? "at least " : "") + std::to_string(total) +
              (total == 1 ? " time" : " times") + " in the last " + window_text(cfg.failure_window);
  // The most recent failure Marathon shows among them.
  const Seen* latest = nullptr;
  for (const auto& f : failing) {
    const auto& lf = f.app->failure;
    if (!lf || !lf->timestamp) continue;
    if (!latest || *lf->timestamp > *latest->app->failure->timestamp) latest = &f;
  }
  // The message first: a one-line view cut short still shows it.
  if (latest) {
    const auto& lf = *latest->app->failure;
    if (!lf.message.empty()) r.message += ": " + one_line(lf.message, 400);
    r.message += "; last at " + format_time(*lf.timestamp) + " on container " + std::to_string(latest->index);
    std::string how = lf.state;
    if (!lf.host.empty()) how += (how.empty() ? "on " : " on ") + lf.host;
    if (!how.empty()) r.message += " (" + how + ")";
  }
  // Marathon's launch backoff (RateLimiter): the queue shows the time left.
  double left = -1;
  bool overdue = false;
  for (const auto& q : snapshot.queue)
    for (const auto& f : failing)
      if (q.app_id == f.app->id) {
        if (!q.overdue && q.delay_time_left_seconds > 0) left = std::max(left, q.delay_time_left_seconds);
        else overdue = true;
      }
  if (left > 0)
    r.message += "; launch backoff " + std::to_string(static_cast<long long>(std::ceil(left))) + "s left";
  else if (overdue)
    r.message += "; launch backoff over, relaunching";
  return r;
}

}  // namespace hmc::reconciler
