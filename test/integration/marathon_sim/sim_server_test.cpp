// The marathon-sim binary over real loopback HTTP: the behaviour controller
// tests rely on (deployments that finish, suspend, locks, the waiting queue,
// request log, auth, faults, events, agents at run time).
#include "hmc/testing/marathon_sim.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace {

namespace json = boost::json;
using hmc::testing::MarathonSim;
using hmc::testing::MarathonSimOptions;
using namespace std::chrono_literals;

constexpr const char* kObserveGroups =
    "/v2/groups/heron/topologies?embed=group.groups&embed=group.apps&embed=group.apps.counts"
    "&embed=group.apps.deployments&embed=group.apps.lastTaskFailure";

std::string topology(const std::string& name, int containers, double cpus = 1, double mem = 1024) {
  json::array apps;
  for (int i = 0; i <= containers; ++i) {
    json::object a;
    a["id"] = std::to_string(i);
    a["cmd"] = "cd $MESOS_SANDBOX && ./heron-executor --shard=" + std::to_string(i);
    a["cpus"] = cpus;
    a["mem"] = mem;
    a["disk"] = 1024;
    a["instances"] = 1;
    a["labels"] = json::object{{"heron-marathon/managed-by", "heron-marathon-controller"}};
    json::array mappings;
    for (const char* n : {"server", "tmanager-ctl", "tmanager-stats"})
      mappings.push_back(json::object{{"containerPort", 0}, {"hostPort", 0}, {"protocol", "tcp"}, {"name", n}});
    a["container"] = json::object{
        {"type", "DOCKER"},
        {"docker", json::object{{"image", "heron/heron:0.20"}, {"network", "BRIDGE"}, {"portMappings", mappings}}}};
    apps.push_back(std::move(a));
  }
  return json::serialize(json::object{{"id", "/heron/topologies/" + name}, {"apps", std::move(apps)}});
}

MarathonSimOptions deterministic(std::vector<std::string> agents = {}) {
  MarathonSimOptions o;
  o.deterministic = true;
  o.agents = std::move(agents);
  return o;
}

json::object group_of(const MarathonSim& sim, const std::string& name) {
  auto r = sim.get(kObserveGroups);
  EXPECT_EQ(r.status, 200) << r.body;
  const auto root = json::parse(r.body);
  for (const auto& g : root.at("groups").as_array())
    if (g.at("id").as_string() == "/heron/topologies/" + name) return g.as_object();
  return {};
}

int running(const MarathonSim& sim, const std::string& name) {
  int n = 0;
  auto g = group_of(sim, name);
  if (g.empty()) return -1;
  for (const auto& a : g.at("apps").as_array()) n += static_cast<int>(a.at("tasksRunning").to_number<int64_t>());
  return n;
}

std::size_t deployment_count(const MarathonSim& sim) {
  auto r = sim.get("/v2/deployments");
  EXPECT_EQ(r.status, 200);
  return json::parse(r.body).as_array().size();
}

TEST(MarathonSimServer, AnswersPingAndInfo) {
  MarathonSim sim;
  auto ping = sim.get("/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "pong");
  auto info = sim.get("/v2/info");
  ASSERT_EQ(info.status, 200);
  auto v = json::parse(info.body);
  EXPECT_EQ(v.at("name").as_string(), "marathon");
  EXPECT_TRUE(v.at("elected").as_bool());
  EXPECT_TRUE(v.at("marathon_config").is_object());
}

TEST(MarathonSimServer, CreatedGroupRunsItsTasksAndTheDeploymentFinishes) {
  MarathonSim sim(deterministic());
  auto r = sim.post("/v2/groups", topology("wc", 2));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("location"), sim.url() + "/v2/groups/heron/topologies/wc");
  const auto dep = r.header("marathon-deployment-id");
  ASSERT_FALSE(dep.empty());
  EXPECT_EQ(json::parse(r.body).at("deploymentId").as_string(), dep);
  ASSERT_EQ(deployment_count(sim), 1u);
  EXPECT_EQ(running(sim, "wc"), 0);

  sim.tick();  // staged
  auto g = group_of(sim, "wc");
  ASSERT_EQ(g.at("apps").as_array().size(), 3u);
  EXPECT_EQ(g.at("apps").as_array()[0].at("tasksStaged").as_int64(), 1);
  EXPECT_EQ(g.at("apps").as_array()[0].at("deployments").as_array()[0].at("id").as_string(), dep);

  sim.tick();  // running
  EXPECT_EQ(running(sim, "wc"), 3);
  EXPECT_EQ(deployment_count(sim), 0u);
  EXPECT_EQ(group_of(sim, "wc").at("apps").as_array()[0].at("deployments").as_array().size(), 0u);

  auto again = sim.post("/v2/groups", topology("wc", 2));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(json::parse(again.body).at("message").as_string(),
            "Group /heron/topologies/wc is already created. Use PUT to change this group.");
}

