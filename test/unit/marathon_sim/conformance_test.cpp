// Marathon's published API examples (test/vectors/marathon-api/examples) as test
// vectors: every request body is accepted or rejected as Marathon would, and
// every response example's field names and JSON types match what the
// simulator answers in the same situation.
#include "sim_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace hmc::marathon_sim::testing {
namespace {

namespace json = boost::json;

std::string example(const std::string& name) {
  const std::string path = std::string(HMC_MARATHON_API_DIR) + "/examples/" + name;
  std::ifstream f(path);
  if (!f) throw std::runtime_error("missing API example " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "?";
}

// Compares shapes: every field of `expected` must exist in `actual` with the
// same JSON type (null in the example matches anything), recursively; arrays
// compare their first elements. Fields listed in `absent_ok` (by path) may be
// missing: legacy fields Marathon no longer writes or features not simulated.
void compare_shape(const json::value& expected, const json::value& actual, const std::string& path,
                   const std::set<std::string>& absent_ok, std::vector<std::string>& problems) {
  if (expected.is_null()) return;
  if (std::string(kind(expected)) != kind(actual)) {
    problems.push_back(path + ": example has " + kind(expected) + ", simulator has " + kind(actual));
    return;
  }
  if (expected.is_object()) {
    for (const auto& kv : expected.get_object()) {
      const auto p = path + "/" + std::string(kv.key());
      auto it = actual.get_object().find(kv.key());
      if (it == actual.get_object().end()) {
        // null in the example: Marathon leaves the field out or writes null.
        if (!absent_ok.count(p) && !kv.value().is_null()) problems.push_back(p + ": missing in the simulator's answer");
        continue;
      }
      compare_shape(kv.value(), it->value(), p, absent_ok, problems);
    }
  } else if (expected.is_array()) {
    if (!expected.get_array().empty() && !actual.get_array().empty())
      compare_shape(expected.get_array()[0], actual.get_array()[0], path + "[]", absent_ok, problems);
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// ---------- request bodies ----------

TEST(Conformance, AppCheckHttpExampleIsAccepted) {
  SimDriver d;
  auto r = d.call("POST", "/v2/apps", example("app-check-http-example.json"));
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST(Conformance, AppExampleIsRejectedForCmdWithArgsAndSecrets) {
  // app.json sets both cmd and args, and uses secrets, which Marathon only
  // accepts with --enable_features secrets: Marathon answers 422.
  SimDriver d;
  auto r = d.call("POST", "/v2/apps", example("app.json"));
  ASSERT_EQ(r.status, 422) << r.body;
  auto paths = detail_paths(r.body);
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/"), paths.end()) << r.body;
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/secrets"), paths.end()) << r.body;
}

TEST(Conformance, AppExampleWithoutArgsAndSecretsIsAccepted) {
  SimDriver d;
  auto v = json::parse(example("app.json")).as_object();
  v.erase("args");
  v.erase("secrets");
  v.at("env").as_object().erase("PASSWORD");
  auto r = d.call("POST", "/v2/apps", json::serialize(v));
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST(Conformance, AppPatchExamples) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/foo","cmd":"sleep 1"})").status, 201);
  d.tick(2);  // the deployment that created it is done: no lock
  auto r = d.call("PUT", "/v2/apps/foo", example("app_patch.json"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(d.sim.apps().at("/foo").spec.instances, 2);
  // As a new app it lacks cmd, args and container.
  auto c = d.call("POST", "/v2/apps", R"({"id":"/other","instances":2})");
  EXPECT_EQ(c.status, 422);
}

TEST(Conformance, AppsCreateExampleIsABulkPutNotAPost) {
  SimDriver d;
  auto post = d.call("POST", "/v2/apps", example("apps_create.json"));
  ASSERT_EQ(post.status, 422) << post.body;
  EXPECT_NE(post.body.find("error.expected.jsobject"), std::string::npos);
  auto put = d.call("PUT", "/v2/apps", example("apps_create.json"));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(d.sim.apps().count("/test/sleep60"), 1u);
  EXPECT_EQ(d.sim.apps().count("/test/sleep120"), 1u);
  auto patch = d.call("PUT", "/v2/apps", example("apps_patch.json"));
  ASSERT_EQ(patch.status, 200) << patch.body;
  EXPECT_DOUBLE_EQ(d.sim.apps().at("/test/sleep60").spec.cpus, 0.3);
  EXPECT_EQ(d.sim.apps().at("/test/sleep60").spec.definition.at("cmd").as_string(), "sleep 60");
}

TEST(Conformance, GroupExampleAsPostConflictsWithTheRoot) {
  SimDriver d;
  auto r = d.call("POST", "/v2/groups", example("group.json"));
  EXPECT_EQ(r.status, 409) << r.body;
}

TEST(Conformance, GroupExampleAsPutRejectsVersionWithOtherProperties) {
  SimDriver d;
  auto r = d.call("PUT", "/v2/groups", example("group.json"));
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(detail_paths(r.body), std::vector<std::string>{"/version"});
}

TEST(Conformance, GroupExampleWithoutVersionIsAccepted) {
  SimDriver d;
  auto v = json::parse(example("group.json")).as_object();
  v.erase("version");
  auto r = d.call("PUT", "/v2/groups", json::serialize(v));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(d.sim.apps().count("/tools/docker/registry"), 1u);
  EXPECT_EQ(d.sim.apps().at("/tools/datadog-agent").spec.instances, 5);
}

TEST(Conformance, SleepGroupExampleIsAccepted) {
  SimDriver d;
  auto r = d.call("POST", "/v2/groups", example("sleep-group.json"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(d.sim.apps().count("/sleep-group/sleep/goodnight-2"), 1u);
}

TEST(Conformance, PodExampleIsAnsweredAsNotSimulated) {
  // Pods are a documented gap (docs/marathon-sim.md): the simulator says so
  // instead of pretending to run them.
  SimDriver d;
  auto r = d.call("POST", "/v2/pods", example("pod.json"));
  EXPECT_EQ(r.status, 501);
  EXPECT_NE(r.body.find("not simulated"), std::string::npos);
}

// ---------- response shapes ----------

// Fields of the examples that the simulator does not write, each for a reason:
// legacy fields of Marathon < 1.5 (ports, uris, docker.network are accepted and
// echoed when sent, but not invented) and features not simulated.
const std::set<std::string> kAppAbsentOk = {"/ports", "/uris", "/user", "/args", "/acceptedResourceRoles",
                                            "/container", "/ipAddress", "/readinessChecks", "/secrets", "/tty",
                                            "/residency", "/storeUrls"};

std::set<std::string> prefixed(const std::string& prefix, const std::set<std::string>& s) {
  std::set<std::string> out;
  for (const auto& x : s) out.insert(prefix + x);
  return out;
}

TEST(Conformance, AppResponseShapeMatchesAppExample) {
  SimDriver d;
  auto v = json::parse(example("app.json")).as_object();
  v.erase("args");
  v.erase("secrets");
  v.at("env").as_object().erase("PASSWORD");
  ASSERT_EQ(d.call("POST", "/v2/apps", json::serialize(v)).status, 201);
  auto app = d.json("GET", "/v2/apps/foo").at("app");
  std::vector<std::string> problems;
  auto expected = json::parse(example("app.json"));
  expected.as_object().erase("secrets");
  expected.as_object().erase("args");
  expected.as_object().at("env").as_object().erase("PASSWORD");
  compare_shape(expected, app, "", {}, problems);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(Conformance, AppListShape) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/myapp","cmd":"env && sleep 60","env":{"LD_LIBRARY_PATH":"/usr/local/lib/myLib"},"instances":3,"cpus":0.1,"mem":5,
      "constraints":[["hostname","UNIQUE",""]],"uris":["https://example.com/README.md"],"ports":[10013,10015]})")
                .status,
            201);
  auto list = d.json("GET", "/v2/apps");
  std::vector<std::string> problems;
  compare_shape(json::parse(example("app_list.json")), list, "", prefixed("/apps[]", {"/user", "/args"}), problems);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(Conformance, TaskShapes) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/minecraft/survival-world","cmd":"x","cpus":0.1,"mem":16})").status,
            201);
  d.tick(2);
  std::vector<std::string> problems;
  // region and zone are fault-domain fields; the simulated agents have none.
  const std::set<std::string> absent = {"/tasks[]/region", "/tasks[]/zone"};
  compare_shape(json::parse(example("app_tasks.json")), d.json("GET", "/v2/apps/minecraft/survival-world/tasks"), "",
                absent, problems);
  compare_shape(json::parse(example("tasks.json")), d.json("GET", "/v2/tasks"), "", absent, problems);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(Conformance, GroupShape) {
  SimDriver d;
  auto v = json::parse(example("group.json")).as_object();
  v.erase("version");
  ASSERT_EQ(d.call("PUT", "/v2/groups", json::serialize(v)).status, 200);
  std::vector<std::string> problems;
  compare_shape(json::parse(example("group.json")), d.json("GET", "/v2/groups"), "", {}, problems);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(Conformance, DeploymentShapes) {
  SimDriver d;
  auto created = d.call("POST", "/v2/groups", R"({"id":"/tools","apps":[{"id":"oauth-server","cmd":"x"}]})");
  ASSERT_EQ(created.status, 201);
  std::vector<std::string> problems;
  compare_shape(json::parse(example("deployments_result.json")), json::parse(created.body), "", {}, problems);
  // affectedPods is always empty here, and readiness checks are not simulated.
  compare_shape(json::parse(example("deployments.json")), d.json("GET", "/v2/deployments"), "",
                {"/[]/currentActions[]/readinessCheckResults[]/taskId"}, problems);
  auto dry = d.call("PUT", "/v2/groups/tools?dryRun=true",
                    R"({"apps":[{"id":"oauth-server","cmd":"y"},{"id":"other","cmd":"x"}]})");
  ASSERT_EQ(dry.status, 200);
  compare_shape(json::parse(example("deployment_steps.json")), json::parse(dry.body), "", {}, problems);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(Conformance, QueueShape) {
  SimDriver d(deterministic_options({"cpus=0.5,mem=256,disk=100,attr.foo=bar"}));
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/foo","cmd":"x","cpus":1,"mem":128,"instances":2})").status, 201);
  d.tick(2);
  std::vector<std::string> problems;
  // The example's resource carries scalar, ranges and set at once; a real
  // offer's resource carries one of them, as the simulator writes it.
  compare_shape(json::parse(example("queue.json")), d.json("GET", "/v2/queue?embed=lastUnusedOffers"), "",
                {"/queue[]/app/ports", "/queue[]/app/container", "/queue[]/app/uris", "/queue[]/app/user",
                 "/queue[]/lastUnusedOffers[]/offer/resources[]/ranges",
                 "/queue[]/lastUnusedOffers[]/offer/resources[]/set",
                 "/queue[]/lastUnusedOffers[]/offer/attributes[]/scalar",
                 "/queue[]/lastUnusedOffers[]/offer/attributes[]/ranges",
                 "/queue[]/lastUnusedOffers[]/offer/attributes[]/set"},
                problems);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(Conformance, InfoShape) {
  SimDriver d;
  std::vector<std::string> problems;
  compare_shape(json::parse(example("info.json")), d.json("GET", "/v2/info"), "", {}, problems);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(Conformance, EventShapes) {
  SimDriver d;
  std::vector<std::string> frames;
  d.sim.subscribe({}, [&](const std::string& f) { frames.push_back(f); }, "127.0.0.1");
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/foo","cmd":"x","cpus":0.1,"mem":16})").status, 201);
  d.tick(2);
  // Examples from events.txt, by event type.
  std::map<std::string, json::value> expected;
  std::istringstream in(example("events.txt"));
  std::string line, type;
  while (std::getline(in, line)) {
    if (line.starts_with("event: ")) type = line.substr(7);
    if (line.starts_with("data: ")) expected[type] = json::parse(line.substr(6));
  }
  ASSERT_EQ(expected.size(), 2u);
  std::set<std::string> seen;
  std::vector<std::string> problems;
  for (const auto& f : frames) {
    const auto t = f.substr(7, f.find('\n') - 7);
    const auto data = json::parse(f.substr(f.find("data: ") + 6));
    if (expected.count(t)) {
      compare_shape(expected.at(t), data, t, {}, problems);
      seen.insert(t);
    }
  }
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

// events.txt's TASK_FAILED example (a fetch failure): a task failed by a
// fetch fault is announced with the same fields and types, and a message of
// the same form (newer Mesos writes "exited with status N").
TEST(Conformance, TaskFailedEventShape) {
  SimDriver d;
  std::vector<std::string> frames;
  d.sim.subscribe({"status_update_event"}, [&](const std::string& f) { frames.push_back(f); }, "127.0.0.1");
  ASSERT_EQ(d.call("POST", "/_sim/task-faults", R"({"kind":"fetch","app":"/foo"})").status, 201);
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/foo","cmd":"x","cpus":0.1,"mem":16,"uris":["http://r/p.tgz"]})").status,
            201);
  d.tick(2);
  json::value expected;
  std::istringstream in(example("events.txt"));
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("data: ") && line.find("TASK_FAILED") != std::string::npos) expected = json::parse(line.substr(6));
  ASSERT_TRUE(expected.is_object());
  json::value failed;
  for (const auto& f : frames)
    if (f.find("\"TASK_FAILED\"") != std::string::npos) failed = json::parse(f.substr(f.find("data: ") + 6));
  ASSERT_TRUE(failed.is_object());
  std::vector<std::string> problems;
  compare_shape(expected, failed, "", {}, problems);
  EXPECT_TRUE(problems.empty()) << join(problems);
  const std::string want(expected.at("message").as_string());
  const std::string got(failed.at("message").as_string());
  const auto prefix = want.substr(0, want.find('\'') + 1);
  EXPECT_EQ(got.rfind(prefix, 0), 0u) << got;
}

}  // namespace
}  // namespace hmc::marathon_sim::testing
