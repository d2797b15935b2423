// Deployments stuck Waiting for offers: detected, explained, cleared when an
// agent large enough arrives, and killed cleanly while stuck.

#include "rig.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using hmc::reconciler::Phase;
using hmc::testing::ControllerRig;
using hmc::testing::RigOptions;
using hmc::testing::wait_until;

namespace {

// Small agents: 4 cpus and 15000 MB each, so a container of 8 cpus fits none.
RigOptions small_agents() {
  RigOptions o;
  o.sim_args = {"--agent", "cpus=4,mem=15000,disk=100000,ports=31000-32000",
                "--agent", "cpus=4,mem=15000,disk=100000,ports=31000-32000",
                "--offer-period", "100ms"};
  o.controller_args = {"--waiting-threshold", "500ms", "--waiting-deadline", "3s",
                       "--kill-force-after", "5s"};
  return o;
}

}  // namespace

TEST(Waiting, TooLargeForAnyAgentIsDiagnosedUnschedulableThenRunsOnALargerAgent) {
  ControllerRig rig(small_agents());
  auto r = rig.cli({"submit", rig.spec_file("big", 2, 8.0, 16384)});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(rig.wait_phase("big", Phase::Waiting, 30s)) << rig.describe("big");
  auto st = rig.status("big");
  ASSERT_TRUE(st && st->waiting);
  EXPECT_EQ(st->waiting->kind, "Unschedulable") << rig.describe("big");
  EXPECT_NE(st->waiting->summary.find("each container asks cpus=8"), std::string::npos) << st->waiting->summary;
  EXPECT_NE(st->waiting->summary.find("cpus=4"), std::string::npos) << st->waiting->summary;
  EXPECT_FALSE(st->waiting->apps.empty());
  bool cpus_reason = false;
  for (auto& w : st->waiting->reasons)
    if (w.reason == "InsufficientCpus" && w.declined > 0) cpus_reason = true;
  EXPECT_TRUE(cpus_reason) << rig.describe("big");
  auto* c = hmc::reconciler::find_condition(st->conditions, hmc::reconciler::kCondWaiting);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, hmc::reconciler::ConditionStatus::True);

  // Past the waiting deadline the topology is Degraded.
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = rig.status("big");
        return s && s->health == hmc::reconciler::Health::Degraded;
      },
      30s))
      << rig.describe("big");

  // The operator's one line says why.
  auto line = rig.cli({"status", "big"});
  EXPECT_EQ(line.exit_code, 0) << line.err;
  EXPECT_NE(line.out.find("each container asks cpus=8"), std::string::npos) << line.out;

  // A large enough agent arrives: the topology runs and the condition clears.
  rig.sim().add_agent("cpus=32,mem=131072,disk=500000,ports=31000-32000");
  ASSERT_TRUE(rig.wait_phase("big", Phase::Running, 30s)) << rig.describe("big");
  st = rig.status("big");
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->waiting.has_value());
  c = hmc::reconciler::find_condition(st->conditions, hmc::reconciler::kCondWaiting);
  EXPECT_TRUE(c == nullptr || c->status == hmc::reconciler::ConditionStatus::False) << rig.describe("big");
}

TEST(Waiting, NoRoomNowIsDiagnosedInsufficientCapacity) {
  ControllerRig rig(small_agents());
  // 3 containers of 3 cpus: each fits an agent, but two agents hold only two.
  auto r = rig.cli({"submit", rig.spec_file("crowded", 2, 3.0, 4096)});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(rig.wait_phase("crowded", Phase::Waiting, 30s)) << rig.describe("crowded");
  auto st = rig.status("crowded");
  ASSERT_TRUE(st && st->waiting);
  EXPECT_EQ(st->waiting->kind, "InsufficientCapacity") << rig.describe("crowded");
}