TEST(MarathonSimServer, AnswersTheControllersThreeObservationRequests) {
  MarathonSim sim(deterministic());
  ASSERT_EQ(sim.post("/v2/groups", topology("obs", 1)).status, 201);
  auto g = sim.get(kObserveGroups);
  ASSERT_EQ(g.status, 200) << g.body;
  auto root = json::parse(g.body).as_object();
  EXPECT_EQ(root.at("id").as_string(), "/heron/topologies");
  const auto& app = root.at("groups").as_array()[0].at("apps").as_array()[0].as_object();
  for (const char* k : {"id", "instances", "cpus", "mem", "disk", "labels", "container", "version", "versionInfo",
                        "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments"})
    EXPECT_TRUE(app.contains(k)) << k;
  EXPECT_FALSE(app.contains("tasks")) << "tasks only with embed=group.apps.tasks";
  EXPECT_FALSE(root.contains("pods")) << "pods only with embed=group.pods";

  auto d = sim.get("/v2/deployments");
  ASSERT_EQ(d.status, 200);
  const auto plans = json::parse(d.body);
  const auto& plan = plans.as_array()[0].as_object();
  for (const char* k : {"id", "version", "affectedApps", "affectedPods", "steps", "currentActions", "currentStep",
                        "totalSteps"})
    EXPECT_TRUE(plan.contains(k)) << k;

  auto q = sim.get("/v2/queue?embed=lastUnusedOffers");
  ASSERT_EQ(q.status, 200);
  EXPECT_TRUE(json::parse(q.body).at("queue").is_array());

  auto missing = sim.get("/v2/groups/heron/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body).at("message").as_string(), "Group '/heron/nothing' does not exist");
}

TEST(MarathonSimServer, RequestLogTellsWhichClientWrote) {
  MarathonSim sim(deterministic());
  sim.clear_requests();
  sim.post("/v2/groups", topology("ua", 0), {{"User-Agent", "heron-marathon-controller/0.1"}});
  sim.get("/v2/deployments", {{"User-Agent", "someone-else"}});
  auto log = sim.requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].path, "/v2/groups");
  EXPECT_EQ(log[0].status, 201);
  EXPECT_EQ(log[0].user_agent, "heron-marathon-controller/0.1");
  EXPECT_EQ(log[1].user_agent, "someone-else");
}

TEST(MarathonSimServer, ScaleByZeroSuspendsAndFreesTheAgent) {
  MarathonSim sim(deterministic({"cpus=2,mem=4096,disk=10000,ports=31000-31100"}));
  ASSERT_EQ(sim.post("/v2/groups", topology("sus", 1)).status, 201);
  sim.tick(2);
  ASSERT_EQ(running(sim, "sus"), 2);
  auto r = sim.put("/v2/groups/heron/topologies/sus?force=true", R"({"scaleBy":0})");
  ASSERT_EQ(r.status, 200) << r.body;
  sim.tick();
  EXPECT_EQ(running(sim, "sus"), 0);
  const auto suspended = group_of(sim, "sus");
  for (const auto& a : suspended.at("apps").as_array()) EXPECT_EQ(a.at("instances").as_int64(), 0);
  EXPECT_EQ(deployment_count(sim), 0u);
  // The agent is free again: another topology of the same size fits.
  ASSERT_EQ(sim.post("/v2/groups", topology("next", 1)).status, 201);
  sim.tick(2);
  EXPECT_EQ(running(sim, "next"), 2);
}

