// Heron's own state end to end: a desired node with a topologyDefn makes the
// real controller write topologies/, packingplans/ and executionstate/ in the
// real ZooKeeper before the group, each node read back with the real
// `protoc --decode` against adapters/heron_state/proto; the marathon-sim
// group is sized from the packing plan; kill removes the nodes and a
// resubmit writes them again; a refused definition writes nothing. The CLI
// binary submits a package made with `tar czf` and kills the topology again.
// A node changed by hand is drift and written back.

#include "rig.hpp"

#include "hmc/common/base64.hpp"
#include "hmc/heron_state/heron_state.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <variant>

using namespace std::chrono_literals;
using hmc::reconciler::Phase;
using hmc::testing::ControllerRig;
using hmc::testing::wait_until;
namespace json = boost::json;
namespace rc = hmc::reconciler;

namespace {

const std::string kProtoDir = HMC_HERON_PROTO_DIR;

// `protoc <mode>=<message> -I <proto dir> <file>`, with `input` on stdin.
std::string protoc(const std::string& mode, const std::string& message, const std::string& file,
                   const std::string& input) {
  auto r = hmc::testing::run_command({"protoc", mode + "=" + message, "-I", kProtoDir, file}, input, 30s);
  EXPECT_EQ(r.exit_code, 0) << "protoc " << mode << " " << message << ": " << r.out << r.err;
  return r.out;
}

// protoc's text format as (dotted field path, value) pairs, in order:
// `container_plans { id: 1 }` gives ("container_plans.id", "1").
using TextFields = std::vector<std::pair<std::string, std::string>>;
TextFields text_fields(const std::string& text) {
  TextFields out;
  std::vector<std::string> scope;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    line.erase(0, line.find_first_not_of(' '));
    if (line.empty()) continue;
    if (line == "}") {
      scope.pop_back();
      continue;
    }
    std::string prefix;
    for (auto& s : scope) prefix += s + ".";
    if (line.back() == '{') {
      scope.push_back(line.substr(0, line.find(' ')));
      continue;
    }
    const auto colon = line.find(": ");
    std::string value = line.substr(colon + 2);
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
    out.emplace_back(prefix + line.substr(0, colon), value);
  }
  return out;
}

std::vector<std::string> values(const TextFields& f, const std::string& path) {
  std::vector<std::string> out;
  for (auto& [p, v] : f)
    if (p == path) out.push_back(v);
  return out;
}

// The word-count test vector, with a serialized spout object (which the
// controller must leave out of topologies/<name>, as Heron does) and
// `topology.stmgrs` replaced.
std::string word_count_defn(const std::string& name = "word-count", int stmgrs = 2) {
  std::string text = hmc::testing::read_file(std::string(HMC_SOURCE_DIR) + "/test/vectors/heron_state/word-count.topology.txt");
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  replace("name: \"sentence\"", "name: \"sentence\"\n    serialized_object: \"JAVA-OBJECT-BYTES\"");
  replace("value: \"2\"", "value: \"" + std::to_string(stmgrs) + "\"");
  replace("id: \"word-count-1f2e\"\nname: \"word-count\"", "id: \"" + name + "-1f2e\"\nname: \"" + name + "\"");
  return protoc("--encode", "heron.proto.api.Topology", "topology.proto", text);
}

// The rig's spec without containers or resources: the packing plan sizes them.
json::object spec_without_sizes(const std::string& name) {
  json::object o = json::parse(ControllerRig::spec_json(name)).as_object();
  o.erase("containers");
  o.erase("resources");
  return o;
}

// A desired node with the definition and no containers or resources.
std::string desired_json(const std::string& name, const std::string& defn, const std::string& user = "alice",
                         std::optional<int> containers = std::nullopt) {
  json::object o = spec_without_sizes(name);
  if (containers) o["containers"] = *containers;
  o["topologyDefn"] = hmc::base64_encode(defn);
  o["submissionUser"] = user;
  return json::serialize(o);
}

void submit(ControllerRig& rig, const std::string& name, const std::string& body) {
  ASSERT_TRUE(rig.zk().ensure_path("/heron-marathon/topologies"));
  auto r = rig.zk().create("/heron-marathon/topologies/" + name, body);
  ASSERT_TRUE(r) << r.error().message;
}

