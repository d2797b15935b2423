// Table-driven cases of reconcile() for desired nodes with a topologyDefn:
// Heron's state written before the group, containers sized from Heron's
// packing plan, overrides checked against it, and a refused definition
// reported without touching anything.

#include "table.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <variant>

namespace hmc::reconciler::testing {
namespace {

using CS = ConditionStatus;

constexpr const char* kDefnA = "Zm9vYmFy";  // stand-ins: the controller decodes them, not the reconciler
constexpr const char* kDefnB = "YmF6cXV4";

// A plan of `containers` containers, each needing 3 CPU, 3 GB + 1 byte RAM, 14 GB disk.
HeronDesired plan_of(const ReconcilerConfig& cfg, int containers, const std::string& tag = "a") {
  HeronDesired h;
  h.topology_name = "wc";
  h.topology_id = "wc-1f2e";
  h.containers = containers;
  h.largest = {3.0, 3 * kGigabyte + 1, 14 * kGigabyte};
  for (const char* dir : {"topologies", "packingplans", "executionstate"}) {
    const std::string bytes = std::string(dir) + "-" + tag;
    h.nodes.push_back({cfg.heron_root + "/" + dir + "/wc", bytes, text_digest(bytes)});
  }
  return h;
}

// The desired node with a definition and no sizes, its plan prepared.
void with_defn(World& w, int containers = 3) {
  w.t.topology_defn = kDefnA;
  w.t.containers_set = w.t.resources_set = false;
  w.heron_desired = plan_of(w.cfg, containers);
}

// The topology as the controller deploys it: sizes and id from the plan.
DesiredTopology effective(const World& w) {
  DesiredTopology e = w.t;
  const auto& h = *w.heron_desired;
  if (!e.containers_set) e.containers = h.containers;
  if (!e.resources_set) e.resources = {h.largest.cpu, 3073, 14336};
  if (e.topology_id.empty()) e.topology_id = h.topology_id;
  return e;
}

// Heron's nodes as prepared exist in ZooKeeper.
void nodes_written(World& w) {
  for (const auto& n : w.heron_desired->nodes) {
    w.heron.present.push_back(n.path);
    w.heron.digests[n.path] = n.digest;
  }
}

void deploy_effective(World& w) { w.snap.groups[w.gid()] = deployed_group(w.cfg, effective(w)); }

std::string spec_message(const Plan& p) { return find_condition(p.status.conditions, kCondSpecValid)->message; }

void expect_refused(const Plan& p, const std::vector<std::string>& parts) {
  const std::string m = spec_message(p);
  for (const auto& part : parts) EXPECT_NE(m.find(part), std::string::npos) << part << " not in: " << m;
}

const Case kCases[] = {
    {"CreateWritesHeronStateFirst", [](World& w) { with_defn(w); }, {"WriteHeronState", "CreateGroup"},
     Phase::Pending, Health::Progressing,
     {{kCondSpecValid, CS::True, "Valid"}, {kCondSynced, CS::False, "Creating"}}, true,
     [](const World& w, const Plan& p) {
       const auto& write = std::get<WriteHeronState>(p.actions[0]);
       ASSERT_EQ(write.nodes.size(), 3u);
       for (std::size_t i = 0; i < 3; ++i) {
         EXPECT_EQ(write.nodes[i].path, w.heron_desired->nodes[i].path);
         EXPECT_EQ(write.nodes[i].bytes, w.heron_desired->nodes[i].bytes);
         EXPECT_TRUE(write.nodes[i].create);
       }
       const auto e = effective(w);
       EXPECT_EQ(std::get<CreateGroup>(p.actions[1]).body, build_group_json(w.cfg, e, 1));
       EXPECT_EQ(p.status.total_containers, 4);
       // Container sizes: the plan's largest container, RAM and disk in MB rounded up.
       EXPECT_EQ(e.resources, (Resources{3.0, 3073, 14336}));
       EXPECT_NE(std::get<CreateGroup>(p.actions[1]).body.find("\"mem\":3073"), std::string::npos);
       EXPECT_NE(std::get<CreateGroup>(p.actions[1]).body.find("--topology-id=wc-1f2e"), std::string::npos);
     }},
    {"CreateSuspendedStillWritesHeronState",
     [](World& w) {
       with_defn(w);
       w.t.state = DesiredState::suspended;
     },
     {"WriteHeronState", "CreateGroup"}, Phase::Pending, Health::Progressing, {}, true,
     [](const World& w, const Plan& p) {
       EXPECT_EQ(std::get<CreateGroup>(p.actions[1]).body, build_group_json(w.cfg, effective(w), 0));
     }},
    {"CreateWithHeronStateInPlace",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
     },
     {"CreateGroup"}, Phase::Pending, Health::Progressing, {{kCondSynced, CS::False, "Creating"}}, true},
    {"CreateSetsTheNodeThatDiffers",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       w.heron.digests[w.heron_desired->nodes[1].path] = 1;
     },
     {"WriteHeronState", "CreateGroup"}, Phase::Pending, Health::Progressing, {}, true,
     [](const World& w, const Plan& p) {
       const auto& write = std::get<WriteHeronState>(p.actions[0]);
       ASSERT_EQ(write.nodes.size(), 1u);
       EXPECT_EQ(write.nodes[0].path, w.heron_desired->nodes[1].path);
       EXPECT_FALSE(write.nodes[0].create);
     }},
    {"ConvergedWithHeronState",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
     },
     {}, Phase::Running, Health::Healthy, {{kCondSynced, CS::True, "InSync"}}, false},
    {"RunningGroupGetsMissingNodeBack",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
       w.heron.digests.erase(w.heron_desired->nodes[1].path);
     },
     {"WriteHeronState"}, Phase::Running, Health::Healthy, {{kCondSynced, CS::False, "HeronStateChanged"}}, true,
     [](const World& w, const Plan& p) {
       const auto& write = std::get<WriteHeronState>(p.actions[0]);
       ASSERT_EQ(write.nodes.size(), 1u);
       EXPECT_TRUE(write.nodes[0].create);
       EXPECT_NE(find_condition(p.status.conditions, kCondSynced)->message.find(w.heron_desired->nodes[1].path),
                 std::string::npos);
     }},
    // Heron's nodes of this generation were written before the group: a node
    // that differs or is gone now was changed by hand, drift like apps edited by hand.
    {"HeronNodeChangedByHandIsDrift",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
       w.prev(Phase::Running);
       w.heron.digests[w.heron_desired->nodes[1].path] = 1;
     },
     {"WriteHeronState"}, Phase::Running, Health::Healthy,
     {{kCondSynced, CS::False, "HeronStateChanged"}, {kCondDrift, CS::True, "HeronStateChanged"}}, true,
     [](const World& w, const Plan& p) {
       EXPECT_EQ(find_condition(p.status.conditions, kCondDrift)->message,
                 "Heron's state was changed outside the controller; writing Heron's state " +
                     w.heron_desired->nodes[1].path + " (differs)");
     }},
    {"HeronNodeDeletedByHandIsDrift",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
       w.prev(Phase::Suspended);
       w.t.state = DesiredState::suspended;
       w.snap.groups[w.gid()] = deployed_group(w.cfg, effective(w), 0);
       w.heron.digests.erase(w.heron_desired->nodes[0].path);
     },
     {"WriteHeronState"}, Phase::Suspended, Health::Suspended,
     {{kCondSynced, CS::False, "HeronStateChanged"}, {kCondDrift, CS::True, "HeronStateChanged"}}, true,
     [](const World& w, const Plan& p) {
       EXPECT_NE(find_condition(p.status.conditions, kCondDrift)->message.find(w.heron_desired->nodes[0].path +
                                                                               " (missing)"),
                 std::string::npos);
     }},
    {"HeronNodesOfANewGenerationAreNoDrift",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
       w.prev(Phase::Running).observed_generation = w.version - 1;
       w.heron.digests[w.heron_desired->nodes[2].path] = 1;  // e.g. a new submissionUser
     },
     {"WriteHeronState"}, Phase::Running, Health::Healthy,
     {{kCondSynced, CS::False, "HeronStateChanged"}, {kCondDrift, CS::False, "NoDrift"}}, true},
    {"HeronDriftClearsOnceTheNodesAreBack",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
       w.prev(Phase::Running, {{kCondDrift, CS::True, "HeronStateChanged", "", w.now - std::chrono::seconds(5)}});
     },
     {}, Phase::Running, Health::Healthy, {{kCondSynced, CS::True, "InSync"}, {kCondDrift, CS::False, "NoDrift"}},
     false},
    {"NewDefinitionWritesThenRollsContainers",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
       w.prev(Phase::Running).observed_generation = w.version - 1;
       w.t.topology_defn = kDefnB;
       w.heron_desired = plan_of(w.cfg, 3, "b");
     },
     {"WriteHeronState", "UpdateGroup"}, Phase::Deploying, Health::Progressing,
     {{kCondSynced, CS::False, "SpecChanged"}}, true,
     [](const World& w, const Plan& p) {
       EXPECT_EQ(std::get<WriteHeronState>(p.actions[0]).nodes.size(), 3u);
       EXPECT_EQ(std::get<UpdateGroup>(p.actions[1]).body, build_group_json(w.cfg, effective(w), 1));
     }},
    {"PlanChangeWaitsForRunningDeployment",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
       w.deployment("d1");
       w.t.topology_defn = kDefnB;
       w.heron_desired = plan_of(w.cfg, 4, "b");
     },
     {}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "DeploymentInProgress"}}, true},
    {"MorePackedContainersScaleOut",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       deploy_effective(w);
       w.heron_desired = plan_of(w.cfg, 5, "b");
     },
     {"WriteHeronState", "UpdateGroup"}, Phase::Deploying, Health::Progressing, {}, true,
     [](const World& w, const Plan& p) {
       EXPECT_NE(std::get<UpdateGroup>(p.actions[1]).body.find("\"id\":\"" + w.app(5) + "\""), std::string::npos);
     }},

    // --- refused definitions and overrides: nothing is done -----------------------------
    {"CorruptDefinition",
     [](World& w) {
       with_defn(w);
       w.heron_desired = HeronDesired{};
       w.heron_desired->error = "not a serialized heron.proto.api.Topology";
     },
     {}, Phase::Failed, Health::Degraded,
     {{kCondSpecValid, CS::False, "InvalidSpec"}, {kCondSynced, CS::Unknown, "InvalidSpec"}}, false,
     [](const World&, const Plan& p) {
       EXPECT_EQ(spec_message(p), "/topologyDefn: not a serialized heron.proto.api.Topology");
     }},
    {"PackingRefused",
     [](World& w) {
       with_defn(w);
       w.heron_desired = HeronDesired{};
       w.heron_desired->error = "Heron's RoundRobinPacking refuses it: 7 instances cannot fill 9 containers";
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false,
     [](const World&, const Plan& p) { expect_refused(p, {"/topologyDefn: Heron's RoundRobinPacking"}); }},
    {"CorruptDefinitionLeavesRunningGroupAlone",
     [](World& w) {
       with_defn(w);
       deploy_effective(w);
       w.heron_desired = HeronDesired{};
       w.heron_desired->error = "topology has no spouts";
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSynced, CS::Unknown, "InvalidSpec"}}, false},
    {"DefinitionNotPrepared",
     [](World& w) {
       with_defn(w);
       w.heron_desired.reset();
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false,
     [](const World&, const Plan& p) { expect_refused(p, {"/topologyDefn"}); }},
    {"DefinitionOfAnotherTopology",
     [](World& w) {
       with_defn(w);
       w.heron_desired->topology_name = "other";
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false,
     [](const World&, const Plan& p) { expect_refused(p, {"/topologyDefn", "'other'", "'wc'"}); }},
    {"TopologyIdDisagrees",
     [](World& w) {
       with_defn(w);
       w.t.topology_id = "wc-0000";
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false,
     [](const World&, const Plan& p) { expect_refused(p, {"/topologyId", "wc-0000", "wc-1f2e"}); }},
    {"ContainersOverrideDisagrees",
     [](World& w) {
       with_defn(w, 3);
       w.t.containers_set = true;
       w.t.containers = 4;
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false,
     [](const World&, const Plan& p) { expect_refused(p, {"/containers", "is 4", "has 3 containers", "topology.stmgrs"}); }},
    {"ContainersOverrideAgrees",
     [](World& w) {
       with_defn(w, 3);
       w.t.containers_set = true;
       w.t.containers = 3;
     },
     {"WriteHeronState", "CreateGroup"}, Phase::Pending, Health::Progressing, {}, true},
    {"ResourcesOverrideTooSmall",
     [](World& w) {
       with_defn(w);
       w.t.resources_set = true;
       w.t.resources = {4, 2048, 20000};
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false,
     [](const World&, const Plan& p) {
       expect_refused(p, {"/resources/mem: is 2048 MB, less than the 3073 MB"});
       EXPECT_EQ(spec_message(p).find("/resources/cpus"), std::string::npos);
       EXPECT_EQ(spec_message(p).find("/resources/disk"), std::string::npos);
     }},
    {"ResourcesOverrideLargerIsUsed",
     [](World& w) {
       with_defn(w);
       w.t.resources_set = true;
       w.t.resources = {4, 8192, 20000};
     },
     {"WriteHeronState", "CreateGroup"}, Phase::Pending, Health::Progressing, {}, true,
     [](const World&, const Plan& p) {
       const auto& body = std::get<CreateGroup>(p.actions[1]).body;
       EXPECT_NE(body.find("\"cpus\":4,\"mem\":8192,\"disk\":20000"), std::string::npos) << body;
     }},

    // --- kill: whatever the definition holds ----------------------------------------------
    {"KillWithCorruptDefinitionStillKills",
     [](World& w) {
       with_defn(w);
       deploy_effective(w);
       w.t.state = DesiredState::killed;
       w.heron_desired = HeronDesired{};
       w.heron_desired->error = "not a serialized heron.proto.api.Topology";
     },
     {"SuspendGroup"}, Phase::Killing, Health::Progressing, {{kCondKilling, CS::True, "KillRequested"}}, true},
    {"KillDeletesHeronStateOnceGroupIsGone",
     [](World& w) {
       with_defn(w);
       nodes_written(w);
       w.t.state = DesiredState::killed;
     },
     {"DeleteHeronState", "ForgetTopology"}, Phase::Killing, Health::Progressing, {}, true,
     [](const World& w, const Plan& p) {
       const auto& del = std::get<DeleteHeronState>(p.actions[0]);
       EXPECT_EQ(del.paths.size(), 3u);
       EXPECT_EQ(del.paths.back(), w.cfg.heron_root + "/topologies/wc");
       EXPECT_EQ(p.status.total_containers, 4);
     }},
};

class HeronStateTable : public ::testing::TestWithParam<std::size_t> {};

TEST_P(HeronStateTable, Plan) {
  World w;
  expect_case(kCases[GetParam()], w);
}

INSTANTIATE_TEST_SUITE_P(Cases, HeronStateTable, ::testing::Range<std::size_t>(0, std::size(kCases)),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return std::string(kCases[info.param].name);
                         });

TEST(HeronStateSpecHash, DefinitionRollsTheContainers) {
  const auto cfg = default_config();
  auto t = default_topology();
  const std::string without = spec_hash(cfg, t);
  t.topology_defn = kDefnA;
  const std::string a = spec_hash(cfg, t);
  t.topology_defn = kDefnB;
  EXPECT_NE(a, without);
  EXPECT_NE(spec_hash(cfg, t), a);
}

}  // namespace
}  // namespace hmc::reconciler::testing
