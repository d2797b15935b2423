// heron-marathon, the real binary, against a real ZooKeeper server (no
// controller): every command and exit code, status written by the test itself,
// hostile input, concurrent writers.

#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/status.hpp"
#include "hmc/testing/process.hpp"
#include "hmc/testing/zookeeper_server.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>

namespace {

using hmc::testing::CommandResult;
using hmc::testing::run_command;
using hmc::testing::TempDir;
using hmc::testing::write_file;
namespace rc = hmc::reconciler;
using namespace std::chrono_literals;

const std::string kBinary = HMC_BINARY_DIR "/cli/heron-marathon";
const std::string kExampleYaml = HMC_SOURCE_DIR "/conf/examples/word-count.yaml";
const std::string kExampleJson = HMC_SOURCE_DIR "/conf/examples/word-count.json";

const char* kSpec = R"(name: word-count
cluster: local
role: heron
containers: 2
resources: {cpus: 1, mem: 1024, disk: 2048}
image: "heron/heron:0.20.5-incubating"
package: "file:///opt/heron/topologies/word-count.tar.gz"
)";

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& server = hmc::testing::shared_zookeeper();
    connect_ = server.connect_string();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::string("/cli-") + info->name();
    hmc::zk::ZkOptions o;
    o.connect = connect_;
    o.connect_timeout = 20s;
    auto c = hmc::zk::connect(o);
    ASSERT_TRUE(c) << c.error().message;
    zk_ = std::move(*c);
    ASSERT_TRUE(zk_->remove_recursive(root_));
  }

  // The binary with the test's ZooKeeper and root.
  CommandResult cli(std::vector<std::string> args, const std::string& stdin_data = {},
                    std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), kBinary);
    args.insert(args.end(), {"--zk", connect_, "--root", root_, "--zk-timeout", "10s"});
    return run(std::move(args), stdin_data, std::move(env));
  }
  // The binary with exactly these arguments (no connection flags added).
  CommandResult run(std::vector<std::string> args, const std::string& stdin_data = {},
                    std::map<std::string, std::string> env = {}) {
    if (args.empty() || args.front() != kBinary) args.insert(args.begin(), kBinary);
    env.emplace("HERON_MARATHON_ZK", "");
    env.emplace("HERON_MARATHON_CONFIG", "");
    env.emplace("HERON_MARATHON_ROOT", "");
    env.emplace("HERON_MARATHON_ZK_AUTH_FILE", "");
    env.emplace("HERON_MARATHON_ZK_ACL", "");
    return run_command(args, stdin_data, 60s, env);
  }

  std::string spec_file(const std::string& text, const std::string& file = "spec.yaml") {
    const std::string path = dir_.path() + "/" + file;
    write_file(path, text);
    return path;
  }
  std::string desired_path(const std::string& name = "word-count") const { return root_ + "/topologies/" + name; }
  std::string status_path(const std::string& name = "word-count") const { return root_ + "/status/" + name; }

  std::optional<hmc::zk::Node> desired(const std::string& name = "word-count") {
    auto n = zk_->get(desired_path(name));
    if (!n) return std::nullopt;
    return *n;
  }
  rc::DesiredTopology desired_spec(const std::string& name = "word-count") {
    auto n = desired(name);
    EXPECT_TRUE(n.has_value());
    auto t = rc::parse_desired(n ? n->data : "");
    EXPECT_TRUE(t) << (t ? "" : t.error().to_string());
    return t ? *t : rc::DesiredTopology{};
  }

  void write_status(rc::Phase phase, std::int64_t generation, int running, int total,
                    const std::string& name = "word-count", const std::string& last_error = {}) {
    rc::TopologyStatus s;
    s.name = name;
    s.observed_generation = generation;
    s.phase = phase;
    s.health = phase == rc::Phase::Running ? rc::Health::Healthy : rc::Health::Progressing;
    s.running_containers = running;
    s.total_containers = total;
    s.group_id = "/heron/topologies/" + name;
    for (int i = 0; i < total; ++i)
      s.apps.push_back({s.group_id + "/" + std::to_string(i), 1, i < running ? 1 : 0, 0});
    s.last_error = last_error;
    s.conditions.push_back({rc::kCondSynced, phase == rc::Phase::Failed ? rc::ConditionStatus::False
                                                                        : rc::ConditionStatus::True,
                            phase == rc::Phase::Failed ? "DeploymentFailed" : "Synced", last_error,
                            std::chrono::system_clock::now()});
    s.updated_at = std::chrono::system_clock::now();
    ASSERT_TRUE(zk_->ensure_path(root_ + "/status"));
    const auto data = rc::to_json(s);
    auto r = zk_->set(status_path(name), data);
    if (!r && r.error().kind == hmc::ErrorKind::not_found) {
      ASSERT_TRUE(zk_->create(status_path(name), data));
    }
  }

  // Runs the binary in the background (for --wait).
  std::future<CommandResult> cli_async(std::vector<std::string> args) {
    return std::async(std::launch::async, [this, args] { return cli(args); });
  }

  bool wait_for_desired_version(std::int32_t version, const std::string& name = "word-count") {
    return hmc::testing::wait_until([&] {
      auto n = desired(name);
      return n && n->stat.version == version;
    }, 20s);
  }

  TempDir dir_;
  std::string connect_;
  std::string root_;
  std::unique_ptr<hmc::zk::ZkClient> zk_;
};

