// Table-driven cases of reconcile(): each row arranges an observed world and
// asserts the plan's actions, the phase, the health, the conditions and the
// requeue hint. Every row runs for several container counts.

#include "table.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <variant>

namespace hmc::reconciler::testing {
namespace {

using CS = ConditionStatus;

Condition cond(const char* type, CS s, const char* reason, TimePoint at = t0() - 1h) {
  return {type, s, reason, "", at};
}

const Case kCases[] = {
    // --- create ---------------------------------------------------------------------
    {"CreateWhenAbsent", [](World&) {}, {"CreateGroup"}, Phase::Pending, Health::Progressing,
     {{kCondSpecValid, CS::True, "Valid"}, {kCondSynced, CS::False, "Creating"},
      {kCondDrift, CS::False, "NoDrift"}},
     true,
     [](const World& w, const Plan& p) {
       const auto& c = std::get<CreateGroup>(p.actions[0]);
       EXPECT_EQ(c.group_id, w.gid());
       EXPECT_EQ(c.body, build_group_json(w.cfg, w.t, 1));
     }},
    {"CreateSuspendedWithZeroInstances", [](World& w) { w.t.state = DesiredState::suspended; },
     {"CreateGroup"}, Phase::Pending, Health::Progressing, {{kCondSynced, CS::False, "Creating"}},
     true,
     [](const World& w, const Plan& p) {
       EXPECT_EQ(std::get<CreateGroup>(p.actions[0]).body, build_group_json(w.cfg, w.t, 0));
     }},
    {"AdoptEmptyGroupWithPut",
     [](World& w) { w.snap.groups[w.gid()] = ObservedGroup{w.gid(), "v", {}}; }, {"UpdateGroup"},
     Phase::Pending, Health::Progressing, {{kCondSynced, CS::False, "Creating"}}, true},
    {"FirstCreateIsNotDrift", [](World& w) { w.prev(Phase::Pending); }, {"CreateGroup"},
     Phase::Pending, Health::Progressing, {{kCondDrift, CS::False, "NoDrift"}}, true},

    // --- steady states ---------------------------------------------------------------
    {"RunningConverged", [](World& w) { w.deploy(); }, {}, Phase::Running, Health::Healthy,
     {{kCondSynced, CS::True, "InSync"}, {kCondAvailable, CS::True, "AllRunning"},
      {kCondWaiting, CS::False, "NotWaiting"}, {kCondDrift, CS::False, "NoDrift"}},
     false,
     [](const World& w, const Plan& p) {
       EXPECT_EQ(p.status.running_containers, w.t.containers + 1);
       EXPECT_EQ(p.status.total_containers, w.t.containers + 1);
       ASSERT_EQ(p.status.apps.size(), static_cast<std::size_t>(w.t.containers + 1));
       EXPECT_EQ(p.status.apps.back().id, w.app(w.t.containers));
       EXPECT_EQ(p.status.observed_generation, w.version);
     }},
    {"DeployingWhileDeploymentRuns",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
     },
     {}, Phase::Deploying, Health::Progressing,
     {{kCondSynced, CS::True, "InSync"}, {kCondAvailable, CS::False, "ContainersNotRunning"}}, true,
     [](const World&, const Plan& p) { EXPECT_EQ(p.status.deployment_ids, std::vector<std::string>{"d1"}); }},
    {"DeploymentOfOtherGroupIgnored",
     [](World& w) {
       w.deploy();
       ObservedDeployment d;
       d.id = "other";
       d.affected_apps = {"/heron/topologies/wc2/0"};
       w.snap.deployments.push_back(d);
     },
     {}, Phase::Running, Health::Healthy, {}, false,
     [](const World&, const Plan& p) { EXPECT_TRUE(p.status.deployment_ids.empty()); }},
    {"StagedTasksProgress",
     [](World& w) {
       w.deploy(1, 0);
       for (auto& a : w.group().apps) a.tasks_staged = 1;
     },
     {}, Phase::Running, Health::Progressing, {{kCondAvailable, CS::False, "ContainersNotRunning"}},
     true},
    {"CrashedTaskDegraded",
     [](World& w) {
       w.deploy();
       w.group().apps[0].tasks_running = 0;
       w.group().apps[0].last_task_failure = "exited with code 1";
     },
     {}, Phase::Running, Health::Degraded, {{kCondAvailable, CS::False, "ContainersNotRunning"}},
     true,
     [](const World&, const Plan& p) {
       EXPECT_NE(find_condition(p.status.conditions, kCondAvailable)->message.find("exited with code 1"),
                 std::string::npos);
     }},
    {"RelaunchQueuedNotOverdue",
     [](World& w) {
       w.deploy();
       w.group().apps[0].tasks_running = 0;
       w.queued(0, 5min);
       w.snap.queue.back().overdue = false;
     },
     {}, Phase::Running, Health::Progressing, {{kCondWaiting, CS::False, "NotWaiting"}}, true},
    {"SuspendedSettled",
     [](World& w) {
       w.t.state = DesiredState::suspended;
       w.deploy(0);
     },
     {}, Phase::Suspended, Health::Suspended,
     {{kCondSynced, CS::True, "InSync"}, {kCondAvailable, CS::False, "Suspended"}}, false},
    {"SuspendingTasksStillRun",
     [](World& w) {
       w.t.state = DesiredState::suspended;
       w.deploy(0);
       w.group().apps[0].tasks_running = 1;
     },
     {}, Phase::Deploying, Health::Progressing, {{kCondAvailable, CS::False, "Suspending"}}, true},
    {"RetriesMakeProgressDegraded",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.retry_count = 4;
       w.last_error = "marathon: 503";
     },
     {}, Phase::Deploying, Health::Degraded, {}, true,
     [](const World&, const Plan& p) {
       EXPECT_EQ(p.status.last_error, "marathon: 503");
       EXPECT_EQ(p.status.retry_count, 4);
     }},

