// The reconcile loop end to end: real ZooKeeper, real marathon-sim, the real
// controller and CLI binaries.

#include "rig.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

using namespace std::chrono_literals;
using hmc::reconciler::Phase;
using hmc::testing::ControllerRig;
using hmc::testing::RigOptions;
using hmc::testing::wait_until;
namespace json = boost::json;

namespace {

std::string submit(ControllerRig& rig, const std::string& name, int containers = 2) {
  auto r = rig.cli({"submit", rig.spec_file(name, containers)});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.out;
}

}  // namespace

// The spine: CLI writes the desired node; the controller sees it, POSTs the
// group, writes status; `kill` suspends, deletes and cleans up everything.
TEST(Lifecycle, SubmitRunsAndKillRemovesGroupHeronStateAndNodes) {
  ControllerRig rig;
  submit(rig, "word-count", 2);
  ASSERT_TRUE(rig.wait_phase("word-count", Phase::Running)) << rig.describe("word-count");
  EXPECT_EQ(rig.app_count("word-count"), 3);  // TManager + 2 workers
  EXPECT_EQ(rig.running_tasks("word-count"), 3);
  EXPECT_EQ(rig.requests("POST", "/v2/groups"), 1);
  auto st = rig.status("word-count");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->group_id, "/heron/topologies/word-count");
  EXPECT_EQ(st->running_containers, 3);
  EXPECT_EQ(st->total_containers, 3);
  EXPECT_EQ(st->health, hmc::reconciler::Health::Healthy);

  rig.create_heron_state("word-count");  // as Heron's processes would
  ASSERT_GT(rig.heron_state_count("word-count"), 0);

  auto k = rig.cli({"kill", "word-count"});
  ASSERT_EQ(k.exit_code, 0) << k.out << k.err;
  ASSERT_TRUE(wait_until([&] { return !rig.desired_exists("word-count"); }, 30s)) << rig.describe("word-count");
  EXPECT_FALSE(rig.group("word-count").has_value());
  EXPECT_FALSE(rig.status("word-count").has_value());
  EXPECT_EQ(rig.heron_state_count("word-count"), 0);
  // Suspended before it was destroyed, never destroyed first.
  EXPECT_GE(rig.requests("PUT", "/v2/groups/heron/topologies/word-count"), 1);
  EXPECT_GE(rig.requests("DELETE", "/v2/groups/heron/topologies/word-count"), 1);
}

TEST(Lifecycle, UpdateChangesContainerCountAndResources) {
  ControllerRig rig;
  submit(rig, "wc", 2);
  ASSERT_TRUE(rig.wait_phase("wc", Phase::Running)) << rig.describe("wc");
  auto u = rig.cli({"update", rig.spec_file("wc", 4, 2.0, 2048)});
  ASSERT_EQ(u.exit_code, 0) << u.out << u.err;
  ASSERT_TRUE(wait_until([&] { return rig.app_count("wc") == 5 && rig.running_tasks("wc") == 5; }, 30s))
      << rig.describe("wc");
  ASSERT_TRUE(rig.wait_phase("wc", Phase::Running, 30s, 1)) << rig.describe("wc");
  const json::value g = json::parse(*rig.group("wc"));
  for (auto& a : g.as_object().at("apps").as_array()) {
    EXPECT_EQ(a.at("cpus").to_number<double>(), 2.0);
    EXPECT_EQ(a.at("mem").to_number<double>(), 2048.0);
  }
  EXPECT_EQ(rig.requests("POST", "/v2/groups"), 1);  // an update is a PUT, not a new group
}