// --- submit -------------------------------------------------------------------

TEST_F(CliTest, SubmitWritesTheValidatedSpecAsVersionZero) {
  auto r = cli({"submit", kExampleYaml});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "topology 'word-count' submitted")) << r.out;
  auto n = desired();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->stat.version, 0);
  auto t = desired_spec();
  EXPECT_EQ(t.name, "word-count");
  EXPECT_EQ(t.cluster, "local");
  EXPECT_EQ(t.containers, 2);
  EXPECT_EQ(t.resources.cpus, 1.0);
  EXPECT_EQ(t.resources.mem, 1024.0);
  EXPECT_EQ(t.resources.disk, 2048.0);
  EXPECT_EQ(t.image, "heron/heron:0.20.5-incubating");
  EXPECT_EQ(t.state, rc::DesiredState::running);
  EXPECT_EQ(n->data, rc::to_json(t));  // canonical form
}

TEST_F(CliTest, YamlAndJsonSpecsWriteTheSameNode) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  const auto from_yaml = desired()->data;
  ASSERT_TRUE(zk_->remove(desired_path()));
  auto r = cli({"submit", kExampleJson});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(desired()->data, from_yaml);
}

TEST_F(CliTest, SubmitReadsStdin) {
  auto r = cli({"submit", "-"}, kSpec);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(desired_spec().containers, 2);
}