std::optional<std::string> node(ControllerRig& rig, const std::string& path) {
  auto n = rig.zk().get(path);
  if (!n) return std::nullopt;
  return n->data;
}

bool heron_nodes_written(ControllerRig& rig, const std::string& name) {
  for (const char* dir : {"topologies", "packingplans", "executionstate"})
    if (!node(rig, "/heron/" + std::string(dir) + "/" + name)) return false;
  return true;
}

// The plan Heron's RoundRobinPacking makes of the definition.
rc::PackedPlan expected_plan(const std::string& defn) {
  auto t = hmc::heron_state::decode_topology(defn);
  EXPECT_TRUE(std::holds_alternative<hmc::heron_state::HeronTopology>(t));
  auto p = rc::round_robin_pack(hmc::heron_state::packing_input(std::get<hmc::heron_state::HeronTopology>(t)));
  EXPECT_TRUE(std::holds_alternative<rc::PackedPlan>(p));
  return std::get<rc::PackedPlan>(p);
}

void expect_packing_plan(ControllerRig& rig, const std::string& name, const rc::PackedPlan& want) {
  auto bytes = node(rig, "/heron/packingplans/" + name);
  ASSERT_TRUE(bytes);
  const auto f = text_fields(protoc("--decode", "heron.proto.system.PackingPlan", "packing_plan.proto", *bytes));
  EXPECT_EQ(values(f, "id"), std::vector<std::string>{want.id});
  std::vector<std::string> ids, cpus, rams, disks, components, tasks, indexes;
  for (const auto& c : want.containers) {
    ids.push_back(std::to_string(c.id));
    rams.push_back(std::to_string(c.required.ram));
    disks.push_back(std::to_string(c.required.disk));
    cpus.push_back(std::to_string(c.required.cpu));
    for (const auto& i : c.instances) {
      components.push_back(i.component);
      tasks.push_back(std::to_string(i.task_id));
      indexes.push_back(std::to_string(i.component_index));
    }
  }
  EXPECT_EQ(values(f, "container_plans.id"), ids);
  EXPECT_EQ(values(f, "container_plans.requiredResource.ram"), rams);
  EXPECT_EQ(values(f, "container_plans.requiredResource.disk"), disks);
  const auto got_cpus = values(f, "container_plans.requiredResource.cpu");
  ASSERT_EQ(got_cpus.size(), cpus.size());
  for (std::size_t i = 0; i < cpus.size(); ++i) EXPECT_DOUBLE_EQ(std::stod(got_cpus[i]), std::stod(cpus[i]));
  EXPECT_EQ(values(f, "container_plans.instance_plans.component_name"), components);
  EXPECT_EQ(values(f, "container_plans.instance_plans.task_id"), tasks);
  EXPECT_EQ(values(f, "container_plans.instance_plans.component_index"), indexes);
  EXPECT_EQ(values(f, "container_plans.instance_plans.resource.ram").size(), components.size());
}

// Every app of the group is sized as the plan's largest container (MB rounded up).
void expect_apps_match_plan(ControllerRig& rig, const std::string& name, const rc::PackedPlan& plan) {
  auto g = rig.group(name);
  ASSERT_TRUE(g);
  const auto largest = plan.largest();
  const json::value v = json::parse(*g);
  const auto& apps = v.at("apps").as_array();
  ASSERT_EQ(apps.size(), plan.containers.size() + 1) << "the TManager's container 0 and one per planned container";
  for (const auto& a : apps) {
    EXPECT_DOUBLE_EQ(a.at("cpus").to_number<double>(), largest.cpu);
    EXPECT_DOUBLE_EQ(a.at("mem").to_number<double>(), std::ceil(largest.ram / (1024.0 * 1024)));
    EXPECT_DOUBLE_EQ(a.at("disk").to_number<double>(), std::ceil(largest.disk / (1024.0 * 1024)));
    EXPECT_NE(std::string(a.at("cmd").as_string()).find("--topology-id=" + plan.id), std::string::npos);
  }
}

