// Task faults, TASK_FAILED, lastTaskFailure, tasksStats and Marathon's launch
// backoff, driven in-process on the stepped clock (offer period 100 ms).
#include "sim_test_util.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace hmc::marathon_sim::testing {
namespace {

namespace json = boost::json;

// An app fetching one package, with round backoff numbers: 10 s, x2, at most 35 s.
const char* kFetchingApp = R"({"id":"/t/a","cmd":"./run","cpus":0.1,"mem":32,"instances":1,
  "fetch":[{"uri":"http://repo.local/heron-core.tar.gz"}],
  "backoffSeconds":10,"backoffFactor":2,"maxLaunchDelaySeconds":35})";

std::string add_fault(SimDriver& d, const std::string& body) {
  auto r = d.call("POST", "/_sim/task-faults", body);
  EXPECT_EQ(r.status, 201) << r.body;
  return std::string(json::parse(r.body).at("id").as_string());
}

json::object app_json(SimDriver& d, const std::string& id) {
  return d.json("GET", "/v2/apps" + id).at("app").as_object();
}

// The queue entry of `id`; null when the app is not queued.
json::value queue_entry(SimDriver& d, const std::string& id) {
  const auto queue = d.json("GET", "/v2/queue");
  for (const auto& e : queue.at("queue").as_array())
    if (e.at("app").at("id").as_string() == id) return e;
  return nullptr;
}

std::string last_failure_task(SimDriver& d, const std::string& id) {
  auto app = app_json(d, id);
  if (!app.contains("lastTaskFailure")) return {};
  return std::string(app.at("lastTaskFailure").at("taskId").as_string());
}

// Ticks one offer cycle at a time until the app has a new lastTaskFailure;
// returns the number of cycles (0: none within `limit`).
int cycles_to_next_failure(SimDriver& d, const std::string& id, int limit = 2000) {
  const auto before = last_failure_task(d, id);
  for (int i = 1; i <= limit; ++i) {
    d.tick();
    if (last_failure_task(d, id) != before) return i;
  }
  return 0;
}

