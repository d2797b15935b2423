#pragma once
// A work queue of topology names with the semantics of client-go's
// rate-limited delaying queue:
//  - a key is queued at most once (adds are deduplicated);
//  - a key is never handed to two workers at once: an add while it is being
//    processed is remembered and replayed after done();
//  - add_after() delays, add_rate_limited() backs off per key exponentially
//    (base x 2^failures, capped) combined with an overall token bucket;
//  - forget() resets a key's backoff after a success.
// Thread-safe. Time comes from the TimeSource only for metrics bookkeeping;
// delays are real (steady clock) so the queue can block.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hmc::controller {

struct WorkQueueOptions {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1000 * 1000};
  double qps = 10.0;   // overall rate of rate-limited adds
  int burst = 100;
};

// Hooks for metrics; all optional. Called without the queue's lock held.
struct WorkQueueHooks {
  std::function<void()> on_add;
  std::function<void(std::size_t depth)> on_depth;
  std::function<void(double seconds)> on_queue_wait;   // from add to get
  std::function<void(double seconds)> on_work_done;    // from get to done
  std::function<void()> on_retry;
};

class WorkQueue {
 public:
  using SteadyClock = std::chrono::steady_clock;

  explicit WorkQueue(WorkQueueOptions options = {}, WorkQueueHooks hooks = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  // Backoff: max(per-key exponential, token bucket). Returns the delay used.
  std::chrono::milliseconds add_rate_limited(const std::string& key);
  void forget(const std::string& key);
  int failures(const std::string& key) const;

  // Blocks until a key is ready or the queue shuts down (nullopt).
  std::optional<std::string> get();
  // Marks the key processed; replays it if it was added meanwhile.
  void done(const std::string& key);

  // Stops handing out work; get() returns nullopt once the queue is drained
  // of ready keys (pending delayed adds are dropped).
  void shut_down();
  bool shutting_down() const;

  std::size_t depth() const;         // ready keys
  std::size_t processing() const;    // keys being worked on
  std::size_t delayed() const;       // keys waiting for a delay
  // Age of the oldest and the sum of in-flight work, for metrics.
  std::pair<double, double> in_flight_seconds() const;

 private:
  void push_ready_locked(const std::string& key, SteadyClock::time_point added);
  void promote_due_locked(SteadyClock::time_point now);
  std::chrono::milliseconds bucket_delay_locked(SteadyClock::time_point now);

  WorkQueueOptions options_;
  WorkQueueHooks hooks_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> ready_;
  std::unordered_map<std::string, SteadyClock::time_point> queued_;    // key -> time added
  std::unordered_map<std::string, SteadyClock::time_point> processing_;  // key -> started
  std::unordered_set<std::string> dirty_;  // added while processing
  std::multimap<SteadyClock::time_point, std::string> waiting_;
  std::unordered_map<std::string, SteadyClock::time_point> waiting_due_;  // earliest due per key
  std::unordered_map<std::string, int> failures_;
  // token bucket
  double tokens_;
  SteadyClock::time_point bucket_last_;
  bool shutting_down_ = false;
};

}  // namespace hmc::controller