TEST(Lifecycle, SuspendAndResume) {
  ControllerRig rig;
  submit(rig, "sr", 1);
  ASSERT_TRUE(rig.wait_phase("sr", Phase::Running)) << rig.describe("sr");
  ASSERT_EQ(rig.cli({"suspend", "sr"}).exit_code, 0);
  ASSERT_TRUE(rig.wait_phase("sr", Phase::Suspended)) << rig.describe("sr");
  EXPECT_EQ(rig.running_tasks("sr"), 0);
  EXPECT_EQ(rig.app_count("sr"), 2);  // the apps stay, at 0 instances
  ASSERT_EQ(rig.cli({"resume", "sr"}).exit_code, 0);
  ASSERT_TRUE(rig.wait_phase("sr", Phase::Running)) << rig.describe("sr");
  EXPECT_EQ(rig.running_tasks("sr"), 2);
}

TEST(Lifecycle, GroupDestroyedByHandIsRecreated) {
  ControllerRig rig;
  submit(rig, "drift", 1);
  ASSERT_TRUE(rig.wait_phase("drift", Phase::Running)) << rig.describe("drift");
  auto d = rig.sim().del("/v2/groups/heron/topologies/drift?force=true");
  ASSERT_EQ(d.status, 200) << d.body;
  ASSERT_TRUE(wait_until([&] { return rig.requests("POST", "/v2/groups") >= 2; }, 30s)) << rig.describe("drift");
  ASSERT_TRUE(wait_until([&] { return rig.running_tasks("drift") == 2; }, 30s)) << rig.describe("drift");
  ASSERT_TRUE(rig.wait_phase("drift", Phase::Running)) << rig.describe("drift");
}

TEST(Lifecycle, AppsEditedByHandArePutBack) {
  ControllerRig rig;
  submit(rig, "edited", 1);
  ASSERT_TRUE(rig.wait_phase("edited", Phase::Running)) << rig.describe("edited");
  auto p = rig.sim().put("/v2/apps/heron/topologies/edited/1?force=true", R"({"instances":3,"cpus":0.5})");
  ASSERT_TRUE(p.status == 200 || p.status == 201) << p.status << " " << p.body;
  ASSERT_TRUE(wait_until(
      [&] {
        auto g = rig.group("edited");
        if (!g) return false;
        const json::value v = json::parse(*g);
        for (auto& a : v.as_object().at("apps").as_array())
          if (a.at("instances").to_number<double>() != 1 || a.at("cpus").to_number<double>() != 1.0) return false;
        return true;
      },
      30s))
      << rig.describe("edited");
}

TEST(Lifecycle, LeftoverHeronStateIsCleanedSoAResubmitWorks) {
  RigOptions o;
  o.controller_args = {"--orphan-state-grace", "1s"};
  ControllerRig rig(o);
  // A group destroyed by hand long ago left Heron's state behind: every
  // `heron submit` of that name would fail with "already exists".
  rig.create_heron_state("leftover");
  ASSERT_TRUE(wait_until([&] { return rig.heron_state_count("leftover") == 0; }, 30s)) << rig.controller_log();
  submit(rig, "leftover", 1);
  ASSERT_TRUE(rig.wait_phase("leftover", Phase::Running)) << rig.describe("leftover");
}

TEST(Lifecycle, BadDesiredNodeIsReportedAndOthersCarryOn) {
  ControllerRig rig;
  ASSERT_TRUE(rig.zk().ensure_path("/heron-marathon/topologies"));
  ASSERT_TRUE(rig.zk().create("/heron-marathon/topologies/broken", R"({"schemaVersion":1,"name":"broken",)"));
  std::string bad = ControllerRig::spec_json("badvalues", 1);
  bad.replace(bad.find("\"cpus\":1"), 8, "\"cpus\":-3");
  ASSERT_TRUE(rig.zk().create("/heron-marathon/topologies/badvalues", bad));
  submit(rig, "healthy", 1);
  ASSERT_TRUE(rig.wait_phase("healthy", Phase::Running)) << rig.describe("healthy");
  ASSERT_TRUE(rig.wait_phase("broken", Phase::Failed)) << rig.describe("broken");
  ASSERT_TRUE(rig.wait_phase("badvalues", Phase::Failed)) << rig.describe("badvalues");
  auto s = rig.status("badvalues");
  ASSERT_TRUE(s);
  auto* c = hmc::reconciler::find_condition(s->conditions, hmc::reconciler::kCondSpecValid);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->message.find("/resources/cpus"), std::string::npos) << c->message;
  EXPECT_FALSE(rig.group("broken").has_value());
  EXPECT_FALSE(rig.group("badvalues").has_value());
  EXPECT_TRUE(rig.controller().running());
}

