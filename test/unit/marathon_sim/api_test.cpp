// Marathon's API semantics as the simulator implements them, driven in-process.
#include "sim_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace hmc::marathon_sim::testing {
namespace {

namespace json = boost::json;

const char* kTwoApps = R"({"id":"/t/wc","apps":[
  {"id":"0","cmd":"sleep 1","cpus":1,"mem":256,"instances":1},
  {"id":"1","cmd":"sleep 1","cpus":1,"mem":256,"instances":2}]})";

bool has_path(const std::vector<std::string>& paths, const std::string& p) {
  return std::find(paths.begin(), paths.end(), p) != paths.end();
}

TEST(SimApi, InvalidJsonIs400) {
  SimDriver d;
  auto r = d.call("POST", "/v2/groups", "{\"id\": ");
  EXPECT_EQ(r.status, 400);
  auto v = json::parse(r.body);
  EXPECT_EQ(v.at("message").as_string(), "Invalid JSON");
  EXPECT_TRUE(v.at("details").is_array());
}

TEST(SimApi, IdSegmentRuleGives422WithDetailPaths) {
  SimDriver d;
  auto r = d.call("POST", "/v2/groups",
                  R"({"id":"/ok","apps":[{"id":"Upper","cmd":"x"}],"groups":[{"id":"sub","apps":[{"id":"a_b","cmd":"x"}]}]})");
  ASSERT_EQ(r.status, 422) << r.body;
  auto v = json::parse(r.body);
  EXPECT_EQ(v.at("message").as_string(), "Object is not valid");
  auto paths = detail_paths(r.body);
  EXPECT_TRUE(has_path(paths, "/apps(0)/id")) << r.body;
  EXPECT_TRUE(has_path(paths, "/groups(0)/apps(0)/id")) << r.body;
  EXPECT_EQ(d.sim.groups().count("/ok"), 0u) << "nothing is created when validation fails";

  auto bad_group = d.call("POST", "/v2/groups", R"({"id":"/Heron"})");
  ASSERT_EQ(bad_group.status, 422);
  EXPECT_TRUE(has_path(detail_paths(bad_group.body), "/id"));
}

TEST(SimApi, ReservedLastSegmentsAndBadValuesAreRejected) {
  SimDriver d;
  auto r = d.call("POST", "/v2/apps", R"({"id":"/x/restart","cmd":"x"})");
  ASSERT_EQ(r.status, 422);
  EXPECT_TRUE(has_path(detail_paths(r.body), "/id"));
  r = d.call("POST", "/v2/groups", R"({"id":"/g","apps":[{"id":"a","cmd":"x","cpus":-1,"instances":-2}]})");
  ASSERT_EQ(r.status, 422);
  auto paths = detail_paths(r.body);
  EXPECT_TRUE(has_path(paths, "/apps(0)/cpus"));
  EXPECT_TRUE(has_path(paths, "/apps(0)/instances"));
  r = d.call("POST", "/v2/apps", R"({"id":"/nocmd"})");
  ASSERT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."),
            std::string::npos);
  r = d.call("POST", "/v2/groups", R"({"id":"/g","apps":[{"id":"/elsewhere/a","cmd":"x"}]})");
  ASSERT_EQ(r.status, 422);
  EXPECT_TRUE(has_path(detail_paths(r.body), "/apps(0)/id"));
}

TEST(SimApi, WrongJsonTypesAreInvalidJson422) {
  SimDriver d;
  auto r = d.call("POST", "/v2/groups", R"({"id":"/g","apps":[{"id":"a","cmd":"x","cpus":"lots"}]})");
  ASSERT_EQ(r.status, 422);
  auto v = json::parse(r.body);
  EXPECT_EQ(v.at("message").as_string(), "Invalid JSON");
  EXPECT_EQ(v.at("details").as_array()[0].at("path").as_string(), "/apps(0)/cpus");
  EXPECT_EQ(v.at("details").as_array()[0].at("errors").as_array()[0].as_string(), "error.expected.jsnumber");
}

TEST(SimApi, PostCreatesParentsAndAnswers201WithHeaders) {
  SimDriver d;
  auto r = d.call("POST", "/v2/groups", kTwoApps);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(header(r, "Location"), "/v2/groups/t/wc");
  EXPECT_FALSE(header(r, "Marathon-Deployment-Id").empty());
  EXPECT_EQ(d.sim.groups().count("/t"), 1u);
  auto again = d.call("POST", "/v2/groups", kTwoApps);
  EXPECT_EQ(again.status, 409);
}

