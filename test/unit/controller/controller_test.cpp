// The controller runtime against the in-memory fakes of ZooKeeper and
// Marathon: bulk observation, one write per change, standby replicas.

#include "hmc/controller/controller.hpp"
#include "hmc/reconciler/desired.hpp"
#include "hmc/testing/fake_marathon.hpp"
#include "hmc/testing/fake_zookeeper.hpp"
#include "hmc/testing/process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <thread>

using namespace std::chrono_literals;
using hmc::controller::Controller;
using hmc::controller::ControllerOptions;
using hmc::testing::FakeMarathon;
using hmc::testing::FakeZooKeeper;
using hmc::testing::wait_until;

namespace {

std::string desired(const std::string& name, const std::string& state = "running") {
  hmc::reconciler::DesiredTopology t;
  t.name = name;
  t.cluster = "local";
  t.role = "r";
  t.containers = 1;
  t.image = "heron/heron:test";
  t.package = "http://repo.example.org/" + name + ".tar.gz";
  t.state = *hmc::reconciler::parse_desired_state(state);
  return hmc::reconciler::to_json(t);
}

ControllerOptions options(const std::string& identity) {
  ControllerOptions o;
  o.identity = identity;
  o.workers = 4;
  o.min_observe_interval = 20ms;
  o.resync_period = 1h;
  return o;
}

int running_statuses(hmc::zk::ZkClient& zk, int n) {
  int running = 0;
  for (int i = 0; i < n; ++i) {
    auto s = zk.get("/heron-marathon/status/t" + std::to_string(i));
    if (!s) continue;
    auto st = hmc::reconciler::parse_status(s->data);
    if (st && st->phase == hmc::reconciler::Phase::Running) ++running;
  }
  return running;
}

// Desired nodes t0 .. t<n-1>, all running.
bool submit(hmc::zk::ZkClient& zk, int n) {
  if (!zk.ensure_path("/heron-marathon/topologies")) return false;
  for (int i = 0; i < n; ++i)
    if (!zk.create("/heron-marathon/topologies/t" + std::to_string(i), desired("t" + std::to_string(i)))) return false;
  return true;
}

// The fakes with t0 .. t<n-1> desired before the controller starts; start()
// runs a controller over them with the given options.
struct MassSubmit {
  explicit MassSubmit(int topologies) : n(topologies) { submitted = submit(*writer, n); }
  bool start(const ControllerOptions& o) {
    controller = std::make_unique<Controller>(*client, marathon, clock, o);
    return static_cast<bool>(controller->start());
  }
  bool all_running() {
    return wait_until([&] { return running_statuses(*writer, n) == n; }, 20s);
  }

  const int n;
  FakeZooKeeper zk;
  FakeMarathon marathon;
  std::unique_ptr<hmc::zk::ZkClient> writer = zk.client();
  std::unique_ptr<hmc::zk::ZkClient> client = zk.client();
  hmc::SystemTimeSource clock;
  std::unique_ptr<Controller> controller;
  bool submitted = false;
};

}  // namespace

TEST(Controller, OneCreatePerTopologyAndBulkObservation) {
  MassSubmit m(60);
  ASSERT_TRUE(m.submitted);
  ASSERT_TRUE(m.start(options("a")));
  ASSERT_TRUE(m.all_running());
  // Every topology was created exactly once, never twice from a stale view.
  EXPECT_EQ(m.marathon.count("create_group"), m.n);
  EXPECT_EQ(m.marathon.count("update_group"), 0);
  // Observation is in bulk: far fewer observations than topologies.
  EXPECT_LT(m.marathon.count("observe"), m.n / 2) << m.marathon.count("observe");
  m.controller->stop();
}

// Statuses wait briefly (status_write_delay) to share ZooKeeper multis, one
// transaction and disk sync each, rather than one multi per status. Without
// the wait this run takes about 40 multis.
TEST(Controller, StatusWritesWaitBrieflyToShareMultis) {
  MassSubmit m(60);
  ASSERT_TRUE(m.submitted);
  auto o = options("a");
  o.max_status_deferral = 0ms;  // the delay alone, not the wait for a busy queue
  ASSERT_TRUE(m.start(o));
  ASSERT_TRUE(m.all_running());
  // At least one status per topology (Deploying, then Running): without
  // batching that is at least n multis.
  EXPECT_LT(m.zk.call_count(hmc::testing::FakeZkOp::multi), static_cast<std::size_t>(m.n / 2))
      << m.zk.call_count(hmc::testing::FakeZkOp::multi);
  m.controller->stop();
}