TEST(MarathonSimServer, LockedAppsAnswer409AndForceCancelsTheDeployment) {
  MarathonSim sim(deterministic());
  auto first = sim.post("/v2/groups", topology("lock", 0));
  ASSERT_EQ(first.status, 201);
  const auto dep = first.header("marathon-deployment-id");
  auto locked = sim.put("/v2/groups/heron/topologies/lock", R"({"scaleBy":2})");
  ASSERT_EQ(locked.status, 409) << locked.body;
  auto body = json::parse(locked.body);
  EXPECT_EQ(body.at("deployments").as_array()[0].at("id").as_string(), dep);
  EXPECT_NE(std::string(body.at("message").as_string()).find("locked by one or more deployments"), std::string::npos);

  auto forced = sim.put("/v2/groups/heron/topologies/lock?force=true", R"({"scaleBy":2})");
  ASSERT_EQ(forced.status, 200) << forced.body;
  auto list = json::parse(sim.get("/v2/deployments").body).as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(list[0].at("id").as_string(), dep);

  // Force-deleting the deployment only cancels it.
  auto cancel = sim.del("/v2/deployments/" + std::string(list[0].at("id").as_string()) + "?force=true");
  EXPECT_EQ(cancel.status, 202);
  EXPECT_EQ(deployment_count(sim), 0u);
}

TEST(MarathonSimServer, MaxRunningDeploymentsRefusesOneMoreWith403UntilOneFinishes) {
  MarathonSimOptions o = deterministic();
  o.extra_args = {"--max-running-deployments", "2"};
  MarathonSim sim(o);
  ASSERT_EQ(sim.post("/v2/groups", topology("a", 0)).status, 201);
  ASSERT_EQ(sim.post("/v2/groups", topology("b", 0)).status, 201);
  ASSERT_EQ(deployment_count(sim), 2u);
  for (const char* target : {"/v2/groups", "/v2/groups?force=true"}) {
    auto refused = sim.post(target, topology("c", 0));
    ASSERT_EQ(refused.status, 403) << target << " " << refused.body;
    EXPECT_EQ(json::parse(refused.body).at("message").as_string(),
              "Max number (2) of running deployments is achieved. Wait for existing deployments to complete or "
              "cancel oneusing force=true parameter. You can increase max deployment number by using "
              "--max_running_deployments parameter but be advised that this can have negative effects on the "
              "performance.");
  }
  // Nothing of the refused change was kept; reads and dry runs still answer.
  EXPECT_EQ(sim.get("/v2/groups/heron/topologies/c").status, 404);
  EXPECT_EQ(sim.put("/v2/groups/heron/topologies/a?dryRun=true", R"({"scaleBy":2})").status, 200);
  EXPECT_EQ(deployment_count(sim), 2u);

  sim.tick(3);  // both finish
  ASSERT_EQ(deployment_count(sim), 0u);
  EXPECT_EQ(sim.post("/v2/groups", topology("c", 0)).status, 201);
}

TEST(MarathonSimServer, AnAppThatFitsNoAgentWaitsWithGrowingInsufficientCpus) {
  MarathonSim sim(deterministic({"cpus=2,mem=8192,disk=10000,ports=31000-31100"}));
  ASSERT_EQ(sim.post("/v2/groups", topology("big", 0, 4, 1024)).status, 201);
  long before = 0;
  for (int round = 0; round < 3; ++round) {
    sim.tick();
    auto q = json::parse(sim.get("/v2/queue?embed=lastUnusedOffers").body);
    const auto& queue = q.at("queue").as_array();
    ASSERT_EQ(queue.size(), 1u);
    const auto& entry = queue[0].as_object();
    EXPECT_EQ(entry.at("app").at("id").as_string(), "/heron/topologies/big/0");
    EXPECT_TRUE(entry.at("delay").at("overdue").as_bool());
    const auto& summary = entry.at("processedOffersSummary").as_object();
    const auto& attempt = summary.at("rejectSummaryLaunchAttempt").as_array();
    ASSERT_EQ(attempt.size(), 10u);
    EXPECT_EQ(attempt[4].at("reason").as_string(), "InsufficientCpus");
    const long declined = attempt[4].at("declined").as_int64();
    EXPECT_GT(declined, before);
    before = declined;
    const auto& offers = entry.at("lastUnusedOffers").as_array();
    ASSERT_EQ(offers.size(), 1u);
    EXPECT_EQ(offers[0].at("reason").as_array()[0].as_string(), "InsufficientCpus");
  }
  // A bigger agent added at run time takes it.
  sim.add_agent(R"({"cpus":8,"mem":16384,"disk":100000,"ports":"31000-32000"})");
  sim.tick(2);
  EXPECT_EQ(running(sim, "big"), 1);
  EXPECT_EQ(json::parse(sim.get("/v2/queue").body).at("queue").as_array().size(), 0u);
}