TEST(SimApi, StructuralPutReplacesTheAppSet) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/groups", kTwoApps).status, 201);
  d.tick(2);
  auto r = d.call("PUT", "/v2/groups/t/wc", R"({"apps":[{"id":"0","cmd":"sleep 1","cpus":1,"mem":256}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(d.sim.apps().count("/t/wc/1"), 0u);
  auto deps = d.json("GET", "/v2/deployments").as_array();
  ASSERT_EQ(deps.size(), 1u);
  EXPECT_EQ(deps[0].at("steps").as_array()[0].at("actions").as_array()[0].at("action").as_string(), "StopApplication");
  d.tick();
  EXPECT_TRUE(d.json("GET", "/v2/deployments").as_array().empty());
  // The agent got its resources back.
  const auto& agent = d.sim.agents().begin()->second;
  EXPECT_DOUBLE_EQ(agent.used_cpus, 1.0);
}

TEST(SimApi, ConfigChangeRestartsAndScaleOnlyScales) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/groups", kTwoApps).status, 201);
  d.tick(2);
  auto r = d.call("PUT", "/v2/groups/t/wc?dryRun=true", R"({"apps":[
      {"id":"0","cmd":"sleep 2","cpus":1,"mem":256,"instances":1},
      {"id":"1","cmd":"sleep 1","cpus":1,"mem":256,"instances":3}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto steps = json::parse(r.body).at("steps").as_array();
  ASSERT_EQ(steps.size(), 1u);
  std::vector<std::string> actions;
  for (const auto& a : steps[0].at("actions").as_array())
    actions.push_back(std::string(a.at("action").as_string()) + " " + std::string(a.at("app").as_string()));
  EXPECT_EQ(actions, (std::vector<std::string>{"RestartApplication /t/wc/0", "ScaleApplication /t/wc/1"}));
  EXPECT_TRUE(d.json("GET", "/v2/deployments").as_array().empty()) << "dryRun changes nothing";
  EXPECT_EQ(d.sim.apps().at("/t/wc/1").spec.instances, 2);
}

TEST(SimApi, ScaleByMultipliesAndRoundsUp) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/groups", kTwoApps).status, 201);
  d.tick(2);
  ASSERT_EQ(d.call("PUT", "/v2/groups/t/wc", R"({"scaleBy":1.5})").status, 200);
  EXPECT_EQ(d.sim.apps().at("/t/wc/0").spec.instances, 2);
  EXPECT_EQ(d.sim.apps().at("/t/wc/1").spec.instances, 3);
  auto both = d.call("PUT", "/v2/groups/t/wc", R"({"scaleBy":1,"apps":[]})");
  EXPECT_EQ(both.status, 422);
}

TEST(SimApi, VersionRollbackRestoresAnEarlierGroup) {
  SimDriver d;
  auto created = d.call("POST", "/v2/groups", kTwoApps);
  ASSERT_EQ(created.status, 201);
  const std::string v1(json::parse(created.body).at("version").as_string());
  d.tick(2);
  ASSERT_EQ(d.call("PUT", "/v2/groups/t/wc", R"({"apps":[{"id":"0","cmd":"other","cpus":1,"mem":256}]})").status, 200);
  d.tick(2);
  auto versions = d.json("GET", "/v2/groups/t/wc/versions").as_array();
  EXPECT_EQ(versions.size(), 2u);
  auto r = d.call("PUT", "/v2/groups/t/wc", std::string(R"({"version":")") + v1 + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(d.sim.apps().count("/t/wc/1"), 1u);
  EXPECT_EQ(d.sim.apps().at("/t/wc/0").spec.definition.at("cmd").as_string(), "sleep 1");
  auto missing = d.call("PUT", "/v2/groups/t/wc", R"({"version":"2001-01-01T00:00:00.000Z"})");
  EXPECT_EQ(missing.status, 404);
}

TEST(SimApi, DeleteDeploymentWithoutForceRollsBack) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/groups", kTwoApps).status, 201);
  d.tick(2);
  auto scale = d.call("PUT", "/v2/groups/t/wc", R"({"scaleBy":10})");
  ASSERT_EQ(scale.status, 200);
  const auto dep = header(scale, "Marathon-Deployment-Id");
  auto r = d.call("DELETE", "/v2/deployments/" + dep);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(json::parse(r.body).at("deploymentId").as_string().empty());
  EXPECT_EQ(d.sim.apps().at("/t/wc/1").spec.instances, 2);
  EXPECT_EQ(d.call("DELETE", "/v2/deployments/nope").status, 404);
}