    // --- updates (a new generation of the desired node) ----------------------------
    {"UpdateImage",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running).observed_generation = 6;
       w.t.image = "apache/heron:0.20.6";
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing,
     {{kCondSynced, CS::False, "SpecChanged"}, {kCondDrift, CS::False, "NoDrift"}}, true,
     [](const World& w, const Plan& p) {
       const auto& u = std::get<UpdateGroup>(p.actions[0]);
       EXPECT_FALSE(u.force);
       EXPECT_EQ(u.body, build_group_json(w.cfg, w.t, 1));
     }},
    {"UpdateResources",
     [](World& w) {
       w.deploy();
       w.t.resources.cpus = 4;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "SpecChanged"}},
     true},
    {"UpdateMemory",
     [](World& w) {
       w.deploy();
       w.t.resources.mem = 8192;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "SpecChanged"}},
     true},
    {"ScaleOutContainers",
     [](World& w) {
       w.deploy();
       w.t.containers += 1;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "SpecChanged"}},
     true,
     [](const World& w, const Plan& p) {
       EXPECT_NE(std::get<UpdateGroup>(p.actions[0]).body.find("\"id\":\"" + w.app(w.t.containers) + "\""),
                 std::string::npos);
     }},
    {"ScaleInContainers",
     [](World& w) {
       w.t.containers += 1;
       w.deploy();
       w.t.containers -= 1;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "SpecChanged"}},
     true},
    {"UpdateExecutorArgs",
     [](World& w) {
       w.deploy();
       w.t.executor_args = {"--verbose"};
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "SpecChanged"}},
     true},
    {"UpdateEnvOnlyChangesHash",
     [](World& w) {
       w.deploy();
       w.t.env = {{"JAVA_OPTS", "-Xmx2g"}};
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "SpecChanged"}},
     true},
    {"UpdateWaitsForRunningDeployment",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.t.image = "apache/heron:0.20.6";
     },
     {}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "DeploymentInProgress"}},
     true},
    {"UpdateCancelsStuckDeployment",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(0, 5min);
       w.largest_offer(1, 2048);
       w.t.resources = {1, 1024, 1024};
     },
     {"CancelDeployment", "UpdateGroup"}, Phase::Waiting, Health::Progressing,
     {{kCondSynced, CS::False, "SpecChanged"}, {kCondWaiting, CS::True, "Unschedulable"}}, true,
     [](const World&, const Plan& p) {
       EXPECT_EQ(std::get<CancelDeployment>(p.actions[0]).deployment_id, "d1");
       EXPECT_FALSE(std::get<UpdateGroup>(p.actions[1]).force);
     }},
    {"SuspendedSpecChangeStaysSuspended",
     [](World& w) {
       w.t.state = DesiredState::suspended;
       w.deploy(0);
       w.t.image = "apache/heron:0.20.6";
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "SpecChanged"}},
     true,
     [](const World& w, const Plan& p) {
       EXPECT_EQ(std::get<UpdateGroup>(p.actions[0]).body, build_group_json(w.cfg, w.t, 0));
     }},

    // --- suspend and resume -----------------------------------------------------------
    {"Suspend",
     [](World& w) {
       w.deploy();
       w.t.state = DesiredState::suspended;
     },
     {"SuspendGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "Suspending"}},
     true,
     [](const World& w, const Plan& p) {
       EXPECT_EQ(std::get<SuspendGroup>(p.actions[0]), (SuspendGroup{w.gid(), false}));
     }},
    {"SuspendWaitsForDeployment",
     [](World& w) {
       w.deploy();
       w.deployment("d1");
       w.t.state = DesiredState::suspended;
     },
     {}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "DeploymentInProgress"}},
     true},
    {"SuspendStuckForces",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(0, 5min);
       w.t.state = DesiredState::suspended;
     },
     {"CancelDeployment", "SuspendGroup"}, Phase::Waiting, Health::Progressing,
     {{kCondSynced, CS::False, "Suspending"}}, true,
     [](const World&, const Plan& p) { EXPECT_TRUE(std::get<SuspendGroup>(p.actions[1]).force); }},
    {"Resume",
     [](World& w) {
       w.deploy(0);
       w.prev(Phase::Suspended).observed_generation = 6;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing,
     {{kCondSynced, CS::False, "Resuming"}, {kCondDrift, CS::False, "NoDrift"}}, true,
     [](const World& w, const Plan& p) {
       const auto& body = std::get<UpdateGroup>(p.actions[0]).body;
       EXPECT_EQ(body, build_group_json(w.cfg, w.t, 1));
       EXPECT_EQ(body.find("\"instances\":0"), std::string::npos);
     }},
    {"ResumeWithoutPreviousStatus", [](World& w) { w.deploy(0); }, {"UpdateGroup"},
     Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "Resuming"}}, true},

    // --- drift --------------------------------------------------------------------------
    {"GroupDestroyedByHand", [](World& w) { w.prev(Phase::Running); }, {"CreateGroup"},
     Phase::Pending, Health::Missing,
     {{kCondSynced, CS::False, "GroupMissing"}, {kCondDrift, CS::True, "GroupMissing"}}, true},
    {"GroupDestroyedWhileSuspended",
     [](World& w) {
       w.t.state = DesiredState::suspended;
       w.prev(Phase::Suspended);
     },
     {"CreateGroup"}, Phase::Pending, Health::Missing, {{kCondDrift, CS::True, "GroupMissing"}}, true},
    {"ScaledToZeroByHand",
     [](World& w) {
       w.deploy(0);
       w.prev(Phase::Running);
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing,
     {{kCondSynced, CS::False, "AppsModified"}, {kCondDrift, CS::True, "AppsModified"}}, true},
    {"InstancesRaisedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps[0].instances = 3;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"CpusEditedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps.back().cpus = 7;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"MemEditedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps[0].mem = 1;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"DiskEditedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps[0].disk = 1;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"ImageEditedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps[0].image = "evil/image";
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"CmdEditedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps[0].cmd_digest = text_digest("heron-executor --debug");
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"SpecHashLabelEditedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps[0].labels[kLabelSpecHash] = "0000000000000000";
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"AppDeletedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps.pop_back();
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"ExtraAppAddedByHand",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       auto extra = w.group().apps[0];
       extra.id = w.gid() + "/debug";
       w.group().apps.push_back(extra);
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondDrift, CS::True, "AppsModified"}},
     true},
    {"DriftWaitsForDeployment",
     [](World& w) {
       w.deploy();
       w.prev(Phase::Running);
       w.group().apps[0].cpus = 7;
       w.deployment("hand");
     },
     {}, Phase::Deploying, Health::Progressing,
     {{kCondSynced, CS::False, "DeploymentInProgress"}, {kCondDrift, CS::True, "AppsModified"}}, true},
    {"ForeignGroupLeftAlone",
     [](World& w) {
       w.deploy();
       for (auto& a : w.group().apps) a.labels = {{"environment", "prod"}};
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSynced, CS::False, "GroupNotOwned"}}, false},
    {"GroupOfAnotherTopologyNotOurs",
     [](World& w) {
       w.deploy();
       for (auto& a : w.group().apps) a.labels[kLabelTopology] = "other";
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSynced, CS::False, "GroupNotOwned"}}, false},

    // --- kill ------------------------------------------------------------------------------
    {"KillSuspendsFirst",
     [](World& w) {
       w.deploy();
       w.t.state = DesiredState::killed;
     },
     {"SuspendGroup"}, Phase::Killing, Health::Progressing, {{kCondKilling, CS::True, "KillRequested"}},
     true, [](const World& w, const Plan& p) {
       EXPECT_EQ(std::get<SuspendGroup>(p.actions[0]), (SuspendGroup{w.gid(), false}));
     }},
    {"KillCancelsDeploymentsThenSuspends",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.deployment("d2");
       w.t.state = DesiredState::killed;
     },
     {"CancelDeployment", "CancelDeployment", "SuspendGroup"}, Phase::Killing, Health::Progressing,
     {{kCondKilling, CS::True, "KillRequested"}}, true,
     [](const World&, const Plan& p) { EXPECT_FALSE(std::get<SuspendGroup>(p.actions[2]).force); }},
    {"KillOfWaitingTopologyForcesSuspend",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(1, 20min);
       w.t.state = DesiredState::killed;
     },
     {"CancelDeployment", "SuspendGroup"}, Phase::Killing, Health::Progressing,
     {{kCondKilling, CS::True, "KillRequested"}}, true,
     [](const World&, const Plan& p) { EXPECT_TRUE(std::get<SuspendGroup>(p.actions[1]).force); }},
    {"KillForcesSuspendAfterTimeout",
     [](World& w) {
       w.deploy();
       w.t.state = DesiredState::killed;
       w.prev(Phase::Killing, {cond(kCondKilling, CS::True, "KillRequested", t0() - 3min)});
     },
     {"SuspendGroup"}, Phase::Killing, Health::Progressing, {{kCondKilling, CS::True, "KillRequested"}},
     true,
     [](const World&, const Plan& p) {
       EXPECT_TRUE(std::get<SuspendGroup>(p.actions[0]).force);
       EXPECT_EQ(find_condition(p.status.conditions, kCondKilling)->last_transition_time, t0() - 3min);
     }},
    {"KillWaitsForTasksToStop",
     [](World& w) {
       w.deploy(0);
       w.group().apps[0].tasks_running = 1;
       w.t.state = DesiredState::killed;
       w.prev(Phase::Killing, {cond(kCondKilling, CS::True, "KillRequested", t0() - 10s)});
     },
     {}, Phase::Killing, Health::Progressing, {{kCondKilling, CS::True, "KillRequested"}}, true},
    {"KillDeletesWithForceWhenTasksLinger",
     [](World& w) {
       w.deploy(0);
       w.group().apps[0].tasks_running = 1;
       w.t.state = DesiredState::killed;
       w.prev(Phase::Killing, {cond(kCondKilling, CS::True, "KillRequested", t0() - 5min)});
     },
     {"DeleteGroup"}, Phase::Killing, Health::Progressing, {}, true,
     [](const World&, const Plan& p) { EXPECT_TRUE(std::get<DeleteGroup>(p.actions[0]).force); }},
    {"KillWaitsForScaleDownDeployment",
     [](World& w) {
       w.deploy(0);
       w.deployment("scale-down");
       w.t.state = DesiredState::killed;
     },
     {}, Phase::Killing, Health::Progressing, {}, true},
    {"KillDeletesGroupWhenNothingRuns",
     [](World& w) {
       w.deploy(0);
       w.t.state = DesiredState::killed;
     },
     {"DeleteGroup"}, Phase::Killing, Health::Progressing, {}, true,
     [](const World& w, const Plan& p) {
       EXPECT_EQ(std::get<DeleteGroup>(p.actions[0]), (DeleteGroup{w.gid(), false}));
     }},
    {"KillDeletesEmptyGroup",
     [](World& w) {
       w.snap.groups[w.gid()] = ObservedGroup{w.gid(), "v", {}};
       w.t.state = DesiredState::killed;
     },
     {"DeleteGroup"}, Phase::Killing, Health::Progressing, {}, true},
    {"KillCleansHeronStateThenForgets",
     [](World& w) {
       w.t.state = DesiredState::killed;
       w.state({"topologies", "pplans", "tmanagers", "executionstate"});
     },
     {"DeleteHeronState", "ForgetTopology"}, Phase::Killing, Health::Progressing, {}, true,
     [](const World& w, const Plan& p) {
       const auto& d = std::get<DeleteHeronState>(p.actions[0]);
       ASSERT_EQ(d.paths.size(), 4u);
       EXPECT_EQ(d.paths.front(), "/heron/tmanagers/wc");
       EXPECT_EQ(d.paths.back(), "/heron/topologies/wc");
       EXPECT_EQ(std::get<ForgetTopology>(p.actions[1]), (ForgetTopology{"wc", w.version}));
     }},
    {"KillForgetsWhenNothingLeft", [](World& w) { w.t.state = DesiredState::killed; },
     {"ForgetTopology"}, Phase::Killing, Health::Progressing, {}, true},
    {"KillNeverTouchesForeignGroup",
     [](World& w) {
       w.deploy();
       for (auto& a : w.group().apps) a.labels.erase(kLabelManagedBy);
       w.t.state = DesiredState::killed;
       w.state({"topologies"});
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSynced, CS::False, "GroupNotOwned"}}, false},

    // --- orphans ------------------------------------------------------------------------------
    {"OrphanGroupReported",
     [](World& w) {
       w.deploy();
       w.has_desired = false;
     },
     {}, Phase::Failed, Health::Unknown, {{kCondOrphaned, CS::True, "NoDesiredNode"}}, false},
    {"OrphanGroupRemovedWhenConfigured",
     [](World& w) {
       w.deploy();
       w.has_desired = false;
       w.cfg.remove_orphan_groups = true;
     },
     {"SuspendGroup"}, Phase::Killing, Health::Progressing,
     {{kCondOrphaned, CS::True, "NoDesiredNode"}, {kCondKilling, CS::True, "OrphanRemoval"}}, true},
    {"OrphanGroupDeletedOnceStopped",
     [](World& w) {
       w.deploy(0);
       w.has_desired = false;
       w.cfg.remove_orphan_groups = true;
     },
     {"DeleteGroup"}, Phase::Killing, Health::Progressing, {}, true},
    {"ForeignGroupWithoutDesiredIgnored",
     [](World& w) {
       w.deploy();
       for (auto& a : w.group().apps) a.labels.clear();
       w.has_desired = false;
       w.cfg.remove_orphan_groups = true;
       w.state({"topologies"});
       w.heron_modified = t0() - 1h;
     },
     {"ForgetTopology"}, Phase::Failed, Health::Missing, {}, false},
    {"OrphanHeronStateCleanedAfterGrace",
     [](World& w) {
       w.has_desired = false;
       w.state({"topologies", "packingplans", "schedulers"});
       w.heron_modified = t0() - 6min;
     },
     {"DeleteHeronState", "ForgetTopology"}, Phase::Killing, Health::Missing,
     {{kCondOrphaned, CS::True, "OrphanHeronState"}}, false,
     [](const World&, const Plan& p) {
       EXPECT_EQ(std::get<ForgetTopology>(p.actions[1]).desired_version, -1);
     }},
    {"OrphanHeronStateWithinGrace",
     [](World& w) {
       w.has_desired = false;
       w.state({"topologies"});
       w.heron_modified = t0() - 1min;
     },
     {}, Phase::Failed, Health::Missing, {{kCondOrphaned, CS::True, "OrphanHeronState"}}, true,
     [](const World&, const Plan& p) { EXPECT_EQ(p.requeue_after, std::chrono::milliseconds(4min)); }},
    {"OrphanHeronStateUnknownAgeKept",
     [](World& w) {
       w.has_desired = false;
       w.state({"topologies"});
     },
     {}, Phase::Failed, Health::Missing, {{kCondOrphaned, CS::True, "OrphanHeronState"}}, true},
    {"OrphanHeronStateCleaningDisabled",
     [](World& w) {
       w.has_desired = false;
       w.cfg.clean_orphan_heron_state = false;
       w.state({"topologies"});
       w.heron_modified = t0() - 1h;
     },
     {}, Phase::Failed, Health::Missing, {{kCondOrphaned, CS::True, "OrphanHeronState"}}, false},
    {"NothingLeftForgetsStatus",
     [](World& w) {
       w.has_desired = false;
       w.prev(Phase::Killing);
     },
     {"ForgetTopology"}, Phase::Failed, Health::Missing, {}, false},
    {"NothingLeftNothingToDo", [](World& w) { w.has_desired = false; }, {}, Phase::Failed,
     Health::Missing, {}, false},

    // --- invalid desired nodes -------------------------------------------------------------
    {"InvalidJsonNoAction", [](World& w) { w.raw = "{\"name\": "; }, {}, Phase::Failed,
     Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false},
    {"InvalidFieldLeavesRunningGroupAlone",
     [](World& w) {
       w.deploy();
       auto j = to_json(w.t);
       j.replace(j.find("\"containers\""), 12, "\"containerz\"");
       w.raw = j;
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false,
     [](const World& w, const Plan& p) {
       EXPECT_NE(find_condition(p.status.conditions, kCondSpecValid)->message.find("/containerz"),
                 std::string::npos);
       EXPECT_EQ(p.status.total_containers, w.t.containers + 1);
     }},
    {"NegativeCpusRejected", [](World& w) { w.t.resources.cpus = -1; }, {}, Phase::Failed,
     Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false,
     [](const World&, const Plan& p) {
       EXPECT_NE(find_condition(p.status.conditions, kCondSpecValid)->message.find("/resources/cpus"),
                 std::string::npos);
     }},
    {"NameMustMatchNode",
     [](World& w) {
       auto t = w.t;
       t.name = "other";
       w.raw = to_json(t);
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false},
    {"NoImageAnywhere", [](World& w) { w.cfg.default_image.clear(); }, {}, Phase::Failed,
     Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false},
    {"KilledButInvalidDoesNothing",
     [](World& w) {
       w.deploy();
       w.t.state = DesiredState::killed;
       auto j = to_json(w.t);
       j.replace(j.find("\"killed\""), 8, "\"dead\"");
       w.raw = j;
     },
     {}, Phase::Failed, Health::Degraded, {{kCondSpecValid, CS::False, "InvalidSpec"}}, false},

    // --- waiting for offers --------------------------------------------------------------
    {"QueuedBelowThresholdIsNotWaiting",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(0, 10s);
     },
     {}, Phase::Deploying, Health::Progressing, {{kCondWaiting, CS::False, "NotWaiting"}}, true},
    {"WaitingUnschedulable",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(0, 2min);
       w.largest_offer(1, 2048);
     },
     {}, Phase::Waiting, Health::Progressing, {{kCondWaiting, CS::True, "Unschedulable"}}, true,
     [](const World& w, const Plan& p) {
       ASSERT_TRUE(p.status.waiting);
       EXPECT_EQ(p.status.waiting->kind, "Unschedulable");
       EXPECT_EQ(p.status.waiting->since, w.now - 2min);
       EXPECT_EQ(p.status.waiting->apps, std::vector<std::string>{w.app(0)});
       const auto& msg = find_condition(p.status.conditions, kCondWaiting)->message;
       EXPECT_NE(msg.find("InsufficientCpus: 37 of 40 offers"), std::string::npos) << msg;
     }},
    {"WaitingInsufficientCapacity",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(0, 2min);
       w.largest_offer(16, 65536);
     },
     {}, Phase::Waiting, Health::Progressing, {{kCondWaiting, CS::True, "InsufficientCapacity"}},
     true},
    {"WaitingPastDeadlineDegraded",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(0, 11min);
       w.largest_offer(16, 65536);
     },
     {}, Phase::Waiting, Health::Degraded, {{kCondWaiting, CS::True, "InsufficientCapacity"}}, true},
    {"WaitingPastDeadlineSuspendsOnStuck",
     [](World& w) {
       w.t.on_stuck = OnStuck::suspend;
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(0, 11min);
       w.largest_offer(1, 1024);
     },
     {"CancelDeployment", "SuspendGroup"}, Phase::Waiting, Health::Degraded,
     {{kCondSynced, CS::False, "SuspendedOnStuck"}, {kCondWaiting, CS::True, "Unschedulable"}}, true,
     [](const World&, const Plan& p) { EXPECT_TRUE(std::get<SuspendGroup>(p.actions[1]).force); }},
    {"StaysSuspendedAfterStuck",
     [](World& w) {
       w.t.on_stuck = OnStuck::suspend;
       w.deploy(0);
       w.prev(Phase::Waiting, {cond(kCondSynced, CS::False, "SuspendedOnStuck")});
     },
     {}, Phase::Suspended, Health::Degraded, {{kCondSynced, CS::False, "SuspendedOnStuck"}}, false},
    {"StuckSuspendRetriedWhenItFailed",
     [](World& w) {
       w.t.on_stuck = OnStuck::suspend;
       w.deploy(1, 0);
       w.prev(Phase::Waiting, {cond(kCondSynced, CS::False, "SuspendedOnStuck")});
     },
     {"SuspendGroup"}, Phase::Deploying, Health::Progressing,
     {{kCondSynced, CS::False, "SuspendedOnStuck"}}, true},
    {"NewGenerationRetriesAfterStuck",
     [](World& w) {
       w.t.on_stuck = OnStuck::suspend;
       w.deploy(0);
       w.prev(Phase::Suspended, {cond(kCondSynced, CS::False, "SuspendedOnStuck")})
           .observed_generation = 6;
     },
     {"UpdateGroup"}, Phase::Deploying, Health::Progressing, {{kCondSynced, CS::False, "Resuming"}},
     true},
    {"OnStuckWaitOnlyReports",
     [](World& w) {
       w.deploy(1, 0);
       w.deployment("d1");
       w.queued(0, 30min);
     },
     {}, Phase::Waiting, Health::Degraded, {{kCondWaiting, CS::True, "Unknown"}}, true},
};

class ReconcileTable : public ::testing::TestWithParam<std::tuple<std::size_t, int>> {};

TEST_P(ReconcileTable, Plan) {
  World w;
  w.t = default_topology(std::get<1>(GetParam()));
  expect_case(kCases[std::get<0>(GetParam())], w);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReconcileTable,
    ::testing::Combine(::testing::Range<std::size_t>(0, std::size(kCases)),
                       ::testing::Values(1, 2, 5, 20)),
    [](const ::testing::TestParamInfo<std::tuple<std::size_t, int>>& info) {
      return std::string(kCases[std::get<0>(info.param)].name) + "_" +
             std::to_string(std::get<1>(info.param)) + "containers";
    });

}  // namespace
}  // namespace hmc::reconciler::testing
