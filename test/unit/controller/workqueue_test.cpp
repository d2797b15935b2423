#include "hmc/controller/work_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

using hmc::controller::WorkQueue;
using hmc::controller::WorkQueueOptions;
using namespace std::chrono_literals;

TEST(WorkQueue, DeduplicatesQueuedKeys) {
  WorkQueue q;
  q.add("a");
  q.add("a");
  q.add("b");
  EXPECT_EQ(q.depth(), 2u);
  EXPECT_EQ(*q.get(), "a");
  EXPECT_EQ(*q.get(), "b");
  EXPECT_EQ(q.depth(), 0u);
}

TEST(WorkQueue, KeyAddedWhileProcessingIsReplayedAfterDone) {
  WorkQueue q;
  q.add("a");
  auto k = q.get();
  ASSERT_EQ(*k, "a");
  q.add("a");  // while processing: must not be handed to another worker
  EXPECT_EQ(q.depth(), 0u);
  q.done("a");
  EXPECT_EQ(q.depth(), 1u);
  EXPECT_EQ(*q.get(), "a");
}

TEST(WorkQueue, NeverProcessesOneKeyOnTwoWorkersAtOnce) {
  WorkQueue q;
  std::atomic<int> in_flight{0}, max_in_flight{0}, processed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i)
    workers.emplace_back([&] {
      while (auto k = q.get()) {
        int now = ++in_flight;
        int prev = max_in_flight.load();
        while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {}
        std::this_thread::sleep_for(200us);
        --in_flight;
        ++processed;
        q.done(*k);
      }
    });
  for (int i = 0; i < 2000; ++i) q.add("same");
  std::this_thread::sleep_for(50ms);
  q.shut_down();
  for (auto& t : workers) t.join();
  EXPECT_EQ(max_in_flight.load(), 1);
  EXPECT_GE(processed.load(), 1);
}

TEST(WorkQueue, AddAfterDelaysAndKeepsTheEarliest) {
  WorkQueue q;
  q.add_after("a", 10min);
  q.add_after("a", 1ms);
  EXPECT_EQ(q.delayed(), 1u);
  auto k = q.get();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "a");
}

TEST(WorkQueue, RateLimitedBacksOffExponentiallyPerKeyAndForgetResets) {
  WorkQueueOptions o;
  o.base_delay = 5ms;
  o.max_delay = 1000ms;
  o.qps = 1e9;
  o.burst = 1000000;
  WorkQueue q(o);
  EXPECT_EQ(q.add_rate_limited("a"), 5ms);
  EXPECT_EQ(q.add_rate_limited("a"), 10ms);
  EXPECT_EQ(q.add_rate_limited("a"), 20ms);
  EXPECT_EQ(q.failures("a"), 3);
  EXPECT_EQ(q.add_rate_limited("b"), 5ms);
  for (int i = 0; i < 20; ++i) q.add_rate_limited("a");
  EXPECT_EQ(q.add_rate_limited("a"), 1000ms);  // capped
  q.forget("a");
  EXPECT_EQ(q.failures("a"), 0);
  EXPECT_EQ(q.add_rate_limited("a"), 5ms);
}

TEST(WorkQueue, TokenBucketLimitsTheOverallRetryRate) {
  WorkQueueOptions o;
  o.base_delay = 1ms;
  o.qps = 10;
  o.burst = 5;
  WorkQueue q(o);
  std::chrono::milliseconds last{0};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.add_rate_limited("k" + std::to_string(i)), 1ms);
  // The burst is used up: the next keys wait about 100 ms each, growing.
  for (int i = 5; i < 10; ++i) {
    auto d = q.add_rate_limited("k" + std::to_string(i));
    EXPECT_GT(d, last);
    last = d;
  }
  EXPECT_GE(last, 400ms);
}

TEST(WorkQueue, ShutDownReleasesBlockedWorkers) {
  WorkQueue q;
  std::thread t([&] { EXPECT_FALSE(q.get().has_value()); });
  std::this_thread::sleep_for(20ms);
  q.shut_down();
  t.join();
  q.add("x");  // ignored after shutdown
  EXPECT_EQ(q.depth(), 0u);
}

TEST(WorkQueue, HooksSeeAddsDepthAndWaits) {
  int adds = 0, retries = 0;
  std::size_t last_depth = 99;
  double waited = -1;
  hmc::controller::WorkQueueHooks h;
  h.on_add = [&] { ++adds; };
  h.on_depth = [&](std::size_t d) { last_depth = d; };
  h.on_queue_wait = [&](double s) { waited = s; };
  h.on_retry = [&] { ++retries; };
  WorkQueue q({}, h);
  q.add("a");
  EXPECT_EQ(adds, 1);
  EXPECT_EQ(last_depth, 1u);
  auto k = q.get();
  EXPECT_EQ(last_depth, 0u);
  EXPECT_GE(waited, 0.0);
  q.done(*k);
  q.add_rate_limited("a");
  EXPECT_EQ(retries, 1);
}