TEST(SimApi, DeleteGroupStopsEverythingBelow) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/groups", kTwoApps).status, 201);
  d.tick(2);
  auto r = d.call("DELETE", "/v2/groups/t/wc?force=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(d.sim.groups().count("/t/wc"), 0u);
  EXPECT_EQ(d.sim.groups().count("/t"), 1u);
  EXPECT_TRUE(d.sim.apps().empty());
  d.tick();
  EXPECT_TRUE(d.json("GET", "/v2/deployments").as_array().empty());
  EXPECT_DOUBLE_EQ(d.sim.agents().begin()->second.used_cpus, 0.0);
  EXPECT_EQ(d.call("DELETE", "/v2/groups/t/wc").status, 404);
}

TEST(SimApi, AppsEndpoints) {
  SimDriver d;
  auto c = d.call("POST", "/v2/apps", R"({"id":"solo","cmd":"sleep 1","cpus":0.5,"mem":64,"instances":2})");
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(json::parse(c.body).at("id").as_string(), "/solo");
  EXPECT_EQ(d.call("POST", "/v2/apps", R"({"id":"solo","cmd":"x"})").status, 409);
  d.tick(2);
  auto one = d.json("GET", "/v2/apps/solo").at("app");
  EXPECT_EQ(one.at("tasksRunning").as_int64(), 2);
  EXPECT_EQ(one.at("tasks").as_array().size(), 2u);
  auto scaled = d.call("PUT", "/v2/apps/solo", R"({"instances":1})");
  ASSERT_EQ(scaled.status, 200) << scaled.body;
  EXPECT_EQ(d.sim.apps().at("/solo").spec.definition.at("cmd").as_string(), "sleep 1") << "partial update";
  d.tick();
  EXPECT_EQ(d.json("GET", "/v2/apps").at("apps").as_array()[0].at("tasksRunning").as_int64(), 1);
  auto restart = d.call("POST", "/v2/apps/solo/restart");
  ASSERT_EQ(restart.status, 200);
  auto steps = d.json("GET", "/v2/deployments").as_array()[0].at("steps").as_array();
  EXPECT_EQ(steps[0].at("actions").as_array()[0].at("action").as_string(), "RestartApplication");
  d.tick(2);
  EXPECT_TRUE(d.json("GET", "/v2/deployments").as_array().empty());
  EXPECT_EQ(d.call("DELETE", "/v2/apps/solo").status, 200);
  EXPECT_EQ(d.call("GET", "/v2/apps/solo").status, 404);
}

// Dynamic host ports: lowest free first, in the agent's range order; ports of
// killed tasks are handed out again.
std::set<std::uint32_t> used_ports(const Simulator& sim, const std::string& app) {
  std::set<std::uint32_t> out;
  for (const auto& t : sim.apps().at(app).tasks) out.insert(t.ports.begin(), t.ports.end());
  std::size_t tasks = 0;
  for (const auto& [id, a] : sim.apps()) tasks += a.tasks.size();
  EXPECT_EQ(sim.task_count(), tasks);  // the running count follows every change
  return out;
}

// App /p of `instances` tasks with two dynamic host ports each, on one agent
// with these port ranges; placed and running.
void run_two_port_app(SimDriver& d, int instances) {
  const std::string app = R"({"id":"p","cmd":"sleep 1","cpus":0.1,"mem":16,"instances":)" +
                          std::to_string(instances) + R"(,"portDefinitions":[{"port":0},{"port":0}]})";
  ASSERT_EQ(d.call("POST", "/v2/apps", app).status, 201);
  d.tick(2);
}

TEST(SimApi, DynamicPortsAreLowestFreeFirstAndReused) {
  SimDriver d(deterministic_options({"cpus=100,mem=100000,disk=100000,ports=500-503;1000-1009"}));
  run_two_port_app(d, 3);
  const std::set<std::uint32_t> first{500, 501, 502, 503, 1000, 1001};
  EXPECT_EQ(used_ports(d.sim, "/p"), first);
  ASSERT_EQ(d.call("PUT", "/v2/apps/p", R"({"instances":1})").status, 200);
  d.tick(2);
  ASSERT_EQ(d.sim.apps().at("/p").tasks.size(), 1u);
  ASSERT_EQ(d.call("PUT", "/v2/apps/p", R"({"instances":4})").status, 200);
  d.tick(2);
  // The freed ports come back before any port not used yet.
  EXPECT_EQ(used_ports(d.sim, "/p"), (std::set<std::uint32_t>{500, 501, 502, 503, 1000, 1001, 1002, 1003}));
}

