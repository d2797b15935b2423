// The controller's side of Heron's state against the in-memory fakes: the
// three nodes go in one multi before the group, a node changed by hand is
// written back once its watch fires, and the nodes are not read again while
// nothing changes.

#include "hmc/controller/controller.hpp"
#include "hmc/common/base64.hpp"
#include "hmc/heron_state/heron_state.hpp"
#include "hmc/reconciler/desired.hpp"
#include "hmc/testing/fake_marathon.hpp"
#include "hmc/testing/fake_zookeeper.hpp"
#include "hmc/testing/process.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace std::chrono_literals;
using hmc::controller::Controller;
using hmc::controller::ControllerOptions;
using hmc::testing::FakeMarathon;
using hmc::testing::FakeZkOp;
using hmc::testing::FakeZooKeeper;
using hmc::testing::wait_until;
namespace rc = hmc::reconciler;

namespace {

const char* const kNodes[] = {"/heron/topologies/wc", "/heron/packingplans/wc", "/heron/executionstate/wc"};

std::string desired_with_defn() {
  hmc::heron_state::HeronTopology topo;
  topo.id = "wc-1f2e";
  topo.name = "wc";
  topo.components = {{"spout", 2, true}, {"bolt", 2, false}};
  topo.config = {{"topology.stmgrs", "2"}};
  rc::DesiredTopology t;
  t.name = "wc";
  t.cluster = "local";
  t.role = "r";
  t.image = "heron/heron:test";
  t.package = "http://repo.example.org/wc.tar.gz";
  t.topology_defn = hmc::base64_encode(hmc::heron_state::encode_topology(topo));
  t.containers_set = t.resources_set = false;
  return rc::to_json(t);
}

struct Fixture {
  Fixture() {
    EXPECT_TRUE(writer->ensure_path("/heron-marathon/topologies"));
    EXPECT_TRUE(writer->create("/heron-marathon/topologies/wc", desired_with_defn()));
  }
  void start() {
    ControllerOptions o;
    o.identity = "a";
    o.workers = 2;
    o.min_observe_interval = 20ms;
    o.resync_period = 1h;
    controller = std::make_unique<Controller>(*client, marathon, clock, o);
    ASSERT_TRUE(controller->start());
  }
  bool running() {
    return wait_until(
        [&] {
          auto s = writer->get("/heron-marathon/status/wc");
          auto st = s ? rc::parse_status(s->data) : std::nullopt;
          return st && st->phase == rc::Phase::Running;
        },
        20s);
  }
  int heron_nodes() {
    int n = 0;
    for (const char* p : kNodes) n += zk.data(p).has_value();
    return n;
  }

  FakeZooKeeper zk;
  FakeMarathon marathon;
  std::unique_ptr<hmc::zk::ZkClient> writer = zk.client();
  std::unique_ptr<hmc::zk::ZkClient> client = zk.client();
  hmc::SystemTimeSource clock;
  std::unique_ptr<Controller> controller;
};

}  // namespace

TEST(ControllerHeronState, AllThreeNodesInOneMultiBeforeTheGroup) {
  Fixture f;
  // Every multi that touches the execution state fails: the topology and
  // packing plan nodes of the same write must not appear either, nor the group.
  f.zk.inject_failure({.op = FakeZkOp::multi, .path = "/heron/executionstate/", .times = -1});
  f.start();
  ASSERT_TRUE(wait_until([&] { return f.zk.call_count(FakeZkOp::multi) >= 3; }, 10s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(f.heron_nodes(), 0);
  EXPECT_EQ(f.marathon.count("create_group"), 0);
  f.zk.clear_failures();
  ASSERT_TRUE(f.running());
  EXPECT_EQ(f.heron_nodes(), 3);
  EXPECT_EQ(f.marathon.count("create_group"), 1);
  auto g = f.marathon.group("/heron/topologies/wc");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->apps.size(), 3u);  // the TManager and the plan's 2 containers
  f.controller->stop();
}

TEST(ControllerHeronState, NodeChangedByHandIsWrittenBack) {
  Fixture f;
  f.start();
  ASSERT_TRUE(f.running());
  const auto plan = f.zk.data("/heron/packingplans/wc");
  ASSERT_TRUE(plan);
  ASSERT_TRUE(f.writer->set("/heron/packingplans/wc", "not a plan"));
  ASSERT_TRUE(wait_until([&] { return f.zk.data("/heron/packingplans/wc") == plan; }, 10s));
  ASSERT_TRUE(f.writer->remove("/heron/executionstate/wc"));
  ASSERT_TRUE(wait_until([&] { return f.heron_nodes() == 3; }, 10s));
  EXPECT_EQ(f.marathon.count("create_group"), 1);
  EXPECT_EQ(f.marathon.count("update_group"), 0);  // the apps were right all along
  f.controller->stop();
}

TEST(ControllerHeronState, NodesAreReadOnceWhileNothingChanges) {
  Fixture f;
  f.start();
  ASSERT_TRUE(f.running());
  std::this_thread::sleep_for(200ms);
  const auto gets = f.zk.call_count(FakeZkOp::get);
  const auto observes = f.marathon.count("observe");
  for (int i = 0; i < 5; ++i) {
    f.controller->resync_all();
    f.controller->request_observation();
    ASSERT_TRUE(wait_until([&] { return f.marathon.count("observe") > observes + i; }, 10s));
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_LT(f.zk.call_count(FakeZkOp::get), gets + 3) << "the watched nodes were read again";
  EXPECT_EQ(f.heron_nodes(), 3);
  f.controller->stop();
}