TEST(MarathonSimServer, RemovedAgentLosesItsTasksAndTheyMove) {
  MarathonSim sim(deterministic({"id=a1,cpus=4,mem=8192", "id=a2,cpus=4,mem=8192"}));
  ASSERT_EQ(sim.post("/v2/groups", topology("mv", 0)).status, 201);
  sim.tick(2);
  auto tasks = json::parse(sim.get("/v2/apps/heron/topologies/mv/0/tasks").body).at("tasks").as_array();
  ASSERT_EQ(tasks.size(), 1u);
  const std::string agent(tasks[0].at("slaveId").as_string());
  sim.remove_agent(agent);
  auto app = group_of(sim, "mv").at("apps").as_array()[0].as_object();
  ASSERT_TRUE(app.contains("lastTaskFailure"));
  EXPECT_EQ(app.at("lastTaskFailure").at("state").as_string(), "TASK_LOST");
  sim.tick(2);
  tasks = json::parse(sim.get("/v2/apps/heron/topologies/mv/0/tasks").body).at("tasks").as_array();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_NE(tasks[0].at("slaveId").as_string(), agent);
}

TEST(MarathonSimServer, TokenIsRequiredWhenConfigured) {
  MarathonSimOptions o = deterministic();
  o.token = "s3cret";
  MarathonSim sim(o);
  auto none = sim.get("/v2/groups", {{"Authorization", "none"}});
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body).at("message").as_string(), "Not Authorized to perform this action!");
  EXPECT_EQ(sim.get("/v2/groups", {{"Authorization", "token=wrong"}}).status, 401);
  EXPECT_EQ(sim.get("/v2/groups").status, 200);  // the harness sends token=s3cret
}

TEST(MarathonSimServer, FaultsAnswerErrorsResetConnectionsAndFreezeOffers) {
  MarathonSim sim(deterministic());
  sim.set_faults(R"({"errorRate":1.0,"errorStatus":502})");
  EXPECT_EQ(sim.get("/v2/groups").status, 502);
  sim.set_faults(R"({"errorRate":0,"resetRate":1.0})");
  EXPECT_EQ(sim.get("/v2/groups").status, 0);
  auto log = sim.requests();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().status, 0);
  sim.set_faults(R"({"resetRate":0,"freezeOffers":true})");
  ASSERT_EQ(sim.post("/v2/groups", topology("frozen", 0)).status, 201);
  sim.tick(3);
  EXPECT_EQ(running(sim, "frozen"), 0);
  EXPECT_EQ(deployment_count(sim), 1u);
  sim.clear_faults();
  sim.tick(2);
  EXPECT_EQ(running(sim, "frozen"), 1);
  EXPECT_EQ(deployment_count(sim), 0u);
  auto bad = sim.post("/_sim/faults", R"({"nonsense":1})");
  EXPECT_EQ(bad.status, 400);
}

TEST(MarathonSimServer, LockHoldKeepsFinishedDeploymentsLocking) {
  MarathonSim sim(deterministic());
  sim.set_faults(R"({"lockHold":"1s"})");
  ASSERT_EQ(sim.post("/v2/groups", topology("hold", 0)).status, 201);
  sim.tick(2);
  EXPECT_EQ(running(sim, "hold"), 1);
  EXPECT_EQ(deployment_count(sim), 1u);
  EXPECT_EQ(sim.put("/v2/groups/heron/topologies/hold", R"({"scaleBy":0})").status, 409);
  sim.tick(10);  // 50ms offer period: 500ms more
  sim.tick(10);
  EXPECT_EQ(deployment_count(sim), 0u);
}

// Reads server-sent events from a raw connection.
class EventReader {
 public:
  EventReader(int port, const std::string& target) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
  }
  ~EventReader() { ::close(fd_); }
  // Waits until `text` appears in what was received.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (data_.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      data_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  const std::string& data() const { return data_; }

 private:
  int fd_ = -1;
  std::string data_;
};

TEST(MarathonSimServer, EventStreamSendsAttachedThenFilteredEvents) {
  MarathonSim sim(deterministic());
  EventReader all(sim.port(), "/v2/events");
  EventReader filtered(sim.port(), "/v2/events?event_type=deployment_success");
  ASSERT_TRUE(all.wait_for("event: event_stream_attached")) << all.data();
  ASSERT_TRUE(all.data().find("text/event-stream") != std::string::npos);
  ASSERT_EQ(sim.post("/v2/groups", topology("ev", 0)).status, 201);
  EXPECT_TRUE(all.wait_for("event: deployment_info"));
  EXPECT_TRUE(all.wait_for("event: group_change_success"));
  sim.tick(2);
  EXPECT_TRUE(all.wait_for("\"taskStatus\":\"TASK_RUNNING\""));
  EXPECT_TRUE(filtered.wait_for("event: deployment_success")) << filtered.data();
  EXPECT_EQ(filtered.data().find("event: deployment_info"), std::string::npos);
  EXPECT_EQ(filtered.data().find("event: event_stream_attached"), std::string::npos);
}

