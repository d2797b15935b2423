#include "hmc/controller/work_queue.hpp"

#include <algorithm>
#include <cmath>

namespace hmc::controller {

using namespace std::chrono;

WorkQueue::WorkQueue(WorkQueueOptions options, WorkQueueHooks hooks)
    : options_(options), hooks_(std::move(hooks)), tokens_(options.burst),
      bucket_last_(SteadyClock::now()) {}

WorkQueue::~WorkQueue() { shut_down(); }

void WorkQueue::push_ready_locked(const std::string& key, SteadyClock::time_point added) {
  if (queued_.count(key)) return;
  if (processing_.count(key)) {
    dirty_.insert(key);
    return;
  }
  queued_.emplace(key, added);
  ready_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::size_t depth;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return;
    push_ready_locked(key, SteadyClock::now());
    depth = ready_.size();
  }
  if (hooks_.on_add) hooks_.on_add();
  if (hooks_.on_depth) hooks_.on_depth(depth);
}

void WorkQueue::add_after(const std::string& key, milliseconds delay) {
  if (delay <= milliseconds::zero()) {
    add(key);
    return;
  }
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  const auto due = SteadyClock::now() + delay;
  auto it = waiting_due_.find(key);
  if (it != waiting_due_.end()) {
    if (it->second <= due) return;  // an earlier wake-up is already planned
    // replace the later entry
    auto range = waiting_.equal_range(it->second);
    for (auto w = range.first; w != range.second; ++w)
      if (w->second == key) {
        waiting_.erase(w);
        break;
      }
    it->second = due;
  } else {
    waiting_due_.emplace(key, due);
  }
  waiting_.emplace(due, key);
  cv_.notify_all();
}

milliseconds WorkQueue::bucket_delay_locked(SteadyClock::time_point now) {
  const double elapsed = duration<double>(now - bucket_last_).count();
  bucket_last_ = now;
  tokens_ = std::min<double>(options_.burst, tokens_ + elapsed * options_.qps);
  tokens_ -= 1.0;
  if (tokens_ >= 0) return milliseconds::zero();
  return milliseconds(static_cast<long long>(std::ceil(-tokens_ / options_.qps * 1000.0)));
}

milliseconds WorkQueue::add_rate_limited(const std::string& key) {
  milliseconds delay;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return milliseconds::zero();
    const int n = failures_[key]++;
    const double exp = static_cast<double>(options_.base_delay.count()) * std::pow(2.0, std::min(n, 40));
    const auto per_key = milliseconds(static_cast<long long>(
        std::min(exp, static_cast<double>(options_.max_delay.count()))));
    delay = std::max(per_key, bucket_delay_locked(SteadyClock::now()));
  }
  if (hooks_.on_retry) hooks_.on_retry();
  add_after(key, delay);
  return delay;
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::failures(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promote_due_locked(SteadyClock::time_point now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    auto node = waiting_.extract(waiting_.begin());
    waiting_due_.erase(node.mapped());
    push_ready_locked(node.mapped(), now);
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  while (true) {
    promote_due_locked(SteadyClock::now());
    if (!ready_.empty()) break;
    if (shutting_down_) return std::nullopt;
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, waiting_.begin()->first);
    }
  }
  std::string key = std::move(ready_.front());
  ready_.pop_front();
  const auto now = SteadyClock::now();
  auto q = queued_.find(key);
  const double waited = q == queued_.end() ? 0.0 : duration<double>(now - q->second).count();
  if (q != queued_.end()) queued_.erase(q);
  processing_.emplace(key, now);
  const std::size_t depth = ready_.size();
  lock.unlock();
  if (hooks_.on_queue_wait) hooks_.on_queue_wait(waited);
  if (hooks_.on_depth) hooks_.on_depth(depth);
  return key;
}

void WorkQueue::done(const std::string& key) {
  double worked = 0;
  {
    std::lock_guard lock(mu_);
    auto it = processing_.find(key);
    if (it != processing_.end()) {
      worked = duration<double>(SteadyClock::now() - it->second).count();
      processing_.erase(it);
    }
    if (dirty_.erase(key) && !shutting_down_) push_ready_locked(key, SteadyClock::now());
  }
  if (hooks_.on_work_done) hooks_.on_work_done(worked);
}

void WorkQueue::shut_down() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  waiting_.clear();
  waiting_due_.clear();
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

std::size_t WorkQueue::depth() const {
  std::lock_guard lock(mu_);
  return ready_.size();
}

std::size_t WorkQueue::processing() const {
  std::lock_guard lock(mu_);
  return processing_.size();
}

std::size_t WorkQueue::delayed() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

std::pair<double, double> WorkQueue::in_flight_seconds() const {
  std::lock_guard lock(mu_);
  const auto now = SteadyClock::now();
  double longest = 0, total = 0;
  for (auto& [k, start] : processing_) {
    const double s = duration<double>(now - start).count();
    longest = std::max(longest, s);
    total += s;
  }
  return {longest, total};
}

}  // namespace hmc::controller