TEST_F(CliTest, QuotedYamlNumbersStayStrings) {
  // cpus: "2" is a string, and the schema wants a number: both formats follow one schema.
  auto r = cli({"submit", spec_file(std::string(kSpec) + "environ: \"007\"\n")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(desired_spec().environ, "007");
  r = cli({"diff", spec_file("name: x\ncluster: local\nrole: r\npackage: http://h/p.tgz\ncontainers: \"2\"\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "/containers")) << r.err;
}

TEST_F(CliTest, SubmitOfAnExistingTopologyIsRefused) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  auto r = cli({"submit", kExampleYaml});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "topology 'word-count' already exists")) << r.err;
  EXPECT_TRUE(contains(r.err, "use update")) << r.err;
  EXPECT_EQ(desired()->stat.version, 0);
}

TEST_F(CliTest, SubmitReplacesATopologyThatIsBeingKilled) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  ASSERT_EQ(cli({"kill", "word-count"}).exit_code, 0);
  auto r = cli({"submit", kExampleYaml});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(desired_spec().state, rc::DesiredState::running);
  EXPECT_EQ(desired()->stat.version, 2);
}

TEST_F(CliTest, DryRunWritesNothing) {
  auto r = cli({"submit", kExampleYaml, "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "would be created")) << r.out;
  EXPECT_FALSE(desired());

  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  r = cli({"update", spec_file(std::string(kSpec) + "containers: 3\n" ), "--dry-run"});
  // duplicate key: refused before anything else
  EXPECT_EQ(r.exit_code, 2);
  std::string three = kSpec;
  three.replace(three.find("containers: 2"), 13, "containers: 3");
  r = cli({"update", spec_file(three), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "-  \"containers\": 2,")) << r.out;
  EXPECT_TRUE(contains(r.out, "+  \"containers\": 3,")) << r.out;
  for (const char* cmd : {"kill", "suspend"}) {
    r = cli({cmd, "word-count", "--dry-run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "dry run")) << r.out;
  }
  EXPECT_EQ(desired()->stat.version, 0);
  EXPECT_EQ(desired_spec().state, rc::DesiredState::running);
}

// --- update -------------------------------------------------------------------

TEST_F(CliTest, UpdateWritesANewVersion) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  std::string three = kSpec;
  three.replace(three.find("containers: 2"), 13, "containers: 3");
  auto r = cli({"update", spec_file(three)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "updated (version 0 -> 1)")) << r.out;
  EXPECT_EQ(desired_spec().containers, 3);
  r = cli({"update", spec_file(three)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "unchanged (version 1)")) << r.out;
  EXPECT_EQ(desired()->stat.version, 1);
}

TEST_F(CliTest, UpdateOfAMissingTopologyFails) {
  auto r = cli({"update", kExampleYaml});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "does not exist; use submit")) << r.err;
}

TEST_F(CliTest, UpdateKeepsTheTopologyIdWhenTheSpecHasNone) {
  ASSERT_EQ(cli({"submit", spec_file(std::string(kSpec) + "topologyId: word-count-abc123\n")}).exit_code, 0);
  std::string three = kSpec;
  three.replace(three.find("containers: 2"), 13, "containers: 3");
  ASSERT_EQ(cli({"update", spec_file(three)}).exit_code, 0);
  EXPECT_EQ(desired_spec().topology_id, "word-count-abc123");
  EXPECT_EQ(cli({"diff", spec_file(three)}).exit_code, 0);
}

TEST_F(CliTest, UpdateWithAStaleVersionIsRefused) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  ASSERT_EQ(cli({"suspend", "word-count"}).exit_code, 0);  // version 1
  auto r = cli({"update", kExampleYaml, "--expect-version", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "the spec of 'word-count' changed since it was read (version 0, now 1); re-run update"))
      << r.err;
  EXPECT_EQ(desired_spec().state, rc::DesiredState::suspended);
}

TEST_F(CliTest, ConcurrentUpdatesOfOneVersionExactlyOneWins) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  for (int round = 0; round < 3; ++round) {
    std::string three = kSpec, four = kSpec;  // both differ from what is written
    three.replace(three.find("containers: 2"), 13, "containers: " + std::to_string(3 + 2 * round));
    four.replace(four.find("containers: 2"), 13, "containers: " + std::to_string(4 + 2 * round));
    const auto f3 = spec_file(three, "three.yaml"), f4 = spec_file(four, "four.yaml");
    const std::string v = std::to_string(desired()->stat.version);
    auto a = cli_async({"update", f3, "--expect-version", v});
    auto b = cli_async({"update", f4, "--expect-version", v});
    const auto ra = a.get(), rb = b.get();
    ASSERT_EQ((ra.exit_code == 0) + (rb.exit_code == 0), 1) << ra.out << ra.err << rb.out << rb.err;
    const auto& loser = ra.exit_code == 0 ? rb : ra;
    EXPECT_EQ(loser.exit_code, 1);
    EXPECT_TRUE(contains(loser.err, "changed since it was read (version " + v + ", now ")) << loser.err;
    EXPECT_EQ(desired_spec().containers, (ra.exit_code == 0 ? 3 : 4) + 2 * round);
  }
}

TEST_F(CliTest, ConcurrentStateFlipsAllLand) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  std::vector<std::future<CommandResult>> runs;
  for (int i = 0; i < 4; ++i) runs.push_back(cli_async({"suspend", "word-count"}));
  for (auto& f : runs) {
    auto r = f.get();
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(desired_spec().state, rc::DesiredState::suspended);
  EXPECT_EQ(desired()->stat.version, 1);  // exactly one write; the others saw it
}

// --- kill, suspend, resume ------------------------------------------------------

TEST_F(CliTest, SuspendResumeKillFlipTheState) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  auto r = cli({"suspend", "word-count"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "suspended (version 0 -> 1)")) << r.out;
  EXPECT_EQ(desired_spec().state, rc::DesiredState::suspended);
  r = cli({"suspend", "word-count"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "already suspended")) << r.out;
  ASSERT_EQ(cli({"resume", "word-count"}).exit_code, 0);
  EXPECT_EQ(desired_spec().state, rc::DesiredState::running);
  r = cli({"kill", "word-count"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "kill requested")) << r.out;
  EXPECT_EQ(desired_spec().state, rc::DesiredState::killed);
  r = cli({"resume", "word-count"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "being killed")) << r.err;
}