void expect_execution_state(ControllerRig& rig, const std::string& name, const std::string& user) {
  auto bytes = node(rig, "/heron/executionstate/" + name);
  ASSERT_TRUE(bytes);
  const auto f =
      text_fields(protoc("--decode", "heron.proto.system.ExecutionState", "execution_state.proto", *bytes));
  auto desired = rig.zk().get("/heron-marathon/topologies/" + name);
  ASSERT_TRUE(desired);
  using V = std::vector<std::string>;
  EXPECT_EQ(values(f, "topology_name"), V{name});
  EXPECT_EQ(values(f, "topology_id"), V{name + "-1f2e"});
  EXPECT_EQ(values(f, "submission_time"), V{std::to_string(desired->stat.ctime_ms / 1000)});
  EXPECT_EQ(values(f, "submission_user"), V{user});
  EXPECT_EQ(values(f, "cluster"), V{"local"});
  EXPECT_EQ(values(f, "environ"), V{"test"});
  EXPECT_EQ(values(f, "role"), V{"tester"});
  EXPECT_EQ(values(f, "release_state.release_username"), V{"heron-marathon-controller"});
  EXPECT_EQ(values(f, "release_state.release_tag"), V{""});
  EXPECT_EQ(values(f, "release_state.release_version"), V{HMC_VERSION});
}

// A topology package as `heron submit` leaves it: `tar czf` of the jar, the
// `<name>.defn` and heron-conf/ at the top level.
std::string topology_package(ControllerRig& rig, const std::string& name, const std::string& defn) {
  const std::string dir = rig.tmp() + "/" + name + ".pkg";
  EXPECT_EQ(hmc::testing::run_command({"mkdir", "-p", dir + "/heron-conf"}).exit_code, 0);
  hmc::testing::write_file(dir + "/" + name + ".jar", "PK\x03\x04 not really a jar");
  hmc::testing::write_file(dir + "/" + name + ".defn", defn);
  hmc::testing::write_file(dir + "/heron-conf/scheduler.yaml", "heron.scheduler.is.service: False\n");
  const std::string pkg = rig.tmp() + "/" + name + ".tar.gz";
  auto r = hmc::testing::run_command(
      {"tar", "czf", pkg, "-C", dir, name + ".jar", name + ".defn", "heron-conf/scheduler.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return pkg;
}

const rc::Condition* spec_valid(ControllerRig& rig, const std::string& name) {
  static thread_local std::optional<rc::TopologyStatus> s;
  s = rig.status(name);
  return s ? rc::find_condition(s->conditions, rc::kCondSpecValid) : nullptr;
}

}  // namespace

TEST(HeronState, WrittenBeforeTheGroupWhichIsSizedFromThePackingPlan) {
  ControllerRig rig;
  const std::string defn = word_count_defn();
  submit(rig, "word-count", desired_json("word-count", defn));
  ASSERT_TRUE(rig.wait_phase("word-count", Phase::Running)) << rig.describe("word-count");

  // topologies/<name>: the definition, its serialized objects left out.
  auto topo = node(rig, "/heron/topologies/word-count");
  ASSERT_TRUE(topo);
  const auto t = text_fields(protoc("--decode", "heron.proto.api.Topology", "topology.proto", *topo));
  using V = std::vector<std::string>;
  EXPECT_EQ(values(t, "id"), V{"word-count-1f2e"});
  EXPECT_EQ(values(t, "name"), V{"word-count"});
  EXPECT_EQ(values(t, "state"), V{"RUNNING"});
  EXPECT_EQ(values(t, "spouts.comp.name"), V{"sentence"});
  EXPECT_EQ(values(t, "bolts.comp.name"), V{"count"});
  EXPECT_EQ(values(t, "spouts.comp.class_name"), V{"org.apache.heron.examples.api.spout.RandomSentenceSpout"});
  EXPECT_TRUE(values(t, "spouts.comp.serialized_object").empty());
  EXPECT_EQ(values(t, "bolts.inputs.gtype"), V{"SHUFFLE"});
  EXPECT_EQ(values(t, "topology_config.kvs.key"), V{"topology.stmgrs"});
  EXPECT_EQ(values(t, "topology_config.kvs.value"), V{"2"});
  EXPECT_NE(defn.find("JAVA-OBJECT-BYTES"), std::string::npos);

  const auto plan = expected_plan(defn);
  ASSERT_EQ(plan.containers.size(), 2u);
  expect_packing_plan(rig, "word-count", plan);
  expect_execution_state(rig, "word-count", "alice");
  expect_apps_match_plan(rig, "word-count", plan);

  // The nodes went in before the group was created.
  const std::string log = rig.controller_log();
  const auto write = log.find("WriteHeronState");
  const auto create = log.find("CreateGroup");
  ASSERT_NE(write, std::string::npos) << log;
  ASSERT_NE(create, std::string::npos) << log;
  EXPECT_LT(write, create);
  auto s = rig.status("word-count");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->total_containers, 3);
}