TEST(Lifecycle, KillFinishesAfterTheControllerIsKilledInTheMiddle) {
  ControllerRig rig;
  for (int i = 0; i < 3; ++i) submit(rig, "k" + std::to_string(i), 2);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rig.wait_phase("k" + std::to_string(i), Phase::Running)) << rig.describe("k0");
  for (int i = 0; i < 3; ++i) {
    const std::string name = "k" + std::to_string(i);
    rig.create_heron_state(name);
    ASSERT_EQ(rig.cli({"kill", name}).exit_code, 0);
    // SIGKILL at a different point of each kill's sequence.
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + 120 * i));
    rig.controller().kill_hard();
    rig.start_controller();
  }
  for (int i = 0; i < 3; ++i) {
    const std::string name = "k" + std::to_string(i);
    ASSERT_TRUE(wait_until([&] { return !rig.desired_exists(name); }, 40s)) << rig.describe(name);
    EXPECT_FALSE(rig.group(name).has_value());
    EXPECT_EQ(rig.heron_state_count(name), 0);
    EXPECT_FALSE(rig.status(name).has_value());
  }
}

TEST(Lifecycle, SurvivesAZooKeeperRestart) {
  ControllerRig rig;
  submit(rig, "before", 1);
  ASSERT_TRUE(rig.wait_phase("before", Phase::Running)) << rig.describe("before");
  rig.zookeeper().stop();
  std::this_thread::sleep_for(1s);
  rig.zookeeper().start();
  submit(rig, "after", 1);
  ASSERT_TRUE(rig.wait_phase("after", Phase::Running, 40s)) << rig.describe("after");
  EXPECT_TRUE(rig.controller().running());
}

TEST(Lifecycle, RebuildsWatchesAfterSessionExpiry) {
  RigOptions o;
  o.zk_network_control = true;
  ControllerRig rig(o);
  submit(rig, "pre", 1);
  ASSERT_TRUE(rig.wait_phase("pre", Phase::Running)) << rig.describe("pre");
  // Cut the network longer than the controller's 4 s session timeout: the
  // server expires its session (a frozen server instead races the expiry
  // against the client's reconnection); the test's own client has a 10 s
  // timeout and keeps its session.
  rig.zookeeper().drop_network();
  std::this_thread::sleep_for(7s);
  rig.zookeeper().restore_network();
  ASSERT_TRUE(wait_until([&] { return rig.controller_log().find("expired") != std::string::npos; }, 30s))
      << rig.controller_log();
  submit(rig, "post", 1);
  ASSERT_TRUE(rig.wait_phase("post", Phase::Running, 40s)) << rig.describe("post");
  // The old topology's watch was rebuilt too: a suspend is still seen.
  ASSERT_EQ(rig.cli({"suspend", "pre"}).exit_code, 0);
  ASSERT_TRUE(rig.wait_phase("pre", Phase::Suspended, 40s)) << rig.describe("pre");
}

TEST(Lifecycle, RidesOutMarathonErrorsAndResets) {
  ControllerRig rig;
  ASSERT_TRUE(rig.wait_ready()) << rig.controller_log();
  auto f = rig.sim().post("/_sim/faults", R"({"errorRate":1.0,"errorStatus":503})");
  ASSERT_EQ(f.status / 100, 2) << f.body;
  submit(rig, "flaky", 1);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = rig.status("flaky");
        return s && !s->last_error.empty();
      },
      30s))
      << rig.describe("flaky");
  ASSERT_EQ(rig.sim().post("/_sim/faults", R"({"errorRate":0.0,"resetRate":0.5})").status / 100, 2);
  std::this_thread::sleep_for(2s);
  ASSERT_EQ(rig.sim().post("/_sim/faults", R"({"errorRate":0.0,"resetRate":0.0})").status / 100, 2);
  ASSERT_TRUE(rig.wait_phase("flaky", Phase::Running, 60s)) << rig.describe("flaky");
  EXPECT_EQ(rig.app_count("flaky"), 2);
  EXPECT_TRUE(rig.status("flaky")->last_error.empty());
}

