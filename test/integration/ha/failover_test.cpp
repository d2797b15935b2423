// High availability end to end: several real controller replicas with
// distinct identities, one real ZooKeeper, one marathon-sim. Exactly one
// replica writes to Marathon; when it dies, is stopped or loses its ZooKeeper
// session, another takes over without duplicating or losing a group.

#include "ha_rig.hpp"

#include "hmc/reconciler/status.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using hmc::reconciler::Phase;
using hmc::testing::HaRig;
using hmc::testing::SimRequest;
using hmc::testing::wait_until;
namespace json = boost::json;

namespace {

std::optional<hmc::reconciler::TopologyStatus> status(HaRig& rig, const std::string& name) {
  auto n = rig.zk().get("/heron-marathon/status/" + name);
  if (!n) return std::nullopt;
  return hmc::reconciler::parse_status(n->data);
}

bool running(HaRig& rig, const std::string& name) {
  auto s = status(rig, name);
  return s && s->phase == Phase::Running;
}

// Marathon writes in the simulator's log, optionally only those after `after_seq`.
std::vector<SimRequest> writes(HaRig& rig, std::uint64_t after_seq = 0) {
  std::vector<SimRequest> out;
  for (auto& r : rig.sim().requests())
    if (r.seq > after_seq && hmc::testing::is_marathon_write(r)) out.push_back(r);
  return out;
}

std::uint64_t last_seq(HaRig& rig) {
  auto rs = rig.sim().requests();
  return rs.empty() ? 0 : rs.back().seq;
}

bool has(const std::string& ua, const std::string& identity) { return ua.find(identity) != std::string::npos; }

// Group ids under /heron/topologies in the simulator.
std::set<std::string> groups(HaRig& rig) {
  std::set<std::string> ids;
  auto r = rig.sim().get("/v2/groups/heron/topologies");
  if (r.status != 200) return ids;
  const json::value v = json::parse(r.body);
  if (auto* g = v.as_object().if_contains("groups"))
    for (auto& x : g->as_array()) ids.insert(std::string(x.at("id").as_string()));
  return ids;
}

}  // namespace

// Two replicas, several topologies submitted (CLI and plain ZooKeeper writes):
// every Marathon write carries the leader's identity, none the standby's, and
// each status node names the leader.
TEST(Failover, OnlyTheLeaderWritesToMarathonAndStatusNamesIt) {
  HaRig rig;
  const int l = rig.wait_leader();
  ASSERT_GE(l, 0) << rig.logs();
  const int s = 1 - l;
  const std::string leader = rig.replica(l).identity;
  const std::string standby = rig.replica(s).identity;
  ASSERT_TRUE(rig.wait_ready(s)) << rig.logs();

  auto cli = hmc::testing::run_command(
      {std::string(HMC_BINARY_DIR) + "/cli/heron-marathon", "--zk", rig.zookeeper().connect_string(), "submit", "-"},
      HaRig::spec_json("via-cli", 2));
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  for (int i = 0; i < 5; ++i) rig.submit("t" + std::to_string(i));
  for (std::string n : {"via-cli", "t0", "t1", "t2", "t3", "t4"})
    ASSERT_TRUE(wait_until([&] { return running(rig, n); }, 60s)) << n << "\n" << rig.logs();

  const auto w = writes(rig);
  ASSERT_GE(w.size(), 6u);  // at least one POST /v2/groups per topology
  for (auto& r : w) {
    EXPECT_TRUE(has(r.user_agent, leader)) << r.method << " " << r.path << " UA=" << r.user_agent;
    EXPECT_FALSE(has(r.user_agent, standby)) << r.method << " " << r.path << " UA=" << r.user_agent;
  }
  EXPECT_EQ(rig.leader_metric(s), 0);
  for (std::string n : {"via-cli", "t0", "t4"}) {
    auto st = status(rig, n);
    ASSERT_TRUE(st) << n;
    EXPECT_EQ(st->leader, leader) << n;
  }
}