TEST(MarathonSimServer, RealTimeOfferCycleFinishesDeploymentsWithoutTicks) {
  MarathonSimOptions o;
  o.offer_period = "20ms";
  MarathonSim sim(o);
  ASSERT_EQ(sim.post("/v2/groups", topology("rt", 1)).status, 201);
  ASSERT_TRUE(hmc::testing::wait_until([&] { return running(sim, "rt") == 2 && deployment_count(sim) == 0; }, 10000ms));
}

// A group of two apps: /heron/topologies/<name>/0 and /1, the second fetching a package.
std::string fetching_topology(const std::string& name) {
  return R"({"id":"/heron/topologies/)" + name + R"(","apps":[
    {"id":"0","cmd":"./heron-executor --shard=0","cpus":0.5,"mem":256,"instances":1},
    {"id":"1","cmd":"./heron-executor --shard=1","cpus":0.5,"mem":256,"instances":1,
     "fetch":[{"uri":"http://packages.local/heron/)" + name + R"(/topology.tar.gz"}],
     "backoffSeconds":1,"backoffFactor":2,"maxLaunchDelaySeconds":3}]})";
}

json::object queue_delay(const MarathonSim& sim, const std::string& app) {
  const auto q = json::parse(sim.get("/v2/queue").body);
  for (const auto& e : q.at("queue").as_array())
    if (e.at("app").at("id").as_string() == app) return e.at("delay").as_object();
  return {};
}

std::string task_ids(const MarathonSim& sim, const std::string& app) {
  std::string out;
  const auto tasks = json::parse(sim.get("/v2/apps" + app + "/tasks").body);
  for (const auto& t : tasks.at("tasks").as_array())
    out += std::string(t.at("id").as_string()) + " " + std::string(t.at("state").as_string()) + ";";
  return out;
}

TEST(MarathonSimServer, FetchFaultFailsOneContainerWithGrowingBackoffUntilRemoved) {
  MarathonSim sim(deterministic());  // offer period 50 ms
  const auto fault = sim.add_task_fault(R"({"kind":"fetch","fetchUri":"*/topology.tar.gz"})");
  ASSERT_EQ(sim.post("/v2/groups", fetching_topology("ff")).status, 201);
  const std::string failing = "/heron/topologies/ff/1";
  sim.tick(2);  // staged, then: 0 runs, 1 fails
  auto g = group_of(sim, "ff");
  ASSERT_FALSE(g.empty());
  const auto& apps = g.at("apps").as_array();
  EXPECT_EQ(apps[0].at("tasksRunning").as_int64(), 1);
  EXPECT_FALSE(apps[0].as_object().contains("lastTaskFailure"));
  EXPECT_EQ(apps[1].at("tasksRunning").as_int64(), 0);
  const std::string msg(apps[1].at("lastTaskFailure").at("message").as_string());
  EXPECT_NE(msg.find("Failed to fetch all URIs for container"), std::string::npos) << msg;
  EXPECT_NE(msg.find("http://packages.local/heron/ff/topology.tar.gz"), std::string::npos) << msg;
  EXPECT_EQ(apps[1].at("lastTaskFailure").at("state").as_string(), "TASK_FAILED");
  // 1 s, then 2 s, then 3 s (capped) of backoff.
  auto d = queue_delay(sim, failing);
  EXPECT_EQ(d.at("timeLeftSeconds").as_int64(), 1);
  EXPECT_FALSE(d.at("overdue").as_bool());
  sim.tick(21);  // relaunched at the deadline (1 s = 20 cycles), failed one cycle later
  EXPECT_EQ(queue_delay(sim, failing).at("timeLeftSeconds").as_int64(), 2);
  sim.tick(41);
  EXPECT_EQ(queue_delay(sim, failing).at("timeLeftSeconds").as_int64(), 3);
  sim.tick(61);
  EXPECT_EQ(queue_delay(sim, failing).at("timeLeftSeconds").as_int64(), 3);
  EXPECT_EQ(deployment_count(sim), 1u) << "the deployment waits for the failing container";
  // Fault gone, delay reset: the next launch runs at once.
  sim.remove_task_fault(fault);
  EXPECT_EQ(sim.del("/v2/queue/" + failing + "/delay").status, 204);
  EXPECT_EQ(sim.del("/v2/queue/heron/topologies/ff/9/delay").status, 404);
  sim.tick(2);
  EXPECT_EQ(running(sim, "ff"), 2);
  EXPECT_EQ(deployment_count(sim), 0u);
  EXPECT_THROW(sim.remove_task_fault(fault), std::runtime_error);
  EXPECT_THROW(sim.add_task_fault(R"({"kind":"crash","app":"/x"})"), std::runtime_error);
}