// A mass submit: desired nodes written in a few multis are read in pipelined
// batches, get one POST each, and their statuses reach ZooKeeper in batched
// multis; killing half of them then leaves no status node behind (a status
// write is never applied after its node's delete) and the rest untouched.
TEST(Lifecycle, MassSubmitRunsAllAndMassKillLeavesNoStatusBehind) {
  RigOptions o;
  o.sim_args = {"--agent", "cpus=100,mem=400000,disk=400000,ports=10000-20000"};
  ControllerRig rig(o);
  constexpr int kTopologies = 60;
  auto name = [](int i) { return "mass-" + std::to_string(i); };
  ASSERT_TRUE(rig.zk().ensure_path("/heron-marathon/topologies"));
  for (int first = 0; first < kTopologies; first += 20) {
    std::vector<hmc::zk::Op> ops;
    for (int i = first; i < first + 20; ++i)
      ops.push_back(hmc::zk::CreateOp{"/heron-marathon/topologies/" + name(i),
                                      ControllerRig::spec_json(name(i), 1, 0.05, 32)});
    auto r = rig.zk().multi(ops);
    ASSERT_TRUE(r) << r.error().message;
  }
  for (int i = 0; i < kTopologies; ++i)
    ASSERT_TRUE(rig.wait_phase(name(i), Phase::Running, 60s)) << rig.describe(name(i));
  EXPECT_EQ(rig.requests("POST", "/v2/groups"), kTopologies);

  // Kill the even ones at once: state "killed" written in one multi.
  std::vector<hmc::zk::Op> kills;
  for (int i = 0; i < kTopologies; i += 2)
    kills.push_back(hmc::zk::SetOp{"/heron-marathon/topologies/" + name(i),
                                   ControllerRig::spec_json(name(i), 1, 0.05, 32, "killed")});
  auto k = rig.zk().multi(kills);
  ASSERT_TRUE(k) << k.error().message;
  for (int i = 0; i < kTopologies; i += 2)
    ASSERT_TRUE(wait_until([&] { return !rig.desired_exists(name(i)); }, 60s)) << rig.describe(name(i));
  // Let any status write still on its way land, then look.
  std::this_thread::sleep_for(1500ms);
  auto statuses = rig.zk().children("/heron-marathon/status");
  ASSERT_TRUE(statuses);
  EXPECT_EQ(statuses->size(), static_cast<std::size_t>(kTopologies / 2));
  for (int i = 0; i < kTopologies; ++i) {
    if (i % 2 == 0) {
      EXPECT_FALSE(rig.status(name(i)).has_value()) << name(i);
      EXPECT_FALSE(rig.group(name(i)).has_value()) << name(i);
    } else {
      auto st = rig.status(name(i));
      ASSERT_TRUE(st) << name(i);
      EXPECT_EQ(st->phase, Phase::Running) << name(i);
    }
  }
}

// A status node removed by hand is written again at the next change: the
// controller's cache said it existed, the update finds it missing.
TEST(Lifecycle, StatusNodeRemovedByHandIsWrittenAgain) {
  ControllerRig rig;
  submit(rig, "gone", 1);
  ASSERT_TRUE(rig.wait_phase("gone", Phase::Running)) << rig.describe("gone");
  ASSERT_TRUE(rig.zk().remove("/heron-marathon/status/gone"));
  ASSERT_EQ(rig.cli({"suspend", "gone"}).exit_code, 0);
  ASSERT_TRUE(rig.wait_phase("gone", Phase::Suspended)) << rig.describe("gone") << rig.controller_log();
}