TEST(SimApi, DynamicPortsFollowRangesGivenOutOfOrder) {
  SimDriver d(deterministic_options({"cpus=100,mem=100000,disk=100000,ports=1000-1002;500-501"}));
  run_two_port_app(d, 2);
  EXPECT_EQ(used_ports(d.sim, "/p"), (std::set<std::uint32_t>{1000, 1001, 1002, 500}));
}

TEST(SimApi, TaskCountFollowsLaunchesKillsAndLostAgents) {
  SimDriver d(deterministic_options({"cpus=4,mem=8192,ports=31000-31100", "cpus=4,mem=8192,ports=31000-31100"}));
  auto check = [&](std::size_t expected) {
    std::size_t tasks = 0;
    for (const auto& [id, a] : d.sim.apps()) tasks += a.tasks.size();
    EXPECT_EQ(tasks, expected);
    EXPECT_EQ(d.sim.task_count(), expected);
    EXPECT_EQ(d.json("GET", "/_sim/state").at("tasks").to_number<std::size_t>(), expected);
  };
  ASSERT_EQ(d.call("POST", "/v2/groups", kTwoApps).status, 201);
  d.tick(2);
  check(3);
  ASSERT_EQ(d.call("PUT", "/v2/apps/t/wc/1", R"({"instances":1})").status, 200);
  d.tick(2);
  check(2);
  ASSERT_EQ(d.call("POST", "/v2/apps/t/wc/1/restart").status, 200);  // old version killed, new one launched
  d.tick(3);
  check(2);
  const std::string agent = d.sim.agents().begin()->first;
  ASSERT_EQ(d.call("DELETE", "/_sim/agents/" + agent).status, 200);
  check(d.sim.apps().at("/t/wc/0").tasks.size() + d.sim.apps().at("/t/wc/1").tasks.size());
  d.tick(2);  // relaunched on the other agent
  check(2);
  ASSERT_EQ(d.call("DELETE", "/v2/groups/t/wc").status, 200);
  check(0);
}

TEST(SimApi, RemovingAnAgentLeavesTasksElsewhereAsTheyWere) {
  SimDriver d(deterministic_options({"cpus=1,mem=1024,hostname=h0", "cpus=1,mem=1024,hostname=h1"}));
  ASSERT_EQ(d.call("POST", "/v2/groups", R"({"id":"/t","apps":[{"id":"a","cmd":"x","cpus":1,"mem":64},
                                                                 {"id":"b","cmd":"x","cpus":1,"mem":64}]})")
                .status,
            201);
  d.tick(2);
  const auto before = d.json("GET", "/v2/apps/t/b/tasks").at("tasks").as_array();
  ASSERT_EQ(before.size(), 1u);
  const std::string gone = d.sim.apps().at("/t/a").tasks.at(0).agent_id;
  ASSERT_NE(gone, std::string(before[0].at("slaveId").as_string())) << "one task per agent";
  ASSERT_EQ(d.call("DELETE", "/_sim/agents/" + gone).status, 200);
  EXPECT_EQ(d.json("GET", "/v2/apps/t/b/tasks").at("tasks").as_array(), before);
}

TEST(SimApi, QueueFunnelCountsFirstReasonAndChainsProcessed) {
  SimDriver d(deterministic_options({"cpus=8,mem=512,disk=1000", "cpus=1,mem=4096,disk=1000",
                                     "cpus=8,mem=4096,disk=1000,role=slave_public"}));
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/big","cmd":"x","cpus":2,"mem":1024})").status, 201);
  d.tick(3);
  auto q = d.json("GET", "/v2/queue?embed=lastUnusedOffers").at("queue").as_array();
  ASSERT_EQ(q.size(), 1u);
  const auto& s = q[0].at("processedOffersSummary");
  EXPECT_EQ(s.at("processedOffersCount").as_int64(), 9);
  EXPECT_EQ(s.at("unusedOffersCount").as_int64(), 9);
  auto rows = s.at("rejectSummaryLaunchAttempt").as_array();
  ASSERT_EQ(rows.size(), 10u);
  const char* order[] = {"UnfulfilledRole", "UnfulfilledConstraint", "NoCorrespondingReservationFound",
                         "AgentMaintenance", "InsufficientCpus", "InsufficientMemory", "InsufficientDisk",
                         "InsufficientGpus", "InsufficientPorts", "DeclinedScarceResources"};
  long processed = 9;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].at("reason").as_string(), order[i]);
    EXPECT_EQ(rows[i].at("processed").as_int64(), processed);
    processed -= rows[i].at("declined").as_int64();
  }
  EXPECT_EQ(rows[0].at("declined").as_int64(), 3);  // the slave_public agent
  EXPECT_EQ(rows[4].at("declined").as_int64(), 3);  // the 1-cpu agent
  EXPECT_EQ(rows[5].at("declined").as_int64(), 3);  // the 512 MB agent
  auto last = s.at("rejectSummaryLastOffers").as_array();
  EXPECT_EQ(last[0].at("processed").as_int64(), 3);
  EXPECT_EQ(q[0].at("lastUnusedOffers").as_array().size(), 3u);
  EXPECT_TRUE(s.as_object().contains("lastUnusedOfferAt"));
  EXPECT_FALSE(s.as_object().contains("lastUsedOfferAt"));
}