TEST(SimTaskFaults, FetchFaultFailsTheTaskWithAMesosMessageAndLastTaskFailure) {
  SimDriver d;
  std::vector<std::string> events;
  d.sim.subscribe({}, [&](const std::string& f) { events.push_back(f); }, "127.0.0.1");
  add_fault(d, R"({"kind":"fetch","fetchUri":"*/heron-core.tar.gz"})");
  ASSERT_EQ(d.call("POST", "/v2/apps", kFetchingApp).status, 201);
  d.tick();  // offered, launched: TASK_STAGING
  EXPECT_EQ(app_json(d, "/t/a").at("tasksStaged").as_int64(), 1);
  d.tick();  // the fetcher fails: TASK_FAILED instead of TASK_RUNNING
  auto app = app_json(d, "/t/a");
  EXPECT_EQ(app.at("tasksStaged").as_int64(), 0);
  EXPECT_EQ(app.at("tasksRunning").as_int64(), 0);
  EXPECT_TRUE(app.at("tasks").as_array().empty());
  const auto& f = app.at("lastTaskFailure").as_object();
  EXPECT_EQ(f.at("state").as_string(), "TASK_FAILED");
  EXPECT_EQ(f.at("appId").as_string(), "/t/a");
  const std::string msg(f.at("message").as_string());
  EXPECT_EQ(msg.rfind("Failed to launch container: Failed to fetch all URIs for container '", 0), 0u) << msg;
  EXPECT_NE(msg.find("exited with status 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("http://repo.local/heron-core.tar.gz"), std::string::npos) << msg;
  for (const char* k : {"host", "taskId", "timestamp", "version", "slaveId"}) EXPECT_TRUE(f.contains(k)) << k;
  EXPECT_EQ(f.at("version").as_string(), app.at("version").as_string());
  // Events as Marathon sends them.
  bool status_failed = false, instance_failed = false;
  for (const auto& e : events) {
    if (e.starts_with("event: status_update_event") && e.find("\"taskStatus\":\"TASK_FAILED\"") != std::string::npos &&
        e.find("Failed to fetch all URIs") != std::string::npos)
      status_failed = true;
    if (e.starts_with("event: instance_changed_event") && e.find("\"condition\":\"Failed\"") != std::string::npos)
      instance_failed = true;
  }
  EXPECT_TRUE(status_failed);
  EXPECT_TRUE(instance_failed);
  EXPECT_EQ(d.sim.task_count(), 0u);
  // The agent's resources came back.
  EXPECT_EQ(d.sim.agents().begin()->second.used_cpus, 0);
}

TEST(SimTaskFaults, BackoffGrowsByTheFactorPerFailureAndIsCapped) {
  SimDriver d;
  add_fault(d, R"({"kind":"fetch","app":"/t/*"})");
  ASSERT_EQ(d.call("POST", "/v2/apps", kFetchingApp).status, 201);
  // Launch, fail one cycle later; then wait out 10 s, 20 s, 35 s (capped), 35 s.
  EXPECT_EQ(cycles_to_next_failure(d, "/t/a"), 2);
  auto q = queue_entry(d, "/t/a");
  ASSERT_FALSE(q.is_null());
  EXPECT_EQ(q.at("delay").at("timeLeftSeconds").as_int64(), 10);
  EXPECT_FALSE(q.at("delay").at("overdue").as_bool());
  EXPECT_EQ(q.at("count").as_int64(), 1);
  const int expected_cycles[] = {101, 201, 351, 351};
  const int expected_left[] = {20, 35, 35, 35};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(cycles_to_next_failure(d, "/t/a"), expected_cycles[i]) << "failure " << i + 2;
    q = queue_entry(d, "/t/a");
    EXPECT_EQ(q.at("delay").at("timeLeftSeconds").as_int64(), expected_left[i]) << "failure " << i + 2;
  }
  // Half way through the delay: time left counts down, not overdue.
  d.tick(150);
  q = queue_entry(d, "/t/a");
  EXPECT_EQ(q.at("delay").at("timeLeftSeconds").as_int64(), 20);
  EXPECT_FALSE(q.at("delay").at("overdue").as_bool());
  EXPECT_EQ(app_json(d, "/t/a").at("tasksStaged").as_int64(), 0) << "no launch while delayed";
}

TEST(SimTaskFaults, OverdueOnceTheDelayPassedAndTheAppStillWaits) {
  SimDriver d;
  add_fault(d, R"({"kind":"fetch","app":"/t/a"})");
  ASSERT_EQ(d.call("POST", "/v2/apps", kFetchingApp).status, 201);
  ASSERT_EQ(cycles_to_next_failure(d, "/t/a"), 2);
  // No agent left: nothing can be launched when the delay is over.
  const auto agent = d.sim.agents().begin()->first;
  ASSERT_EQ(d.call("DELETE", "/_sim/agents/" + agent).status, 200);
  d.tick(99);  // 0.1 s left
  auto q = queue_entry(d, "/t/a");
  EXPECT_EQ(q.at("delay").at("timeLeftSeconds").as_int64(), 0);
  EXPECT_FALSE(q.at("delay").at("overdue").as_bool());
  d.tick(2);
  q = queue_entry(d, "/t/a");
  EXPECT_EQ(q.at("delay").at("timeLeftSeconds").as_int64(), 0);
  EXPECT_TRUE(q.at("delay").at("overdue").as_bool());
  d.tick(700);  // a minute past the deadline the delay is dropped: still overdue
  q = queue_entry(d, "/t/a");
  EXPECT_TRUE(q.at("delay").at("overdue").as_bool());
  EXPECT_FALSE(d.sim.apps().at("/t/a").delay.has_value());
}

TEST(SimTaskFaults, DeleteQueueDelayResetsTheBackoff) {
  SimDriver d;
  add_fault(d, R"({"kind":"fetch","app":"/t/a"})");
  ASSERT_EQ(d.call("POST", "/v2/apps", kFetchingApp).status, 201);
  ASSERT_EQ(cycles_to_next_failure(d, "/t/a"), 2);
  ASSERT_EQ(cycles_to_next_failure(d, "/t/a"), 101);
  EXPECT_EQ(queue_entry(d, "/t/a").at("delay").at("timeLeftSeconds").as_int64(), 20);
  auto r = d.call("DELETE", "/v2/queue//t/a/delay");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(queue_entry(d, "/t/a").at("delay").at("overdue").as_bool());
  d.tick();
  EXPECT_EQ(app_json(d, "/t/a").at("tasksStaged").as_int64(), 1) << "launched at once";
  d.tick();
  // Back to backoffSeconds after the reset.
  EXPECT_EQ(queue_entry(d, "/t/a").at("delay").at("timeLeftSeconds").as_int64(), 10);
  auto missing = d.call("DELETE", "/v2/queue/nope/delay");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body).at("message").as_string(), "Application /nope not found in tasks queue.");
}

// Marathon's QueueResource.resetDelay finds the app among those with
// scheduled instances: a known app with nothing to launch is a 404 too.
TEST(SimTaskFaults, DeleteQueueDelayOfAnAppNotQueuedIs404) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/apps", kFetchingApp).status, 201);
  auto queued = d.call("DELETE", "/v2/queue/t/a/delay");
  EXPECT_EQ(queued.status, 204) << "waiting for its first offer: queued";
  d.tick(2);
  ASSERT_EQ(app_json(d, "/t/a").at("tasksRunning").as_int64(), 1);
  ASSERT_TRUE(queue_entry(d, "/t/a").is_null());
  auto running = d.call("DELETE", "/v2/queue/t/a/delay");
  EXPECT_EQ(running.status, 404);
  EXPECT_EQ(json::parse(running.body).at("message").as_string(), "Application /t/a not found in tasks queue.");
}

TEST(SimTaskFaults, RemovingTheFaultOrChangingTheAppLetsItRun) {
  SimDriver d;
  const auto id = add_fault(d, R"({"kind":"fetch","fetchUri":"*/heron-core.tar.gz"})");
  ASSERT_EQ(d.call("POST", "/v2/apps", kFetchingApp).status, 201);
  ASSERT_EQ(cycles_to_next_failure(d, "/t/a"), 2);
  // Fixing the spec (another package URI): a new config version, no delay, no
  // match. The deployment of the failing app still holds its lock, so force.
  auto put = d.call("PUT", "/v2/apps/t/a?force=true", R"({"fetch":[{"uri":"http://repo.local/heron-core-fixed.zip"}]})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_FALSE(d.sim.apps().at("/t/a").delay.has_value() &&
               d.sim.apps().at("/t/a").delay->config == d.sim.apps().at("/t/a").last_config_change_at);
  d.tick(2);
  auto app = app_json(d, "/t/a");
  EXPECT_EQ(app.at("tasksRunning").as_int64(), 1);
  EXPECT_TRUE(app.contains("lastTaskFailure")) << "Marathon keeps the last failure";
  EXPECT_TRUE(d.json("GET", "/v2/deployments").as_array().empty());
  // Removing the fault: the next launch of a failing app succeeds.
  add_fault(d, R"({"kind":"exit","app":"/t/b"})");
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/t/b","cmd":"x","cpus":0.1,"mem":16})").status, 201);
  EXPECT_EQ(cycles_to_next_failure(d, "/t/b"), 2);
  EXPECT_EQ(app_json(d, "/t/b").at("lastTaskFailure").at("message").as_string(), "Command exited with status 1");
  ASSERT_EQ(d.call("DELETE", "/_sim/task-faults/" + id).status, 200);
  ASSERT_EQ(d.call("DELETE", "/_sim/task-faults").status, 200);
  d.tick(10);  // the 1 s default backoff
  d.tick(2);
  EXPECT_EQ(app_json(d, "/t/b").at("tasksRunning").as_int64(), 1);
}