// The user's way: `heron-marathon submit --topology-package` of a package
// made with tar, the controller running. The definition reaches Heron's
// nodes, the group runs one app per planned container plus the TManager's,
// and `heron-marathon kill` removes the apps and Heron's nodes.
TEST(HeronState, CliSubmitOfAPackageRunsAndCliKillRemovesEverything) {
  ControllerRig rig;
  const std::string name = "packaged";
  const std::string defn = word_count_defn(name);
  const std::string pkg = topology_package(rig, name, defn);
  const std::string spec = rig.tmp() + "/" + name + ".json";
  hmc::testing::write_file(spec, json::serialize(spec_without_sizes(name)));

  auto r = rig.cli({"submit", spec, "--topology-package", pkg, "--wait", "--timeout", "60s"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << rig.describe(name);
  EXPECT_NE(r.out.find("topology definition " + name + ".defn in " + pkg + ": '" + name + "' (id " + name +
                       "-1f2e), 2 components, 7 instances, 2 containers"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(name + ": Running 3/3 containers"), std::string::npos) << r.out;

  const auto plan = expected_plan(defn);
  ASSERT_EQ(plan.containers.size(), 2u);
  ASSERT_TRUE(rig.wait_phase(name, Phase::Running)) << rig.describe(name);
  EXPECT_EQ(rig.running_tasks(name), 3);
  expect_apps_match_plan(rig, name, plan);

  auto desired = rig.zk().get("/heron-marathon/topologies/" + name);
  ASSERT_TRUE(desired);
  const auto d = json::parse(desired->data).as_object();
  EXPECT_EQ(hmc::base64_decode(d.at("topologyDefn").as_string()), defn) << "the package's .defn, unchanged";
  EXPECT_FALSE(d.contains("containers"));
  EXPECT_FALSE(d.contains("resources"));
  const std::string user(d.at("submissionUser").as_string());
  EXPECT_FALSE(user.empty()) << "the submitting user";

  auto topo = node(rig, "/heron/topologies/" + name);
  ASSERT_TRUE(topo);
  const auto t = text_fields(protoc("--decode", "heron.proto.api.Topology", "topology.proto", *topo));
  using V = std::vector<std::string>;
  EXPECT_EQ(values(t, "id"), V{name + "-1f2e"});
  EXPECT_EQ(values(t, "name"), V{name});
  EXPECT_EQ(values(t, "spouts.comp.name"), V{"sentence"});
  EXPECT_EQ(values(t, "bolts.comp.name"), V{"count"});
  EXPECT_TRUE(values(t, "spouts.comp.serialized_object").empty());
  expect_packing_plan(rig, name, plan);
  expect_execution_state(rig, name, user);

  auto k = rig.cli({"kill", name, "--wait", "--timeout", "60s"});
  ASSERT_EQ(k.exit_code, 0) << k.out << k.err << rig.describe(name);
  EXPECT_FALSE(rig.desired_exists(name));
  ASSERT_TRUE(wait_until([&] { return !rig.group(name).has_value(); }, 30s)) << rig.describe(name);
  EXPECT_EQ(rig.app_count(name), -1);
  for (const char* dir : {"topologies", "packingplans", "executionstate"})
    EXPECT_FALSE(node(rig, "/heron/" + std::string(dir) + "/" + name)) << dir;
  EXPECT_EQ(rig.heron_state_count(name), 0);
}

TEST(HeronState, KillRemovesItAndAResubmitWritesItAgain) {
  ControllerRig rig;
  const std::string defn = word_count_defn("resub");
  submit(rig, "resub", desired_json("resub", defn, "alice"));
  ASSERT_TRUE(rig.wait_phase("resub", Phase::Running)) << rig.describe("resub");
  ASSERT_TRUE(heron_nodes_written(rig, "resub"));

  auto k = rig.cli({"kill", "resub"});
  ASSERT_EQ(k.exit_code, 0) << k.out << k.err;
  ASSERT_TRUE(wait_until([&] { return !rig.desired_exists("resub"); }, 40s)) << rig.describe("resub");
  EXPECT_FALSE(rig.group("resub").has_value());
  EXPECT_EQ(rig.heron_state_count("resub"), 0);

  // A later second makes a later submission time.
  std::this_thread::sleep_for(1100ms);
  submit(rig, "resub", desired_json("resub", defn, "bob"));
  ASSERT_TRUE(rig.wait_phase("resub", Phase::Running)) << rig.describe("resub");
  ASSERT_TRUE(heron_nodes_written(rig, "resub"));
  expect_execution_state(rig, "resub", "bob");
  const auto plan = expected_plan(defn);
  expect_packing_plan(rig, "resub", plan);
  expect_apps_match_plan(rig, "resub", plan);
  EXPECT_EQ(rig.requests("POST", "/v2/groups"), 2);
}

TEST(HeronState, NewDefinitionRewritesThePlanAndRollsTheGroup) {
  ControllerRig rig;
  submit(rig, "grow", desired_json("grow", word_count_defn("grow", 2)));
  ASSERT_TRUE(rig.wait_phase("grow", Phase::Running)) << rig.describe("grow");
  const std::string bigger = word_count_defn("grow", 3);
  auto r = rig.zk().set("/heron-marathon/topologies/grow", desired_json("grow", bigger));
  ASSERT_TRUE(r) << r.error().message;
  const auto plan = expected_plan(bigger);
  ASSERT_EQ(plan.containers.size(), 3u);
  ASSERT_TRUE(wait_until([&] { return rig.app_count("grow") == 4 && rig.running_tasks("grow") == 4; }, 40s))
      << rig.describe("grow");
  ASSERT_TRUE(rig.wait_phase("grow", Phase::Running, 30s, 1)) << rig.describe("grow");
  expect_packing_plan(rig, "grow", plan);
  expect_apps_match_plan(rig, "grow", plan);
}

// A node of Heron's changed by hand while the topology runs is drift, as apps
// edited by hand are: written back, counted in drift_repairs_total, and
// DriftDetected goes True and back to False.
TEST(HeronState, NodeChangedByHandIsDriftAndWrittenBack) {
  ControllerRig rig;
  const std::string name = "handmade";
  submit(rig, name, desired_json(name, word_count_defn(name)));
  ASSERT_TRUE(rig.wait_phase(name, Phase::Running)) << rig.describe(name);
  const std::string path = "/heron/packingplans/" + name;
  const auto written = node(rig, path);
  ASSERT_TRUE(written);
  auto drift_repairs = [&] {
    const std::string text = hmc::testing::http_request(rig.metrics_port(), "GET", "/metrics").body;
    const std::string metric = "\nheron_marathon_drift_repairs_total ";
    const auto at = text.find(metric);
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + metric.size()));
  };
  EXPECT_EQ(drift_repairs(), 0);
  const auto before = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());

  auto r = rig.zk().set(path, "changed by hand");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(wait_until([&] { return node(rig, path) == written; }, 30s)) << rig.describe(name);
  ASSERT_TRUE(wait_until([&] { return drift_repairs() == 1; }, 30s)) << rig.describe(name);
  expect_packing_plan(rig, name, expected_plan(word_count_defn(name)));

  // Written back: in sync again, no drift left, the transition after the edit.
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = rig.status(name);
        if (!s) return false;
        const auto* d = rc::find_condition(s->conditions, rc::kCondDrift);
        const auto* synced = rc::find_condition(s->conditions, rc::kCondSynced);
        return d && d->status == rc::ConditionStatus::False && d->reason == "NoDrift" &&
               d->last_transition_time >= before && synced && synced->reason == "InSync";
      },
      30s))
      << rig.describe(name);
  EXPECT_EQ(rig.requests("PUT", "/v2/groups/heron/topologies/" + name), 0) << "the group was as wanted";
  EXPECT_EQ(drift_repairs(), 1);
}