TEST(SimApi, AuthTokenAnd401Body) {
  auto o = deterministic_options();
  o.token = "abc";
  SimDriver d(o);
  auto r = d.call("GET", "/v2/groups");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body).at("message").as_string(), "Not Authorized to perform this action!");
  EXPECT_EQ(d.call("GET", "/v2/groups", {}, "token=abc").status, 200);
  EXPECT_EQ(d.call("GET", "/_sim/state").status, 200) << "admin endpoints need no token";
}

TEST(SimApi, GroupEmbedsSelectFields) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/groups", kTwoApps).status, 201);
  d.tick(2);
  auto plain = d.json("GET", "/v2/groups/t").as_object();
  EXPECT_TRUE(plain.contains("groups"));
  EXPECT_TRUE(plain.contains("apps"));
  EXPECT_TRUE(plain.contains("pods"));
  const auto& app = plain.at("groups").as_array()[0].at("apps").as_array()[0].as_object();
  EXPECT_FALSE(app.contains("tasksRunning")) << "counts only with group.apps.counts";
  auto tasks = d.json("GET", "/v2/groups/t?embed=group.groups&embed=group.apps&embed=group.apps.tasks").as_object();
  EXPECT_EQ(tasks.at("groups").as_array()[0].at("apps").as_array()[1].at("tasks").as_array().size(), 2u);
  EXPECT_FALSE(tasks.contains("pods"));
  auto only_groups = d.json("GET", "/v2/groups/t?embed=group.groups").as_object();
  EXPECT_FALSE(only_groups.at("groups").as_array()[0].as_object().contains("apps"));
}

TEST(SimOptions, DurationsAgentsAndYaml) {
  EXPECT_EQ(parse_duration("500ms", nullptr)->count(), 500);
  EXPECT_EQ(parse_duration("30s", nullptr)->count(), 30000);
  EXPECT_EQ(parse_duration("10m", nullptr)->count(), 600000);
  EXPECT_EQ(parse_duration("1h", nullptr)->count(), 3600000);
  std::string err;
  EXPECT_FALSE(parse_duration("5 parsecs", &err));
  EXPECT_NE(err.find("5 parsecs"), std::string::npos);
  auto a = parse_agent_spec("cpus=2,mem=1024,ports=1000-1010;2000-2001,attr.rack=r1,maintenance=true");
  EXPECT_EQ(a.cpus, 2);
  ASSERT_EQ(a.ports.size(), 2u);
  EXPECT_EQ(a.ports[1].end, 2001u);
  EXPECT_EQ(a.attributes.at("rack"), "r1");
  EXPECT_TRUE(a.maintenance);
  EXPECT_THROW(parse_agent_spec("cpu=2"), std::invalid_argument);
  EXPECT_THROW(parse_agent_spec("ports=20-10"), std::invalid_argument);

  const std::string path = ::testing::TempDir() + "/agents.yaml";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("agents:\n  - {cpus: 4, mem: 8192, ports: [\"31000-31010\"], count: 3, hostname: h}\n  - {cpus: 1, role: slave_public}\n", f);
    std::fclose(f);
  }
  auto agents = load_agents_yaml(path);
  ASSERT_EQ(agents.size(), 4u);
  EXPECT_EQ(agents[2].hostname, "h-2");
  EXPECT_EQ(agents[3].role, "slave_public");
  {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("agents:\n  - {cpus: many}\n", f);
    std::fclose(f);
  }
  try {
    load_agents_yaml(path);
    FAIL() << "bad YAML accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("agents[0]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hmc::marathon_sim::testing