// A mass submit goes to Marathon first: statuses wait while topologies are
// queued, but only for max_status_deferral, so they never go stale for long.
TEST(Controller, StatusesWaitForQueuedWritesOnlySoLong) {
  MassSubmit m(60);
  ASSERT_TRUE(m.submitted);
  m.marathon.set_create_delay(20ms);  // one worker: the queue stays busy for about 1.2 s
  auto o = options("a");
  o.workers = 1;
  o.max_status_deferral = 200ms;
  ASSERT_TRUE(m.start(o));
  auto statuses = [&] {
    auto names = m.writer->children("/heron-marathon/status");
    return names ? static_cast<int>(names->size()) : 0;
  };
  // Statuses appear while creates are still going on.
  ASSERT_TRUE(wait_until([&] { return statuses() > 0; }, 10s));
  EXPECT_LT(m.marathon.count("create_group"), m.n - 10) << "statuses waited for the whole queue";
  ASSERT_TRUE(m.all_running());
  m.controller->stop();
}

// Calls recorded after the first create_group, up to (not including) the
// first observe after it.
std::vector<std::string> calls_before_next_observe(const FakeMarathon& marathon) {
  std::vector<std::string> out;
  bool created = false;
  for (const auto& c : marathon.calls()) {
    if (c.method == "create_group") created = true;
    if (!created) continue;
    if (c.method == "observe") break;
    out.push_back(c.method);
  }
  return out;
}

// After a burst of writes the group tree (Marathon's most expensive read)
// waits while Marathon works through the burst's deployments.
TEST(Controller, AfterABurstOfWritesTheGroupTreeWaitsForDeploymentsToSettle) {
  MassSubmit m(60);
  ASSERT_TRUE(m.submitted);
  m.marathon.set_auto_complete(false);
  m.marathon.complete_deployments_per_list(20);  // 60 deployments: gone after the third look
  auto o = options("a");
  o.settle_after_writes = 30;
  ASSERT_TRUE(m.start(o));
  // Deployments only finish through the controller's looks at them.
  ASSERT_TRUE(m.all_running());
  EXPECT_EQ(m.marathon.count("create_group"), m.n);
  const auto before = calls_before_next_observe(m.marathon);
  EXPECT_GE(std::count(before.begin(), before.end(), "list_deployments"), 3) << before.size();
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(before.back(), "list_deployments");
  m.controller->stop();
}

// Deployments that do not progress (waiting for offers) hold nothing up:
// the second look sees as many as the first, and the observation goes ahead.
TEST(Controller, StuckDeploymentsDoNotHoldTheObservationUp) {
  MassSubmit m(60);
  ASSERT_TRUE(m.submitted);
  m.marathon.set_auto_complete(false);
  auto o = options("a");
  o.settle_after_writes = 30;
  ASSERT_TRUE(m.start(o));
  ASSERT_TRUE(wait_until([&] { return m.marathon.count("create_group") == m.n; }, 10s));
  ASSERT_TRUE(wait_until([&] { return m.marathon.count("observe") >= 2; }, 10s));
  const auto before = calls_before_next_observe(m.marathon);
  EXPECT_EQ(std::count(before.begin(), before.end(), "list_deployments"), 2);
  // One more topology is one write, not a burst: its observation does not look first.
  const int observed = m.marathon.count("observe");
  const std::string one_more = "t" + std::to_string(m.n);
  ASSERT_TRUE(m.writer->create("/heron-marathon/topologies/" + one_more, desired(one_more)));
  ASSERT_TRUE(wait_until([&] { return m.marathon.count("observe") > observed; }, 10s));
  EXPECT_EQ(m.marathon.count("create_group"), m.n + 1);
  EXPECT_EQ(m.marathon.count("list_deployments"), 2);
  m.controller->stop();
}

TEST(Controller, AFewWritesAreObservedWithoutListingDeploymentsFirst) {
  MassSubmit m(5);
  ASSERT_TRUE(m.submitted);
  auto o = options("a");
  o.settle_after_writes = 30;
  ASSERT_TRUE(m.start(o));
  ASSERT_TRUE(m.all_running());
  EXPECT_EQ(m.marathon.count("list_deployments"), 0);
  m.controller->stop();
}

TEST(Controller, AStandbyKeepsItsViewWarmButNeverWritesThenTakesOver) {
  FakeZooKeeper zk;
  FakeMarathon leader_view, standby_view;
  auto writer = zk.client();
  ASSERT_TRUE(writer->ensure_path("/heron-marathon/topologies"));
  auto c1 = zk.client();
  auto c2 = zk.client();
  hmc::SystemTimeSource clock;
  auto leader = std::make_unique<Controller>(*c1, leader_view, clock, options("first"));
  ASSERT_TRUE(leader->start());
  Controller standby(*c2, standby_view, clock, options("second"));
  ASSERT_TRUE(standby.start());
  EXPECT_TRUE(leader->acting());
  EXPECT_FALSE(standby.acting());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(writer->create("/heron-marathon/topologies/t" + std::to_string(i), desired("t" + std::to_string(i))));
  ASSERT_TRUE(wait_until([&] { return leader_view.count("create_group") == 5; }, 10s));
  ASSERT_TRUE(wait_until([&] { return running_statuses(*writer, 5) == 5; }, 10s));
  EXPECT_EQ(standby_view.count("create_group") + standby_view.count("update_group") +
                standby_view.count("delete_group") + standby_view.count("scale_group"),
            0);
  auto st = hmc::reconciler::parse_status(writer->get("/heron-marathon/status/t0")->data);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->leader, "first");

  // The leader stops: it resigns at once and the standby acts.
  leader->stop();
  leader.reset();
  ASSERT_TRUE(wait_until([&] { return standby.acting(); }, 10s));
  ASSERT_TRUE(wait_until([&] { return standby_view.count("create_group") == 5; }, 10s));
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = hmc::reconciler::parse_status(writer->get("/heron-marathon/status/t0")->data);
        return s && s->leader == "second";
      },
      10s));
  standby.stop();
}

