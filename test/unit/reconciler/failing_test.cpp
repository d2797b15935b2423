// Failing containers: task failures counted across snapshots (Marathon shows
// only each app's last one), failures of older app versions ignored, the
// window, the message; and the desired restart generations.

#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/reconcile.hpp"

#include <gtest/gtest.h>

namespace hmc::reconciler {
namespace {

using namespace std::chrono_literals;

const TimePoint kConfig = *parse_time("2026-12-03T10:00:00.000Z");

ObservedApp app(int index, const char* task = nullptr, TimePoint at = {}, const char* message = "") {
  ObservedApp a;
  a.id = "/heron/topologies/wc/" + std::to_string(index);
  a.instances = 1;
  a.config_version = kConfig;
  if (task) {
    TaskFailure f;
    f.task_id = task;
    f.message = message;
    f.state = "TASK_FAILED";
    f.host = "agent-1";
    f.timestamp = at;
    f.version = kConfig;
    a.failure = f;
  }
  return a;
}

ObservedGroup group(std::vector<ObservedApp> apps) {
  ObservedGroup g;
  g.id = "/heron/topologies/wc";
  g.apps = std::move(apps);
  return g;
}

TEST(TrackFailures, EachFailedTaskCountsOnceAcrossSnapshots) {
  const ReconcilerConfig cfg;
  const MarathonSnapshot snap;
  const TimePoint t1 = kConfig + 1min;
  auto g = group({app(0), app(2, "wc_2.task-a", t1, "Failed to fetch 'https://x/wc.tar.gz'")});
  auto r1 = track_failures(cfg, g, {}, snap, t1 + 1s);
  EXPECT_TRUE(r1.failing);
  EXPECT_EQ(r1.new_failures, 1);
  ASSERT_EQ(r1.memory.size(), 1u);
  EXPECT_EQ(r1.memory[0].app, "/heron/topologies/wc/2");
  EXPECT_EQ(r1.memory[0].task_id, "wc_2.task-a");

  // The same lastTaskFailure in the next snapshot is not a new failure.
  auto r2 = track_failures(cfg, g, r1.memory, snap, t1 + 5s);
  EXPECT_EQ(r2.new_failures, 0);
  EXPECT_EQ(r2.memory, r1.memory);

  // A new task failing is.
  const TimePoint t3 = t1 + 20s;
  auto g3 = group({app(0), app(2, "wc_2.task-b", t3, "exited with status 1")});
  auto r3 = track_failures(cfg, g3, r2.memory, snap, t3 + 1s);
  EXPECT_EQ(r3.new_failures, 1);
  ASSERT_EQ(r3.memory.size(), 1u);
  EXPECT_EQ(r3.memory[0].times.size(), 2u);
  EXPECT_NE(r3.message.find("container 2 failed 2 times in the last 10m: exited with status 1"),
            std::string::npos)
      << r3.message;
  EXPECT_NE(r3.message.find("TASK_FAILED on agent-1"), std::string::npos) << r3.message;
}

TEST(TrackFailures, FailuresOfAnOlderConfigDoNotCount) {
  const ReconcilerConfig cfg;
  const MarathonSnapshot snap;
  auto old = app(1, "wc_1.old", kConfig - 1min, "Failed to fetch");
  old.failure->version = kConfig - 2min;  // launched with the config before the fix
  auto r = track_failures(cfg, group({old}), {}, snap, kConfig + 10s);
  EXPECT_FALSE(r.failing);
  EXPECT_EQ(r.new_failures, 0);
  EXPECT_TRUE(r.memory.empty());

  // What was remembered for the previous config is dropped with it.
  AppFailures before;
  before.app = "/heron/topologies/wc/1";
  before.config_version = kConfig - 2min;
  before.task_id = "wc_1.old";
  before.times = {kConfig - 1min};
  auto r2 = track_failures(cfg, group({app(1)}), {before}, snap, kConfig + 10s);
  EXPECT_FALSE(r2.failing);
  EXPECT_TRUE(r2.memory.empty());
}

TEST(TrackFailures, FailuresLeaveTheWindow) {
  ReconcilerConfig cfg;
  cfg.failure_window = 10min;
  const MarathonSnapshot snap;
  const TimePoint t = kConfig + 1min;
  auto g = group({app(3, "wc_3.a", t, "boom")});
  auto r = track_failures(cfg, g, {}, snap, t + 1s);
  ASSERT_TRUE(r.failing);
  auto later = track_failures(cfg, g, r.memory, snap, t + 11min);
  EXPECT_FALSE(later.failing);
  EXPECT_TRUE(later.memory.empty());
  EXPECT_EQ(later.new_failures, 0);
}

// The controller's --failure-window: a failure counts exactly that long, and
// the message names the window.
struct WindowCase {
  std::chrono::milliseconds window;
  std::chrono::milliseconds still_counted;  // after the failure
  std::chrono::milliseconds gone;
  const char* text;
};

TEST(TrackFailures, ANonDefaultWindowCountsThatLong) {
  const std::vector<WindowCase> cases = {
      {2min, 2min, 2min + 1ms, "container 3 failed 1 time in the last 2m: boom"},
      {90s, 89s, 91s, "container 3 failed 1 time in the last 90s: boom"},
      {1h, 59min, 61min, "container 3 failed 1 time in the last 60m: boom"},
  };
  const MarathonSnapshot snap;
  const TimePoint t = kConfig + 1min;
  const auto g = group({app(3, "wc_3.a", t, "boom")});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    ReconcilerConfig cfg;
    cfg.failure_window = c.window;
    auto first = track_failures(cfg, g, {}, snap, t + 1s);
    ASSERT_TRUE(first.failing);
    EXPECT_EQ(first.new_failures, 1);
    EXPECT_EQ(first.message.rfind(c.text, 0), 0u) << first.message;
    auto kept = track_failures(cfg, g, first.memory, snap, t + c.still_counted);
    EXPECT_TRUE(kept.failing);
    EXPECT_EQ(kept.new_failures, 0) << "the same task is counted once";
    ASSERT_EQ(kept.memory.size(), 1u);
    EXPECT_EQ(kept.memory[0].times.size(), 1u);
    auto gone = track_failures(cfg, g, kept.memory, snap, t + c.gone);
    EXPECT_FALSE(gone.failing);
    EXPECT_TRUE(gone.memory.empty());
  }
  // A failure older than the window when first seen is not counted at all.
  ReconcilerConfig narrow;
  narrow.failure_window = 30s;
  auto late = track_failures(narrow, g, {}, snap, t + 31s);
  EXPECT_FALSE(late.failing);
  EXPECT_EQ(late.new_failures, 0);
}

TEST(TrackFailures, MessageShowsTheLaunchBackoffLeft) {
  const ReconcilerConfig cfg;
  MarathonSnapshot snap;
  QueueEntry q;
  q.app_id = "/heron/topologies/wc/1";
  q.count = 1;
  q.overdue = false;
  q.delay_time_left_seconds = 34.2;
  snap.queue.push_back(q);
  const TimePoint t = kConfig + 1min;
  auto r = track_failures(cfg, group({app(1, "wc_1.a", t, "exit 1"), app(4, "wc_4.a", t - 1s, "exit 2")}),
                          {}, snap, t + 1s);
  ASSERT_TRUE(r.failing);
  EXPECT_EQ(r.new_failures, 2);
  EXPECT_NE(r.message.find("containers 1, 4 failed 2 times"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find(": exit 1; last at"), std::string::npos) << r.message;  // the latest one
  EXPECT_NE(r.message.find("launch backoff 35s left"), std::string::npos) << r.message;
}

TEST(TrackFailures, KeepsAtMostTheLastTenTimesAndSaysAtLeast) {
  const ReconcilerConfig cfg;
  const MarathonSnapshot snap;
  std::vector<AppFailures> memory;
  TimePoint t = kConfig + 1min;
  FailureReport r;
  for (int i = 0; i < 14; ++i, t += 10s) {
    r = track_failures(cfg, group({app(2, ("wc_2.t" + std::to_string(i)).c_str(), t, "x")}), memory, snap,
                       t + 1s);
    memory = r.memory;
  }
  ASSERT_EQ(memory.size(), 1u);
  EXPECT_EQ(memory[0].times.size(), kMaxFailureTimes);
  EXPECT_NE(r.message.find("failed at least 10 times"), std::string::npos) << r.message;
}

TEST(DesiredRestart, ParsesValidatesAndRoundTrips) {
  const char* ok =
      R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","containers":3,)"
      R"("restart":{"generation":2,"containers":{"3":1}}})";
  auto r = parse_desired(ok);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->restart.generation, 2);
  EXPECT_EQ(r->restart.containers.at(3), 1);
  auto again = parse_desired(to_json(*r));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, *r);
  // Not structural: the spec hash stays the same.
  auto plain = *r;
  plain.restart = {};
  EXPECT_EQ(spec_hash(ReconcilerConfig{}, plain), spec_hash(ReconcilerConfig{}, *r));

  // Beside a topologyDefn without `containers`, the plan decides the count.
  auto with_defn = parse_desired(
      R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","topologyDefn":"CgJ3YxICd2M=",)"
      R"("restart":{"containers":{"5":1}}})");
  ASSERT_TRUE(with_defn) << with_defn.error().to_string();
  EXPECT_EQ(with_defn->restart.containers.at(5), 1);

  for (const char* bad : {
           R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","restart":{"containers":{"5":1}}})",
           R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","restart":{"generation":-1}})",
           R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","restart":{"when":"now"}})",
           R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","restart":3})"}) {
    auto b = parse_desired(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_NE(b.error().to_string().find("/restart"), std::string::npos) << b.error().to_string();
  }
}

}  // namespace
}  // namespace hmc::reconciler