TEST(Waiting, KillOfAWaitingTopologyLeavesNothingAndAResubmitWorks) {
  ControllerRig rig(small_agents());
  ASSERT_EQ(rig.cli({"submit", rig.spec_file("stuck", 2, 8.0, 16384)}).exit_code, 0);
  ASSERT_TRUE(rig.wait_phase("stuck", Phase::Waiting, 30s)) << rig.describe("stuck");
  rig.create_heron_state("stuck");
  ASSERT_EQ(rig.cli({"kill", "stuck"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return !rig.desired_exists("stuck"); }, 60s)) << rig.describe("stuck");
  EXPECT_FALSE(rig.group("stuck").has_value());
  EXPECT_EQ(rig.heron_state_count("stuck"), 0);
  EXPECT_FALSE(rig.status("stuck").has_value());
  // Suspended (forced, to cancel the stuck deployment) before it was destroyed.
  bool suspended_before_delete = false, deleted = false;
  for (auto& q : rig.sim().requests()) {
    if (q.path.rfind("/v2/groups/heron/topologies/stuck", 0) != 0) continue;
    if (q.method == "PUT" && !deleted) suspended_before_delete = true;
    if (q.method == "DELETE") deleted = true;
  }
  EXPECT_TRUE(suspended_before_delete);
  EXPECT_TRUE(deleted);

  // The same name, now small enough, runs.
  auto again = rig.cli({"submit", rig.spec_file("stuck", 1, 1.0, 1024)});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  ASSERT_TRUE(rig.wait_phase("stuck", Phase::Running, 30s)) << rig.describe("stuck");
}

// Marathon's --max_running_deployments: with a limit of 1 and one topology
// stuck Waiting, Marathon refuses every other change with 403. The second
// topology says why and waits; the stuck one can still be killed, and then
// the second one runs.
TEST(Waiting, AtMarathonsDeploymentLimitOthersWaitWithTheReasonAndAStuckOneCanBeKilled) {
  RigOptions o = small_agents();
  o.sim_args.insert(o.sim_args.end(), {"--max-running-deployments", "1"});
  ControllerRig rig(o);
  ASSERT_EQ(rig.cli({"submit", rig.spec_file("stuck", 2, 8.0, 16384)}).exit_code, 0);
  ASSERT_TRUE(rig.wait_phase("stuck", Phase::Waiting, 30s)) << rig.describe("stuck");

  ASSERT_EQ(rig.cli({"submit", rig.spec_file("small", 1, 1.0, 1024)}).exit_code, 0);
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = rig.status("small");
        return st && st->last_error.find("Max number (1) of running deployments") != std::string::npos;
      },
      30s))
      << rig.describe("small");
  auto st = rig.status("small");
  ASSERT_TRUE(st);
  EXPECT_NE(st->phase, Phase::Failed) << rig.describe("small");
  EXPECT_FALSE(rig.group("small").has_value());
  int refused = 0;
  for (const auto& q : rig.sim().requests())
    if (q.method == "POST" && q.path == "/v2/groups" && q.status == 403) ++refused;
  EXPECT_GE(refused, 1);

  ASSERT_EQ(rig.cli({"kill", "stuck"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return !rig.desired_exists("stuck"); }, 60s)) << rig.describe("stuck");
  EXPECT_FALSE(rig.group("stuck").has_value());
  // The kill cancelled the stuck deployment first, which no limit refuses,
  // and only then suspended the group.
  bool cancelled = false, suspended_after_cancel = false;
  for (const auto& q : rig.sim().requests()) {
    if (q.method == "DELETE" && q.path.rfind("/v2/deployments/", 0) == 0 && q.status / 100 == 2) cancelled = true;
    if (q.method == "PUT" && q.path.rfind("/v2/groups/heron/topologies/stuck", 0) == 0 && q.status == 200)
      suspended_after_cancel = cancelled;
  }
  EXPECT_TRUE(suspended_after_cancel);
  ASSERT_TRUE(rig.wait_phase("small", Phase::Running, 60s)) << rig.describe("small");
  st = rig.status("small");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->last_error, "");
}