TEST_F(CliTest, StateFlipsOfAMissingTopologyFail) {
  for (const char* cmd : {"kill", "suspend", "resume"}) {
    auto r = cli({cmd, "nothing-here"});
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_TRUE(contains(r.err, "topology 'nothing-here' not found")) << r.err;
  }
}

TEST_F(CliTest, KillOfAnInvalidDesiredNodeStillWorks) {
  ASSERT_TRUE(zk_->ensure_path(root_ + "/topologies"));
  ASSERT_TRUE(zk_->create(desired_path("broken"), R"({"name":"broken","containers":-1})"));
  auto r = cli({"suspend", "broken"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "fix it with update")) << r.err;
  r = cli({"kill", "broken"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(desired("broken")->data, R"("state":"killed")"));
}

// --- --wait -----------------------------------------------------------------------

TEST_F(CliTest, SubmitWaitFollowsProgressUntilRunning) {
  auto run = cli_async({"submit", kExampleYaml, "--wait", "--timeout", "30s"});
  ASSERT_TRUE(wait_for_desired_version(0));
  write_status(rc::Phase::Deploying, 0, 1, 3);
  std::this_thread::sleep_for(600ms);  // let the CLI see the intermediate state
  write_status(rc::Phase::Running, 0, 3, 3);
  auto r = run.get();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "word-count: Running 3/3 containers")) << r.out;
}

TEST_F(CliTest, WaitPrintsEachChange) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  write_status(rc::Phase::Running, 0, 3, 3);
  auto run = cli_async({"suspend", "word-count", "--wait", "--timeout", "30s"});
  ASSERT_TRUE(wait_for_desired_version(1));
  write_status(rc::Phase::Deploying, 1, 2, 3);
  std::this_thread::sleep_for(700ms);  // let the CLI see the intermediate state
  write_status(rc::Phase::Suspended, 1, 0, 3);
  auto r = run.get();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "word-count: Suspended 0/3 containers")) << r.out;
  EXPECT_FALSE(contains(r.out, "Running 3/3")) << "a status of the old version is not progress: " << r.out;
}

TEST_F(CliTest, WaitIgnoresAStatusWrittenBeforeTheChange) {
  // A left-over status of an earlier incarnation (same name, generation 0, Running).
  write_status(rc::Phase::Running, 0, 3, 3);
  auto r = cli({"submit", kExampleYaml, "--wait", "--timeout", "1500ms"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "timed out after 1s500ms waiting for 'word-count' to be Running")) << r.err;
}

TEST_F(CliTest, WaitReportsAFailure) {
  auto run = cli_async({"submit", kExampleYaml, "--wait", "--timeout", "30s"});
  ASSERT_TRUE(wait_for_desired_version(0));
  write_status(rc::Phase::Failed, 0, 0, 3, "word-count", "Marathon refused the group: HTTP 422");
  auto r = run.get();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "failed: Marathon refused the group: HTTP 422")) << r.err;
  EXPECT_TRUE(contains(r.err, "Synced=False DeploymentFailed")) << r.err;
}

TEST_F(CliTest, WaitTimesOut) {
  auto r = cli({"submit", kExampleYaml, "--wait", "--timeout", "1s"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "timed out after 1s")) << r.err;
  EXPECT_TRUE(desired());  // the write stays
}

TEST_F(CliTest, KillWaitReturnsWhenTheDesiredNodeIsGone) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  auto run = cli_async({"kill", "word-count", "--wait", "--timeout", "30s"});
  ASSERT_TRUE(wait_for_desired_version(1));
  write_status(rc::Phase::Killing, 1, 1, 3);
  ASSERT_TRUE(zk_->remove(desired_path()));  // what the controller does when done
  auto r = run.get();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "word-count: killed")) << r.out;
}

// --- status, list, describe -----------------------------------------------------