TEST(SimTaskFaults, ExitFaultRunsForAfterRunningThenFails) {
  SimDriver d;
  add_fault(d, R"({"kind":"exit","app":"/t/a","afterRunning":"1s","exitCode":3})");
  ASSERT_EQ(d.call("POST", "/v2/apps", kFetchingApp).status, 201);
  d.tick(2);  // staged at 0.1 s, running at 0.2 s
  EXPECT_EQ(app_json(d, "/t/a").at("tasksRunning").as_int64(), 1);
  d.tick(9);  // 1.1 s: ran 0.9 s
  EXPECT_EQ(app_json(d, "/t/a").at("tasksRunning").as_int64(), 1);
  EXPECT_FALSE(app_json(d, "/t/a").contains("lastTaskFailure"));
  d.tick();  // 1.2 s: ran 1 s, exits
  auto app = app_json(d, "/t/a");
  EXPECT_EQ(app.at("tasksRunning").as_int64(), 0);
  EXPECT_EQ(app.at("lastTaskFailure").at("message").as_string(), "Command exited with status 3");
  EXPECT_EQ(queue_entry(d, "/t/a").at("delay").at("timeLeftSeconds").as_int64(), 10);
}

TEST(SimTaskFaults, ImageFaultNamesTheImage) {
  SimDriver d;
  add_fault(d, R"({"kind":"image","image":"heron/*:broken"})");
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/d","cpus":0.1,"mem":16,
    "container":{"type":"DOCKER","docker":{"image":"heron/heron:broken"}}})")
                .status,
            201);
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/ok","cpus":0.1,"mem":16,
    "container":{"type":"DOCKER","docker":{"image":"heron/heron:0.20"}}})")
                .status,
            201);
  d.tick(2);
  const std::string msg(app_json(d, "/d").at("lastTaskFailure").at("message").as_string());
  EXPECT_NE(msg.find("docker -H unix:///var/run/docker.sock pull heron/heron:broken"), std::string::npos) << msg;
  EXPECT_EQ(app_json(d, "/ok").at("tasksRunning").as_int64(), 1);
  EXPECT_FALSE(app_json(d, "/ok").contains("lastTaskFailure"));
}

TEST(SimTaskFaults, RestartReplacesOnlyThatAppsTaskAndClearsTheDelay) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/t/b","cmd":"x","cpus":0.1,"mem":16})").status, 201);
  const auto fault = add_fault(d, R"({"kind":"fetch","app":"/t/a"})");
  ASSERT_EQ(d.call("POST", "/v2/apps", kFetchingApp).status, 201);
  ASSERT_EQ(cycles_to_next_failure(d, "/t/a"), 2);
  const auto b_task = d.sim.apps().at("/t/b").tasks.at(0).id;
  ASSERT_EQ(d.call("DELETE", "/_sim/task-faults/" + fault).status, 200);
  EXPECT_EQ(d.call("POST", "/v2/apps/t/a/restart").status, 409) << "locked by the deployment that cannot finish";
  auto r = d.call("POST", "/v2/apps/t/a/restart?force=true");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json::parse(r.body);
  EXPECT_TRUE(body.as_object().contains("version"));
  EXPECT_TRUE(body.as_object().contains("deploymentId"));
  d.tick(2);  // no 10 s wait: the restart is a new config version
  EXPECT_EQ(app_json(d, "/t/a").at("tasksRunning").as_int64(), 1);
  EXPECT_EQ(d.sim.apps().at("/t/b").tasks.at(0).id, b_task);
  // Restart of a running app: a new task for it, the other app untouched.
  const auto a_task = d.sim.apps().at("/t/a").tasks.at(0).id;
  ASSERT_EQ(d.call("POST", "/v2/apps/t/a/restart").status, 200);
  d.tick(3);
  EXPECT_NE(d.sim.apps().at("/t/a").tasks.at(0).id, a_task);
  EXPECT_EQ(d.sim.apps().at("/t/a").tasks.at(0).state, TaskState::running);
  EXPECT_EQ(d.sim.apps().at("/t/b").tasks.at(0).id, b_task);
  EXPECT_TRUE(d.json("GET", "/v2/deployments").as_array().empty());
}

TEST(SimTaskFaults, TasksStatsAsMarathonsTaskStatsByVersion) {
  SimDriver d;
  ASSERT_EQ(d.call("POST", "/v2/apps", R"({"id":"/s","cmd":"x","cpus":0.1,"mem":16,"instances":2})").status, 201);
  EXPECT_EQ(d.json("GET", "/v2/apps/s?embed=app.taskStats").at("app").at("tasksStats").as_object().size(), 0u);
  d.tick(12);  // running since 0.2 s, now 1.2 s
  auto stats = d.json("GET", "/v2/apps/s?embed=app.taskStats").at("app").at("tasksStats").as_object();
  for (const char* k : {"startedAfterLastScaling", "withLatestConfig", "totalSummary"}) {
    ASSERT_TRUE(stats.contains(k)) << k;
    const auto& s = stats.at(k).at("stats");
    EXPECT_EQ(s.at("counts").at("running").as_int64(), 2) << k;
    EXPECT_EQ(s.at("counts").at("staged").as_int64(), 0) << k;
    EXPECT_DOUBLE_EQ(s.at("lifeTime").at("averageSeconds").to_number<double>(), 1.0) << k;
    EXPECT_DOUBLE_EQ(s.at("lifeTime").at("medianSeconds").to_number<double>(), 1.0) << k;
  }
  EXPECT_FALSE(stats.contains("withOutdatedConfig"));
  // Lifetimes follow the clock (nothing else changed): no stale rendering.
  d.tick(10);
  auto group = d.json("GET", "/v2/groups?embed=group.apps&embed=group.apps.taskStats");
  EXPECT_DOUBLE_EQ(group.at("apps").as_array()[0].at("tasksStats").at("totalSummary").at("stats").at("lifeTime")
                       .at("averageSeconds").to_number<double>(),
                   2.0);
}

std::string replay(int seed) {
  auto o = deterministic_options();
  o.seed = static_cast<std::uint64_t>(seed);
  SimDriver d(o);
  add_fault(d, R"({"kind":"fetch","app":"/t/*"})");
  add_fault(d, R"({"kind":"exit","app":"/u","afterRunning":"700ms"})");
  d.call("POST", "/v2/apps", kFetchingApp);
  d.call("POST", "/v2/apps", R"({"id":"/u","cmd":"x","cpus":0.1,"mem":16,"instances":2})");
  d.tick(337);
  return d.call("GET", "/v2/apps?embed=apps.lastTaskFailure&embed=apps.tasks").body + "\n" +
         d.call("GET", "/v2/queue").body;
}

TEST(SimTaskFaults, DeterministicReplayGivesIdenticalState) {
  const auto a = replay(11), b = replay(11);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("TASK_FAILED"), std::string::npos);
}

TEST(SimTaskFaults, AdminEndpointValidatesListsAndRemoves) {
  SimDriver d;
  auto bad = [&](const std::string& body, const std::string& field) {
    auto r = d.call("POST", "/_sim/task-faults", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(field), std::string::npos) << body << " -> " << r.body;
  };
  bad(R"({"app":"/a"})", "kind");
  bad(R"({"kind":"boom","app":"/a"})", "kind");
  bad(R"({"kind":"fetch"})", "app");
  bad(R"({"kind":"fetch","app":"/a","afterRunning":"5s"})", "afterRunning");
  bad(R"({"kind":"exit","app":"/a","afterRunning":"soon"})", "afterRunning");
  bad(R"({"kind":"exit","app":"/a","exitCode":"one"})", "exitCode");
  bad(R"({"kind":"exit","app":7})", "app");
  bad(R"({"kind":"exit","app":"/a","colour":"red"})", "colour");
  bad(R"({"kind":"exit","app":"/a","id":"a/b"})", "id");
  bad("not json", "JSON");
  EXPECT_EQ(add_fault(d, R"({"kind":"exit","app":"/a","id":"mine"})"), "mine");
  EXPECT_EQ(d.call("POST", "/_sim/task-faults", R"({"kind":"exit","app":"/b","id":"mine"})").status, 409);
  const auto other = add_fault(d, R"({"kind":"image","image":"x:*","message":"custom"})");
  auto list = d.json("GET", "/_sim/task-faults").at("taskFaults").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("id").as_string(), "mine");
  EXPECT_EQ(list[0].at("afterRunning").as_string(), "0ms");
  EXPECT_EQ(list[1].at("id").as_string(), other);
  EXPECT_EQ(list[1].at("message").as_string(), "custom");
  EXPECT_EQ(d.call("DELETE", "/_sim/task-faults/nope").status, 404);
  EXPECT_EQ(d.call("DELETE", "/_sim/task-faults/mine").status, 200);
  EXPECT_EQ(d.json("GET", "/_sim/task-faults").at("taskFaults").as_array().size(), 1u);
  // Admin endpoints are never subject to faults.
  d.call("PUT", "/_sim/faults", R"({"errorRate":1})");
  EXPECT_EQ(d.call("DELETE", "/_sim/task-faults").status, 200);
  EXPECT_TRUE(d.sim.task_faults().empty());
}

TEST(SimTaskFaults, CommandLineFlagAddsFaults) {
  const char* argv[] = {"marathon-sim", "--task-fault", R"({"kind":"exit","app":"/x/*","exitCode":2})",
                        "--task-fault=" R"({"kind":"fetch","fetchUri":"*.tgz","id":"f"})"};
  bool help = false;
  auto o = parse_command_line(4, const_cast<char**>(argv), &help);
  ASSERT_EQ(o.task_faults.size(), 2u);
  EXPECT_EQ(o.task_faults[0].exit_code, 2);
  EXPECT_EQ(o.task_faults[1].id, "f");
  Simulator sim(o);
  ASSERT_EQ(sim.task_faults().size(), 2u);
  EXPECT_EQ(sim.task_faults()[0].id, "tf-1");
  const char* bad[] = {"marathon-sim", "--task-fault", R"({"kind":"exit"})"};
  try {
    parse_command_line(3, const_cast<char**>(bad), &help);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--task-fault"), std::string::npos) << e.what();
  }
}

TEST(SimTaskFaults, GlobMatching) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("/t/*", "/t/a/b"));
  EXPECT_TRUE(glob_match("*core*.tar.gz", "http://r/heron-core-1.tar.gz"));
  EXPECT_FALSE(glob_match("/t/*", "/u/a"));
  EXPECT_FALSE(glob_match("a*b", "a"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match("abc", "abcd"));
}

}  // namespace
}  // namespace hmc::marathon_sim::testing