TEST(Controller, KillRunsEveryStepAndForgetsTheTopology) {
  FakeZooKeeper zk;
  FakeMarathon marathon;
  auto writer = zk.client();
  ASSERT_TRUE(writer->ensure_path("/heron-marathon/topologies"));
  ASSERT_TRUE(writer->create("/heron-marathon/topologies/t0", desired("t0")));
  auto client = zk.client();
  hmc::SystemTimeSource clock;
  Controller c(*client, marathon, clock, options("a"));
  ASSERT_TRUE(c.start());
  ASSERT_TRUE(wait_until([&] { return running_statuses(*writer, 1) == 1; }, 10s));
  ASSERT_TRUE(writer->ensure_path("/heron/pplans"));
  ASSERT_TRUE(writer->create("/heron/pplans/t0", "pb"));
  ASSERT_TRUE(writer->set("/heron-marathon/topologies/t0", desired("t0", "killed")));
  ASSERT_TRUE(wait_until([&] { return !zk.data("/heron-marathon/topologies/t0"); }, 10s));
  EXPECT_FALSE(marathon.group("/heron/topologies/t0"));
  EXPECT_FALSE(zk.data("/heron/pplans/t0"));
  EXPECT_FALSE(zk.data("/heron-marathon/status/t0"));
  EXPECT_GE(marathon.count("scale_group"), 1);
  EXPECT_EQ(marathon.count("delete_group"), 1);
  c.stop();
}

TEST(Controller, MarathonFailuresAreRetriedWithBackoffAndReported) {
  FakeZooKeeper zk;
  FakeMarathon marathon;
  marathon.fail_next("create_group",
                     hmc::make_error(hmc::ErrorSource::marathon, hmc::ErrorKind::unavailable, "503 Service Unavailable", 503),
                     3);
  auto writer = zk.client();
  ASSERT_TRUE(writer->ensure_path("/heron-marathon/topologies"));
  ASSERT_TRUE(writer->create("/heron-marathon/topologies/t0", desired("t0")));
  auto client = zk.client();
  hmc::SystemTimeSource clock;
  Controller c(*client, marathon, clock, options("a"));
  ASSERT_TRUE(c.start());
  ASSERT_TRUE(wait_until([&] { return running_statuses(*writer, 1) == 1; }, 10s));
  EXPECT_EQ(marathon.count("create_group"), 4);  // three failures, then success
  auto st = hmc::reconciler::parse_status(writer->get("/heron-marathon/status/t0")->data);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->last_error.empty());
  c.stop();
}

// Marathon's event stream is closed while topologies are queued for a worker
// (observations wait for the queue then anyway) and reopened once the queue
// is empty; a single new topology, or a resync that queues every topology
// but writes nothing, leaves it open.
TEST(Controller, EventStreamClosedWhileTopologiesAreQueued) {
  MassSubmit m(60);
  ASSERT_TRUE(m.submitted);
  m.marathon.set_create_delay(20ms);  // one worker: the queue stays busy for about 1.2 s
  auto o = options("a");
  o.workers = 1;
  o.pause_events_depth = 10;
  ASSERT_TRUE(m.start(o));
  ASSERT_TRUE(wait_until([&] { return m.marathon.events_paused(); }, 10s));
  EXPECT_LT(m.marathon.count("create_group"), m.n);
  ASSERT_TRUE(m.all_running());
  ASSERT_TRUE(wait_until([&] { return !m.marathon.events_paused(); }, 10s));
  EXPECT_EQ(m.marathon.event_pauses(), 1);

  const std::string one_more = "t" + std::to_string(m.n);
  ASSERT_TRUE(m.writer->create("/heron-marathon/topologies/" + one_more, desired(one_more)));
  ASSERT_TRUE(wait_until([&] { return running_statuses(*m.writer, m.n + 1) == m.n + 1; }, 10s));
  EXPECT_EQ(m.marathon.event_pauses(), 1);
  EXPECT_FALSE(m.marathon.events_paused());

  const int observed = m.marathon.count("observe");
  m.controller->resync_all();
  m.controller->request_observation();
  ASSERT_TRUE(wait_until([&] { return m.marathon.count("observe") > observed; }, 10s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(m.marathon.count("create_group"), m.n + 1);
  EXPECT_EQ(m.marathon.event_pauses(), 1);
  EXPECT_FALSE(m.marathon.events_paused());
  m.controller->stop();
}