TEST_F(CliTest, StatusShowsATable) {
  auto r = cli({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "no topologies")) << r.err;
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  r = cli({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "NAME")) << r.out;
  EXPECT_TRUE(contains(r.out, "not acted")) << r.out;
  write_status(rc::Phase::Running, 0, 3, 3);
  r = cli({"status", "word-count"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "word-count")) << r.out;
  EXPECT_TRUE(contains(r.out, "Running")) << r.out;
  EXPECT_TRUE(contains(r.out, "Healthy")) << r.out;
  EXPECT_TRUE(contains(r.out, "3/3")) << r.out;
}

TEST_F(CliTest, StatusOutputJsonAndYamlAreComplete) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  write_status(rc::Phase::Running, 0, 3, 3);
  auto r = cli({"status", "word-count", "--output", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "\"observedGeneration\": 0")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"groupId\": \"/heron/topologies/word-count\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"package\": \"file:///opt/heron/topologies/word-count.tar.gz\"")) << r.out;
  r = cli({"status", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "phase: Running")) << r.out;
  EXPECT_TRUE(contains(r.out, "- name: word-count")) << r.out;
  r = cli({"status", "-o", "xml"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, StatusOfAMissingTopologyFails) {
  auto r = cli({"status", "nothing-here"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "topology 'nothing-here' not found")) << r.err;
  r = cli({"describe", "nothing-here"});
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(CliTest, ListShowsEveryTopology) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  std::string other = kSpec;
  other.replace(other.find("word-count"), 10, "top-words");
  ASSERT_EQ(cli({"submit", spec_file(other)}).exit_code, 0);
  ASSERT_EQ(cli({"suspend", "top-words"}).exit_code, 0);
  auto r = cli({"list", "-o", "name"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "top-words\nword-count\n");
  r = cli({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "suspended")) << r.out;
  r = cli({"list", "-o", "json"});
  EXPECT_TRUE(contains(r.out, "\"version\": 1")) << r.out;
}

TEST_F(CliTest, DescribeShowsSpecStatusConditionsAndMarathonIds) {
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  write_status(rc::Phase::Failed, 0, 1, 3, "word-count", "deployment failed: no offers");
  auto r = cli({"describe", "word-count"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"Phase:          Failed", "/heron/topologies/word-count/0", "Synced", "DeploymentFailed",
                        "deployment failed: no offers", "package: file:///opt/heron/topologies/word-count.tar.gz"})
    EXPECT_TRUE(contains(r.out, s)) << s << "\n" << r.out;
}

// --- diff -------------------------------------------------------------------------

TEST_F(CliTest, DiffExitCodes) {
  auto r = cli({"diff", kExampleYaml});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // nothing runs: everything is new
  EXPECT_TRUE(contains(r.out, "+  \"name\": \"word-count\",")) << r.out;
  ASSERT_EQ(cli({"submit", kExampleYaml}).exit_code, 0);
  r = cli({"diff", kExampleJson});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  std::string mem = kSpec;
  mem.replace(mem.find("mem: 1024"), 9, "mem: 4096");
  r = cli({"diff", spec_file(mem)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.out, "-    \"mem\": 1024,")) << r.out;
  EXPECT_TRUE(contains(r.out, "+    \"mem\": 4096,")) << r.out;
  EXPECT_TRUE(contains(r.out, "--- " + desired_path() + " (version 0)")) << r.out;
  r = cli({"diff", spec_file("name: word-count\n")});
  EXPECT_EQ(r.exit_code, 2);
}

// --- exit codes: usage and connection --------------------------------------------

TEST_F(CliTest, UsageErrorsExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"frobnicate"}, {"submit"}, {"kill", "a", "b"}, {"status", "--bogus"}, {"list", "--wait"},
           {"submit", kExampleYaml, "--timeout", "soon", "--wait"}, {"submit", kExampleYaml, "--timeout", "5s"},
           {"update", kExampleYaml, "--expect-version", "x"}, {"submit", kExampleYaml, "--zk-timeout", "0s"}}) {
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 2) << args.front() << " " << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  auto r = run({"status"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "no ZooKeeper given")) << r.err;
  r = run({"status", "--zk", "nohostport"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--zk 'nohostport'")) << r.err;
  r = cli({"status", "--root", "relative"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, UnreachableZooKeeperExitsThree) {
  const std::string dead = "127.0.0.1:" + std::to_string(hmc::testing::free_port());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"submit", kExampleYaml}, {"update", kExampleYaml}, {"kill", "word-count"}, {"suspend", "word-count"},
           {"resume", "word-count"}, {"status"}, {"list"}, {"describe", "word-count"}, {"diff", kExampleYaml}}) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--zk", dead, "--zk-timeout", "2s"});
    auto r = run(a);
    EXPECT_EQ(r.exit_code, 3) << args.front() << " " << r.err;
    EXPECT_TRUE(contains(r.err, "cannot reach ZooKeeper at " + dead)) << r.err;
    EXPECT_FALSE(contains(r.err, "ZOO_ERROR")) << "library noise: " << r.err;
  }
}