// The leader is SIGKILLed while it creates 100 topologies. The standby takes
// over after the leader's session expires and finishes the job: exactly 100
// groups, every topology Running, and exactly 100 POST /v2/groups that created
// a group (201). A POST answered 409 would be a duplicate attempt that created
// nothing: allowed, because a killed leader may have created a group without
// recording it, but it must never produce a second group.
TEST(Failover, LeaderKilledWhileCreatingHundredTopologiesStandbyFinishesWithoutDuplicates) {
  HaRig rig;
  const int l = rig.wait_leader();
  ASSERT_GE(l, 0) << rig.logs();
  const int s = 1 - l;
  ASSERT_TRUE(rig.wait_ready(s)) << rig.logs();

  // Each Marathon answer takes 40 ms, so the leader cannot finish all 100
  // creates before the kill lands, however fast the machine is.
  rig.sim().set_faults(R"({"latency":"40ms"})");
  constexpr int kTopologies = 100;
  for (int i = 0; i < kTopologies; ++i) rig.submit("bulk-" + std::to_string(i));
  auto posts = [&] {
    int n = 0;
    for (auto& r : writes(rig))
      if (r.method == "POST" && r.path.rfind("/v2/groups", 0) == 0) ++n;
    return n;
  };
  // Kill it in the middle: some groups created, most not.
  ASSERT_TRUE(wait_until([&] { return posts() >= 10; }, 60s)) << rig.logs();
  const int before = posts();
  rig.replica(l).process.kill_hard();
  ASSERT_LT(before, kTopologies) << "the leader finished before it could be killed";
  rig.sim().clear_faults();

  ASSERT_TRUE(wait_until(
      [&] {
        for (int i = 0; i < kTopologies; ++i)
          if (!running(rig, "bulk-" + std::to_string(i))) return false;
        return true;
      },
      180s))
      << rig.logs();

  const auto g = groups(rig);
  EXPECT_EQ(g.size(), static_cast<std::size_t>(kTopologies));
  for (int i = 0; i < kTopologies; ++i)
    EXPECT_EQ(g.count("/heron/topologies/bulk-" + std::to_string(i)), 1u) << i;
  int created = 0, conflicts = 0, others = 0;
  for (auto& r : writes(rig)) {
    if (r.method != "POST" || r.path.rfind("/v2/groups", 0) != 0) continue;
    if (r.status == 201) ++created;
    else if (r.status == 409) ++conflicts;
    else ++others;
  }
  EXPECT_EQ(created, kTopologies) << conflicts << " conflicts, " << others << " others";
  EXPECT_EQ(others, 0);
  // The standby did the rest, under its own name.
  const std::string standby = rig.replica(s).identity;
  EXPECT_TRUE(status(rig, "bulk-" + std::to_string(kTopologies - 1)));
  int by_standby = 0;
  for (auto& r : writes(rig)) by_standby += has(r.user_agent, standby) ? 1 : 0;
  EXPECT_GT(by_standby, 0);
}

// SIGTERM resigns at once: the standby leads long before a session timeout
// would pass (the session timeout here is 10 s and the bound 8 s), and the
// old leader exits cleanly. A topology submitted afterwards is created by
// the new leader, whose identity its status names.
TEST(Failover, LeaderTerminatedStandbyLeadsWithoutWaitingForSessionExpiry) {
  hmc::testing::HaRigOptions o;
  o.session_timeout = "10s";
  HaRig rig(o);
  const int l = rig.wait_leader();
  ASSERT_GE(l, 0) << rig.logs();
  const int s = 1 - l;
  ASSERT_TRUE(rig.wait_ready(s)) << rig.logs();

  rig.replica(l).process.signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return rig.leader_metric(s) == 1; }, 8s)) << rig.logs();
  EXPECT_EQ(rig.replica(l).process.wait(10000ms), 0) << rig.logs();

  const auto mark = last_seq(rig);
  rig.submit("after-term");
  ASSERT_TRUE(wait_until([&] { return running(rig, "after-term"); }, 60s)) << rig.logs();
  for (auto& r : writes(rig, mark)) EXPECT_TRUE(has(r.user_agent, rig.replica(s).identity)) << r.user_agent;
  auto st = status(rig, "after-term");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->leader, rig.replica(s).identity);
}

// The leader freezes (SIGSTOP) long enough for ZooKeeper to expire its
// session while the process lives on. The other replica leads; when the old
// leader wakes up it must not write to Marathon any more and rejoins as a
// standby.
TEST(Failover, LeaderWhoseSessionExpiredStopsWritingAndComesBackAsStandby) {
  HaRig rig;
  const int l = rig.wait_leader();
  ASSERT_GE(l, 0) << rig.logs();
  const int s = 1 - l;
  const std::string old_leader = rig.replica(l).identity;
  const std::string new_leader = rig.replica(s).identity;
  ASSERT_TRUE(rig.wait_ready(s)) << rig.logs();
  rig.submit("before");
  ASSERT_TRUE(wait_until([&] { return running(rig, "before"); }, 60s)) << rig.logs();

  rig.replica(l).process.signal(SIGSTOP);
  ASSERT_TRUE(wait_until([&] { return rig.leader_metric(s) == 1; }, 30s)) << rig.logs();
  const auto mark = last_seq(rig);
  rig.submit("during");
  ASSERT_TRUE(wait_until([&] { return running(rig, "during"); }, 60s)) << rig.logs();

  rig.replica(l).process.signal(SIGCONT);
  // Back as a standby (its metric answers again and says 0)...
  ASSERT_TRUE(wait_until([&] { return rig.leader_metric(l) == 0; }, 30s)) << rig.logs();
  EXPECT_EQ(rig.leader_metric(s), 1);
  // ... and it stays out of Marathon while the leader keeps working.
  rig.submit("after");
  ASSERT_TRUE(wait_until([&] { return running(rig, "after"); }, 60s)) << rig.logs();
  std::this_thread::sleep_for(1s);
  for (auto& r : writes(rig, mark)) {
    EXPECT_FALSE(has(r.user_agent, old_leader)) << r.method << " " << r.path << " UA=" << r.user_agent;
    EXPECT_TRUE(has(r.user_agent, new_leader)) << r.method << " " << r.path << " UA=" << r.user_agent;
  }
  auto st = status(rig, "after");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->leader, new_leader);
  EXPECT_TRUE(rig.replica(l).process.running());
}