TEST(HeronState, CorruptDefinitionIsRefusedAndNothingIsWritten) {
  ControllerRig rig;
  submit(rig, "corrupt", desired_json("corrupt", "\xff\xff\xff not a topology"));
  submit(rig, "fine", desired_json("fine", word_count_defn("fine")));
  ASSERT_TRUE(rig.wait_phase("corrupt", Phase::Failed)) << rig.describe("corrupt");
  const auto* c = spec_valid(rig, "corrupt");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, rc::ConditionStatus::False);
  EXPECT_EQ(c->reason, "InvalidSpec");
  EXPECT_EQ(c->message, "/topologyDefn: not a serialized heron.proto.api.Topology");
  // The other topology of the same controller runs, with its state.
  ASSERT_TRUE(rig.wait_phase("fine", Phase::Running)) << rig.describe("fine");
  EXPECT_TRUE(heron_nodes_written(rig, "fine"));
  EXPECT_EQ(rig.heron_state_count("corrupt"), 0);
  EXPECT_FALSE(rig.group("corrupt").has_value());
  EXPECT_EQ(rig.requests("POST", "/v2/groups"), 1);
  EXPECT_EQ(rig.requests("PUT", "/v2/groups/heron/topologies/corrupt"), 0);
}

TEST(HeronState, ContainersOverrideThatDisagreesWithThePlanIsRefused) {
  ControllerRig rig;
  submit(rig, "override", desired_json("override", word_count_defn("override", 2), "alice", 3));
  ASSERT_TRUE(rig.wait_phase("override", Phase::Failed)) << rig.describe("override");
  const auto* c = spec_valid(rig, "override");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, rc::ConditionStatus::False);
  for (const char* part : {"/containers", "is 3", "has 2 containers", "topology.stmgrs"})
    EXPECT_NE(c->message.find(part), std::string::npos) << part << " not in: " << c->message;
  EXPECT_EQ(rig.heron_state_count("override"), 0);
  EXPECT_FALSE(rig.group("override").has_value());
  // Fixed: the override now agrees with the plan.
  auto r = rig.zk().set("/heron-marathon/topologies/override",
                        desired_json("override", word_count_defn("override", 2), "alice", 2));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(rig.wait_phase("override", Phase::Running, 30s, 1)) << rig.describe("override");
  EXPECT_TRUE(heron_nodes_written(rig, "override"));
}