TEST_F(CliTest, EnvironmentSuppliesTheConnection) {
  auto r = run({"submit", kExampleYaml}, {}, {{"HERON_MARATHON_ZK", connect_}, {"HERON_MARATHON_ROOT", root_}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(desired());
}

TEST_F(CliTest, ConfigDirSuppliesTheConnection) {
  write_file(dir_.path() + "/scheduler.yaml", "heron.marathon.scheduler.uri: http://127.0.0.1:8080\n");
  write_file(dir_.path() + "/statemgr.yaml", "heron.statemgr.connection.string: " + connect_ + "\n");
  auto r = run({"submit", kExampleYaml, "--config", dir_.path(), "--root", root_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(desired());
  r = run({"list", "--config", dir_.path() + "/missing", "--root", root_});
  EXPECT_EQ(r.exit_code, 2) << r.err;

  // A tunnel is only used for endpoints that cannot be reached directly.
  const std::string dead = "127.0.0.1:" + std::to_string(hmc::testing::free_port());
  const std::string tunnel = "heron.statemgr.is.tunnel.needed: true\nheron.statemgr.tunnel.host: \"nobody@" + dead + "\"\n";
  write_file(dir_.path() + "/statemgr.yaml", "heron.statemgr.connection.string: " + connect_ + "\n" + tunnel);
  r = run({"list", "-o", "name", "--config", dir_.path(), "--root", root_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "word-count\n");
  write_file(dir_.path() + "/statemgr.yaml", "heron.statemgr.connection.string: " + dead + "\n" + tunnel);
  r = run({"list", "--config", dir_.path(), "--root", root_});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(contains(r.err, "the tunnel failed")) << r.err;
}

TEST_F(CliTest, DigestCredentialsComeFromAFile) {
  const auto good = spec_file("alice:secret\n", "alice.auth");
  const auto bad = spec_file("mallory:guess\n", "mallory.auth");
  auto r = cli({"submit", kExampleYaml, "--zk-auth-file", good});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"status", "word-count", "--zk-auth-file", good});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = cli({"kill", "word-count", "--zk-auth-file", bad});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(contains(r.err, "not authorised")) << r.err;
  EXPECT_FALSE(contains(r.err + r.out, "guess"));
  r = cli({"status", "--zk-auth-file", spec_file("no-colon\n", "x.auth")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(contains(r.err, "no-colon")) << "credentials are never echoed";
}

TEST_F(CliTest, DesiredNodesWrittenWithCredentialsAreHiddenFromEveryoneElse) {
  const auto alice = spec_file("alice:secret\n", "alice.auth");
  ASSERT_EQ(cli({"submit", kExampleYaml, "--zk-auth-file", alice}).exit_code, 0);
  // The test's own client has no credentials: it can neither read nor change
  // the desired node, nor list or add topologies.
  auto read = zk_->get(desired_path());
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().kind, hmc::ErrorKind::unauthorized);
  EXPECT_EQ(zk_->set(desired_path(), "{}").error().kind, hmc::ErrorKind::unauthorized);
  EXPECT_EQ(zk_->children(root_ + "/topologies").error().kind, hmc::ErrorKind::unauthorized);
  EXPECT_EQ(zk_->create(root_ + "/topologies/other", "{}").error().kind, hmc::ErrorKind::unauthorized);
  // The CLI without credentials, or with another user's: exit 3, a clear message.
  for (const auto& who : std::vector<std::vector<std::string>>{
           {}, {"--zk-auth-file", spec_file("alice:guess\n", "guess.auth")}}) {
    std::vector<std::string> args{"status", "word-count"};
    args.insert(args.end(), who.begin(), who.end());
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_TRUE(contains(r.err, "not authorised")) << r.err;
    EXPECT_FALSE(contains(r.err, "guess")) << "credentials are never echoed";
  }
  // Alice still can.
  auto r = cli({"suspend", "word-count", "--zk-auth-file", alice});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliTest, AnAclListLetsTheControllersIdentityWorkOnTheDesiredNodes) {
  // The CLI runs as alice and grants the controller's user "ctl" access.
  const auto alice = spec_file("alice:secret\n", "alice.auth");
  const std::string ctl_id = hmc::zk::digest_id("ctl:ctl-pass");
  const std::string alice_id = hmc::zk::digest_id("alice:secret");
  auto r = cli({"submit", kExampleYaml, "--zk-auth-file", alice, "--zk-acl", "digest:" + ctl_id + ":rwcda"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  hmc::zk::ZkOptions o;
  o.connect = connect_;
  o.connect_timeout = 20s;
  o.digest = "ctl:ctl-pass";
  o.acl = {{"digest", alice_id, hmc::zk::acl_all}};  // the controller grants alice in turn
  auto ctl = hmc::zk::connect(o);
  ASSERT_TRUE(ctl) << ctl.error().message;
  auto& controller = **ctl;
  auto node = controller.get(desired_path());
  ASSERT_TRUE(node) << node.error().message;
  EXPECT_TRUE(rc::parse_desired(node->data));
  // What the controller writes: its status folder and a status node...
  rc::TopologyStatus s;
  s.name = "word-count";
  s.phase = rc::Phase::Running;
  s.health = rc::Health::Healthy;
  s.group_id = "/heron/topologies/word-count";
  s.updated_at = std::chrono::system_clock::now();
  ASSERT_TRUE(controller.ensure_path(root_ + "/status"));
  ASSERT_TRUE(controller.create(status_path(), rc::to_json(s)));
  // ...which alice's CLI reads, and nobody else.
  r = cli({"status", "word-count", "-o", "json", "--zk-auth-file", alice});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Running")) << r.out;
  EXPECT_EQ(zk_->get(status_path()).error().kind, hmc::ErrorKind::unauthorized);
  r = cli({"status", "word-count", "--zk-auth-file", spec_file("mallory:pw\n", "mallory.auth")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // The controller removes the desired node once a kill is done.
  ASSERT_EQ(cli({"kill", "word-count", "--zk-auth-file", alice}).exit_code, 0);
  ASSERT_TRUE(controller.remove(desired_path()));
  EXPECT_EQ(cli({"list", "-o", "name", "--zk-auth-file", alice}).out, "");
}

TEST_F(CliTest, BadAclListsAreUsageErrors) {
  const auto alice = spec_file("alice:secret\n", "alice.auth");
  auto r = cli({"submit", kExampleYaml, "--zk-auth-file", alice, "--zk-acl", "digest:ctl:plain-password:rwcda"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "base64")) << r.err;
  r = cli({"submit", kExampleYaml, "--zk-acl", "world:anyone:r"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "needs --zk-auth-file")) << r.err;
  r = cli({"submit", kExampleYaml, "--zk-auth-file", alice}, {}, {{"HERON_MARATHON_ZK_ACL", "world:anyone:rx"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "'x' is not a permission")) << r.err;
  EXPECT_FALSE(desired());
}

// --- hostile input ------------------------------------------------------------------

TEST_F(CliTest, HostileSpecsAreRefusedWithAClearMessage) {
  std::mt19937 rng(42);
  std::string binary(4096, '\0');
  for (auto& c : binary) c = static_cast<char>(rng());
  std::string deep(5000, '[');
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c)
    bomb += std::string(1, c) + ": &" + c + " [*" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) +
            ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
            static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + "]\n";
  struct Case {
    std::string name, text, expect;
  };
  const std::vector<Case> cases = {
      {"huge", std::string(kSpec) + "# " + std::string(2 * 1024 * 1024, 'x') + "\n", "larger than 1 MiB"},
      {"binary", binary, "binary data"},
      {"nul", std::string(kSpec) + std::string(1, '\0'), "binary data"},
      {"latin1", std::string(kSpec) + "role: caf\xe9\n", "binary data"},
      {"empty", "   \n", "empty"},
      {"slash-name", "name: a/b\ncluster: c\nrole: r\npackage: http://h/p.tgz\n", "/name"},
      {"dotdot-name", "name: ..\ncluster: c\nrole: r\npackage: http://h/p.tgz\n", "/name"},
      {"upper-name", "name: WordCount\ncluster: c\nrole: r\npackage: http://h/p.tgz\n", "/name"},
      {"unknown-field", std::string(kSpec) + "replicas: 3\n", "/replicas"},
      {"negative-cpus", "name: x\ncluster: c\nrole: r\npackage: http://h/p.tgz\nresources: {cpus: -1}\n",
       "/resources/cpus"},
      {"zero-mem", "name: x\ncluster: c\nrole: r\npackage: http://h/p.tgz\nresources: {mem: 0}\n",
       "/resources/mem"},
      {"bad-uri", "name: x\ncluster: c\nrole: r\npackage: not a uri\n", "/package"},
      {"deep", deep, ""},
      {"alias-bomb", bomb, ""},
      {"two-docs", std::string(kSpec) + "---\n" + kSpec, "2 YAML documents"},
      {"duplicate-key", std::string(kSpec) + "name: other\n", "duplicate key 'name'"},
      {"not-a-map", "- a\n- b\n", "mapping"},
      {"bad-yaml", "name: [unclosed\n", "not valid YAML"},
      {"json-array", "[1, 2]", "must be a JSON object"},
  };
  for (const auto& c : cases) {
    auto r = cli({"submit", spec_file(c.text, c.name + ".yaml")});
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.out << r.err;
    EXPECT_TRUE(contains(r.err, c.name + ".yaml")) << c.name << ": " << r.err;
    EXPECT_TRUE(contains(r.err, c.expect)) << c.name << ": " << r.err;
    EXPECT_LT(r.err.size(), 4096u) << c.name;
  }
  auto r = cli({"submit", "/dev/zero"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = cli({"submit", dir_.path() + "/does-not-exist.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "cannot read")) << r.err;
  auto children = zk_->children(root_ + "/topologies");
  EXPECT_TRUE(!children || children->empty()) << "nothing is written for invalid specs";
}

TEST_F(CliTest, GarbageNodesWrittenByHandAreShownNotFatal) {
  ASSERT_TRUE(zk_->ensure_path(root_ + "/topologies"));
  ASSERT_TRUE(zk_->ensure_path(root_ + "/status"));
  const std::string garbage("\x00\xff{{not json\x1b[2J", 16);
  ASSERT_TRUE(zk_->create(desired_path(), garbage));
  ASSERT_TRUE(zk_->create(status_path(), garbage));
  auto r = cli({"list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "invalid")) << r.out;
  EXPECT_EQ(cli({"status"}).exit_code, 0);
  EXPECT_EQ(cli({"status", "-o", "json"}).exit_code, 0);
  r = cli({"describe", "word-count"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "<not JSON: 16 bytes>")) << r.out;
  EXPECT_FALSE(contains(r.out, "\x1b[2J")) << "raw node bytes are not sent to the terminal";
  r = cli({"update", kExampleYaml, "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cli({"suspend", "word-count"}).exit_code, 1);
  EXPECT_EQ(cli({"update", kExampleYaml}).exit_code, 0);  // a valid spec replaces it
  EXPECT_EQ(desired_spec().name, "word-count");
}

TEST_F(CliTest, HostileNamesAreRefused) {
  for (const std::string& name : std::vector<std::string>{"../x", "a/b", "..", ".", "/etc", "UPPER", "", "x\ny",
                                                         std::string(300, 'a')}) {
    for (const char* cmd : {"kill", "suspend", "resume", "status", "describe"}) {
      auto r = cli({cmd, name});
      EXPECT_EQ(r.exit_code, 2) << cmd << " '" << name << "': " << r.err;
      EXPECT_TRUE(contains(r.err, "is not a topology name")) << r.err;
    }
  }
}

// --- help ---------------------------------------------------------------------------

TEST_F(CliTest, EveryCommandHasHelpWithExamples) {
  auto r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "Exit codes")) << r.out;
  for (const char* cmd : {"submit", "update", "kill", "suspend", "resume", "status", "list", "describe", "diff"}) {
    r = run({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_TRUE(contains(r.out, "Examples:")) << cmd << r.out;
    EXPECT_TRUE(contains(r.out, std::string("heron-marathon ") + cmd)) << r.out;
    EXPECT_EQ(run({"help", cmd}).out, r.out);
  }
  r = run({});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
