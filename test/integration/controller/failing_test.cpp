// Containers that start and die: a package that cannot be fetched shows as
// Failing with Mesos' message, fixing the spec clears it, a failing topology
// is killed without leftovers, and a restart of one container touches only
// that app (its task replaced, the others kept). Real ZooKeeper, real
// marathon-sim with task faults, the real controller binary.

#include "rig.hpp"

#include <gtest/gtest.h>

#include <fstream>

using namespace std::chrono_literals;
using hmc::reconciler::ConditionStatus;
using hmc::reconciler::Health;
using hmc::reconciler::kCondFailing;
using hmc::reconciler::Phase;
using hmc::testing::ControllerRig;
using hmc::testing::RigOptions;
using hmc::testing::wait_until;

namespace {

RigOptions fast_offers() {
  RigOptions o;
  o.sim_args = {"--offer-period", "100ms"};
  return o;
}

const hmc::reconciler::Condition* failing(const hmc::reconciler::TopologyStatus& s) {
  return hmc::reconciler::find_condition(s.conditions, kCondFailing);
}

bool is_failing(ControllerRig& rig, const std::string& name) {
  auto s = rig.status(name);
  auto* c = s ? failing(*s) : nullptr;
  return c && c->status == ConditionStatus::True;
}

std::string spec_with_package(ControllerRig& rig, const std::string& name, const std::string& package) {
  std::string spec = ControllerRig::spec_json(name, 2);
  const std::string from = "http://repo.example.org/topologies/" + name + ".tar.gz";
  spec.replace(spec.find(from), from.size(), package);
  const std::string path = rig.tmp() + "/" + name + "-" + std::to_string(std::hash<std::string>{}(package)) + ".json";
  std::ofstream(path) << spec;
  return path;
}

// Submits `name` with every container exiting (status 3) and waits until it
// is Failing; returns the Failing condition's message, "" if it never was.
std::string crash_until_failing(ControllerRig& rig, const std::string& name) {
  rig.sim().add_task_fault(R"({"kind":"exit","app":"/heron/topologies/)" + name + R"(/*","exitCode":3})");
  if (rig.cli({"submit", rig.spec_file(name)}).exit_code != 0) return {};
  if (!wait_until([&] { return is_failing(rig, name); }, 60s)) return {};
  auto st = rig.status(name);
  const auto* c = st ? failing(*st) : nullptr;
  return c ? c->message : std::string();
}

}  // namespace

TEST(Failing, UnfetchablePackageIsFailingWithTheFetchMessageAndAFixClearsIt) {
  ControllerRig rig(fast_offers());
  rig.sim().add_task_fault(R"({"kind":"fetch","fetchUri":"*/broken/*"})");
  const std::string bad = "http://repo.example.org/broken/wc.tar.gz";
  auto r = rig.cli({"submit", spec_with_package(rig, "wc", bad)});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  ASSERT_TRUE(wait_until([&] { return is_failing(rig, "wc"); }, 60s)) << rig.describe("wc");
  auto st = rig.status("wc");
  ASSERT_TRUE(st);
  const auto* c = failing(*st);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, "TasksFailing");
  EXPECT_NE(c->message.find("Failed to fetch '" + bad + "'"), std::string::npos) << c->message;
  EXPECT_EQ(st->health, Health::Degraded) << rig.describe("wc");
  EXPECT_NE(st->phase, Phase::Running) << rig.describe("wc");
  EXPECT_FALSE(st->failures.empty());

  // The operator's one line says it.
  auto line = rig.cli({"status", "wc"});
  EXPECT_EQ(line.exit_code, 0) << line.err;
  EXPECT_NE(line.out.find("Failing"), std::string::npos) << line.out;

  // A package that can be fetched: the new version runs and Failing clears.
  auto u = rig.cli({"update", spec_with_package(rig, "wc", "http://repo.example.org/good/wc.tar.gz")});
  ASSERT_EQ(u.exit_code, 0) << u.out << u.err;
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = rig.status("wc");
        return s && s->phase == Phase::Running && !is_failing(rig, "wc") && s->health == Health::Healthy;
      },
      60s))
      << rig.describe("wc");
}

TEST(Failing, KillOfAFailingTopologyLeavesNothingBehind) {
  ControllerRig rig(fast_offers());
  const std::string message = crash_until_failing(rig, "crash");
  ASSERT_FALSE(message.empty()) << rig.describe("crash");
  EXPECT_NE(message.find("exited with status 3"), std::string::npos) << message;
  EXPECT_NE(message.find("launch backoff"), std::string::npos) << message;

  auto k = rig.cli({"kill", "crash"});
  ASSERT_EQ(k.exit_code, 0) << k.out << k.err;
  ASSERT_TRUE(wait_until([&] { return !rig.desired_exists("crash") && !rig.status("crash"); }, 60s))
      << rig.describe("crash");
  EXPECT_FALSE(rig.group("crash").has_value());
  EXPECT_EQ(rig.heron_state_count("crash"), 0);
}

TEST(Failing, RestartOfOneContainerRestartsOnlyItsApp) {
  ControllerRig rig(fast_offers());
  ASSERT_EQ(rig.cli({"submit", rig.spec_file("wc")}).exit_code, 0);
  ASSERT_TRUE(rig.wait_phase("wc", Phase::Running, 60s)) << rig.describe("wc");
  const auto tasks0 = rig.sim().task_ids("/heron/topologies/wc/0");
  const auto tasks1 = rig.sim().task_ids("/heron/topologies/wc/1");
  const auto tasks2 = rig.sim().task_ids("/heron/topologies/wc/2");
  ASSERT_EQ(tasks0.size(), 1u);
  ASSERT_EQ(tasks1.size(), 1u);
  ASSERT_EQ(tasks2.size(), 1u);

  auto r = rig.cli({"restart", "wc", "--container", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = rig.status("wc");
        return s && s->restarted.containers.count(1) && s->restarted.containers.at(1) >= 1;
      },
      60s))
      << rig.describe("wc");
  EXPECT_EQ(rig.requests("POST", "/v2/apps/heron/topologies/wc/1/restart"), 1);
  EXPECT_EQ(rig.requests("POST", "/v2/apps/heron/topologies/wc/0/restart"), 0);
  EXPECT_EQ(rig.requests("POST", "/v2/apps/heron/topologies/wc/2/restart"), 0);
  ASSERT_TRUE(rig.wait_phase("wc", Phase::Running, 60s)) << rig.describe("wc");
  // In Marathon: container 1 runs a new task, the others keep theirs.
  std::vector<std::string> now1;
  EXPECT_TRUE(wait_until(
      [&] {
        now1 = rig.sim().task_ids("/heron/topologies/wc/1");
        return now1.size() == 1 && now1 != tasks1;
      },
      60s))
      << "container 1's tasks: " << (now1.empty() ? "none" : now1.front()) << ", before " << tasks1.front();
  EXPECT_EQ(rig.sim().task_ids("/heron/topologies/wc/0"), tasks0);
  EXPECT_EQ(rig.sim().task_ids("/heron/topologies/wc/2"), tasks2);
  ASSERT_TRUE(rig.wait_phase("wc", Phase::Running, 60s)) << rig.describe("wc");

  // A container that does not exist is refused and nothing changes.
  auto bad = rig.cli({"restart", "wc", "--container", "7"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE((bad.out + bad.err).find("7"), std::string::npos) << bad.out << bad.err;
}

TEST(Failing, FailureWindowFlagSetsTheWindow) {
  RigOptions o = fast_offers();
  o.controller_args = {"--failure-window", "90s"};
  ControllerRig rig(o);
  const std::string message = crash_until_failing(rig, "crash");
  ASSERT_FALSE(message.empty()) << rig.describe("crash");
  EXPECT_NE(message.find(" in the last 90s: "), std::string::npos) << message;

  // A value that is no duration, or no window at all, stops the start.
  for (const auto& [value, expected] : std::vector<std::pair<std::string, std::string>>{
           {"soon", "--failure-window: 'soon' is not a duration"},
           {"0s", "--failure-window: must be greater than 0"}}) {
    auto r = hmc::testing::run_command({std::string(HMC_BINARY_DIR) + "/controller/heron-marathon-controller", "--zk",
                                        rig.zookeeper().connect_string(), "--marathon", rig.sim().url(),
                                        "--metrics-address", "", "--health-address", "", "--failure-window", value},
                                       {}, 60s);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  }
}