// With credentials the controller's ACL covers Heron's nodes too: granting
// `world:anyone:r` lets Heron's unauthenticated processes read them, and
// nobody but the controller may change them.
TEST(HeronState, NodesCarryTheControllersAcl) {
  hmc::testing::RigOptions o;
  o.start_controller = false;
  ControllerRig rig(o);
  constexpr const char* kController = "ctl:controller-secret";
  const std::string auth = rig.tmp() + "/controller.auth";
  hmc::testing::write_file(auth, std::string(kController) + "\n");
  // Written before the controller makes its root: this client has no credentials.
  submit(rig, "guarded", desired_json("guarded", word_count_defn("guarded")));
  rig.start_controller({"--zk-auth-file", auth, "--zk-acl", "world:anyone:r"});
  ASSERT_TRUE(wait_until([&] { return heron_nodes_written(rig, "guarded"); }, 30s)) << rig.controller_log();
  expect_packing_plan(rig, "guarded", expected_plan(word_count_defn("guarded")));
  auto w = rig.zk().set("/heron/packingplans/guarded", "changed");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().kind, hmc::ErrorKind::unauthorized) << w.error().message;
  auto c = rig.zk().create("/heron/packingplans/other", "x");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, hmc::ErrorKind::unauthorized) << c.error().message;
}