TEST(MarathonSimServer, ExitFaultFromTheCommandLineAndRestartOfOneContainer) {
  auto o = deterministic();
  o.extra_args = {"--task-fault", R"({"kind":"exit","app":"/heron/topologies/ex/1","afterRunning":"1s","exitCode":137,"id":"crash"})"};
  MarathonSim sim(o);
  const auto listed = json::parse(sim.get("/_sim/task-faults").body).at("taskFaults").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("id").as_string(), "crash");
  ASSERT_EQ(sim.post("/v2/groups", topology("ex", 1, 0.5, 256)).status, 201);
  sim.tick(2);
  EXPECT_EQ(running(sim, "ex"), 2) << "the crashing container runs first";
  sim.tick(20);  // ran 1 s: exits
  auto app = json::parse(sim.get("/v2/apps/heron/topologies/ex/1").body).at("app");
  EXPECT_EQ(app.at("lastTaskFailure").at("message").as_string(), "Command exited with status 137");
  EXPECT_EQ(app.at("tasksRunning").as_int64(), 0);
  sim.clear_task_faults();
  EXPECT_TRUE(json::parse(sim.get("/_sim/task-faults").body).at("taskFaults").as_array().empty());
  // Restarting one container replaces only its task (force: the failing
  // app's deployment still holds the lock).
  sim.tick(40);
  ASSERT_EQ(running(sim, "ex"), 2);
  const auto other = task_ids(sim, "/heron/topologies/ex/0");
  const auto before = task_ids(sim, "/heron/topologies/ex/1");
  auto r = sim.post("/v2/apps/heron/topologies/ex/1/restart?force=true", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body).as_object().contains("deploymentId"));
  sim.tick(3);
  EXPECT_EQ(running(sim, "ex"), 2);
  EXPECT_NE(task_ids(sim, "/heron/topologies/ex/1"), before);
  EXPECT_EQ(task_ids(sim, "/heron/topologies/ex/0"), other);
}

TEST(MarathonSimServer, RejectsBadCommandLinesWithAClearMessage) {
  auto r = hmc::testing::run_command({MarathonSim::binary_path(), "--agent", "cpus=lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE((r.out + r.err).find("cpus=lots is not a non-negative number"), std::string::npos) << r.out << r.err;
  r = hmc::testing::run_command({MarathonSim::binary_path(), "--offer-period", "5 parsecs"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE((r.out + r.err).find("--offer-period"), std::string::npos) << r.out << r.err;
  r = hmc::testing::run_command({MarathonSim::binary_path(), "--task-fault", R"({"kind":"exit"})"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE((r.out + r.err).find("--task-fault"), std::string::npos) << r.out << r.err;
  r = hmc::testing::run_command({MarathonSim::binary_path(), "--agents-file", "/nonexistent/agents.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE((r.out + r.err).find("/nonexistent/agents.yaml"), std::string::npos) << r.out << r.err;
}

}  // namespace

namespace {

TEST(MarathonSimServer, DebiansPythonMarathonClientCreatesListsScalesAndDeletes) {
  MarathonSimOptions o;
  o.offer_period = "20ms";
  MarathonSim sim(o);
  const std::string script = std::string(HMC_SOURCE_DIR) + "/test/integration/marathon_sim/python_marathon_client.py";
  auto r = hmc::testing::run_command({"/usr/bin/python3", script, sim.url()}, {}, std::chrono::milliseconds{120000});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("all checks passed"), std::string::npos) << r.out;
  // The library's requests are in the log under its own User-Agent.
  bool seen = false;
  for (const auto& req : sim.requests()) seen = seen || req.user_agent.find("python-requests") != std::string::npos;
  EXPECT_TRUE(seen);
}

}  // namespace
