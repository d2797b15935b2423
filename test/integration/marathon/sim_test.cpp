// The Marathon client against marathon-sim: a topology group's whole life
// (create, update, scale to zero and back, delete), deployment locks, the
// launch queue of an app no offer fits, the event stream, restarts and launch
// delays.

#include "hmc/marathon/marathon_client.hpp"
#include "hmc/testing/marathon_sim.hpp"
#include "hmc/testing/process.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

namespace hmc::marathon {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRoot = "/heron/topologies";
constexpr const char* kGroup = "/heron/topologies/wc";

std::string app_json(int index, double cpus, int instances, const std::string& cmd) {
  return R"({"id":"/heron/topologies/wc/)" + std::to_string(index) + R"(","cmd":")" + cmd +
         R"(","cpus":)" + std::to_string(cpus) + R"(,"mem":64,"disk":0,"instances":)" + std::to_string(instances) +
         R"(,"labels":{"heron-marathon/managed-by":"heron-marathon-controller","heron-marathon/container":")" +
         std::to_string(index) + R"("}})";
}

std::string group_json(double cpus, int instances, const std::string& cmd) {
  return R"({"id":"/heron/topologies/wc","apps":[)" + app_json(0, cpus, instances, cmd) + "," +
         app_json(1, cpus, instances, cmd) + "]}";
}

std::unique_ptr<MarathonClient> client_for(const hmc::testing::MarathonSim& sim, const std::string& token = {}) {
  MarathonOptions options;
  options.base_url = sim.url();
  options.token = token;
  options.user_agent_suffix = "sim-test";
  options.event_backoff_initial = 50ms;
  auto c = make_client(options);
  EXPECT_TRUE(c) << c.error().message;
  return std::move(*c);
}

// Waits until an observation satisfies `pred`; returns the last snapshot.
reconciler::MarathonSnapshot observe_until(MarathonClient& client,
                                           const std::function<bool(const reconciler::MarathonSnapshot&)>& pred) {
  reconciler::MarathonSnapshot last;
  hmc::testing::wait_until(
      [&] {
        auto s = client.observe(kRoot);
        if (!s) return false;
        last = std::move(*s);
        return pred(last);
      },
      20s, 50ms);
  return last;
}

bool settled(const reconciler::MarathonSnapshot& s, int instances) {
  auto it = s.groups.find(kGroup);
  if (it == s.groups.end() || it->second.apps.size() != 2 || !s.deployments.empty()) return false;
  for (const auto& app : it->second.apps) {
    if (app.instances != instances || app.tasks_running != instances || !app.deployment_ids.empty()) return false;
  }
  return true;
}

TEST(MarathonClientOnSim, GroupLifecycle) {
  hmc::testing::MarathonSim sim;
  auto client = client_for(sim);

  std::mutex mutex;
  std::vector<std::string> event_types;
  client->subscribe_events({"deployment_success", "group_change_success"},
                           [&](const std::string& type, const std::string&) {
                             std::lock_guard lock(mutex);
                             event_types.push_back(type);
                           });

  auto empty = client->observe(kRoot);
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->groups.empty());

  auto created = client->create_group(group_json(0.1, 1, "sleep 1000"));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(created->deployment_id.empty());
  auto running = observe_until(*client, [](const auto& s) { return settled(s, 1); });
  ASSERT_TRUE(settled(running, 1));
  const auto& app0 = running.groups.at(kGroup).apps.at(0);
  EXPECT_EQ(app0.id, "/heron/topologies/wc/0");
  EXPECT_EQ(app0.cmd_digest, hmc::reconciler::text_digest("sleep 1000"));
  EXPECT_EQ(app0.labels.at("heron-marathon/container"), "0");

  auto again = client->create_group(group_json(0.1, 1, "sleep 1000"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::conflict) << again.error().message;

  auto updated = client->update_group(kGroup, group_json(0.1, 1, "sleep 2000"), false);
  ASSERT_TRUE(updated) << updated.error().message;
  auto restarted = observe_until(*client, [](const auto& s) {
    return settled(s, 1) && s.groups.at(kGroup).apps.at(1).cmd_digest == hmc::reconciler::text_digest("sleep 2000");
  });
  EXPECT_EQ(restarted.groups.at(kGroup).apps.at(1).cmd_digest, hmc::reconciler::text_digest("sleep 2000"));

  auto suspended = client->scale_group(kGroup, 0, false);
  ASSERT_TRUE(suspended) << suspended.error().message;
  EXPECT_TRUE(settled(observe_until(*client, [](const auto& s) { return settled(s, 0); }), 0));

  ASSERT_TRUE(client->update_group(kGroup, group_json(0.1, 1, "sleep 2000"), false));
  EXPECT_TRUE(settled(observe_until(*client, [](const auto& s) { return settled(s, 1); }), 1));

  auto deleted = client->delete_group(kGroup, false);
  ASSERT_TRUE(deleted) << deleted.error().message;
  auto gone = observe_until(*client, [](const auto& s) { return s.groups.empty() && s.deployments.empty(); });
  EXPECT_TRUE(gone.groups.empty());
  auto missing = client->delete_group(kGroup, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found) << missing.error().message;

  EXPECT_TRUE(hmc::testing::wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return std::count(event_types.begin(), event_types.end(), "deployment_success") >= 4;
      },
      10s));

  // The simulator's log tells this client apart and shows the bulk reads.
  bool saw_groups_read = false;
  for (const auto& r : sim.requests()) {
    if (r.path.starts_with("/v2/groups/heron/topologies?embed=group.groups")) saw_groups_read = true;
    if (r.path.starts_with("/v2/") ) {
      EXPECT_NE(r.user_agent.find("sim-test"), std::string::npos) << r.method << " " << r.path;
    }
  }
  EXPECT_TRUE(saw_groups_read);
}

TEST(MarathonClientOnSim, LockedDeploymentAndWaitingQueue) {
  hmc::testing::MarathonSimOptions options;
  options.agents = {"cpus=2,mem=4096,disk=10000,ports=31000-31100"};
  hmc::testing::MarathonSim sim(options);
  auto client = client_for(sim);

  // 8 cpus per app on 2-cpu agents: Marathon keeps trying, the deployment stays.
  auto created = client->create_group(group_json(8, 1, "sleep 1000"));
  ASSERT_TRUE(created) << created.error().message;
  auto waiting = observe_until(*client, [](const auto& s) {
    for (const auto& q : s.queue) {
      if (q.overdue && !q.reject_summary_last_offers.empty() && q.processed_offers > 0) return true;
    }
    return false;
  });
  ASSERT_FALSE(waiting.deployments.empty());
  ASSERT_FALSE(waiting.queue.empty());
  auto listed = client->list_deployments();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), waiting.deployments.size());
  EXPECT_EQ(listed->front().id, waiting.deployments.front().id);
  EXPECT_EQ(listed->front().affected_apps, waiting.deployments.front().affected_apps);
  const auto& entry = waiting.queue.front();
  EXPECT_TRUE(entry.app_id.starts_with(kGroup)) << entry.app_id;
  bool cpus_declined = false;
  for (const auto& r : entry.reject_summary_last_offers) {
    if (r.reason == "InsufficientCpus" && r.declined > 0) cpus_declined = true;
  }
  EXPECT_TRUE(cpus_declined);

  auto locked = client->update_group(kGroup, group_json(0.1, 1, "sleep 1000"), false);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().kind, ErrorKind::locked) << locked.error().message;
  EXPECT_NE(locked.error().message.find(waiting.deployments.front().id), std::string::npos)
      << locked.error().message;

  auto forced = client->update_group(kGroup, group_json(0.1, 1, "sleep 1000"), true);
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_TRUE(settled(observe_until(*client, [](const auto& s) { return settled(s, 1); }), 1));
}

TEST(MarathonClientOnSim, TokenIsRequiredAndSent) {
  hmc::testing::MarathonSimOptions options;
  options.token = "sim-token";
  hmc::testing::MarathonSim sim(options);
  auto anonymous = client_for(sim)->observe(kRoot);
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().kind, ErrorKind::unauthorized) << anonymous.error().message;
  auto authorized = client_for(sim, "sim-token")->observe(kRoot);
  EXPECT_TRUE(authorized) << authorized.error().message;
}

// Restarts and launch delays: POST /v2/apps/<id>/restart and
// DELETE /v2/queue/<id>/delay, as Marathon's AppsResource and QueueResource
// answer them (the RAML's `deployable` trait: 200 with the deployment, 409
// while another deployment holds the app unless force=true, which cancels
// it; 404 for an unknown app, and for resetDelay any app not in the queue).

constexpr const char* kApp0 = "/heron/topologies/wc/0";
constexpr const char* kApp1 = "/heron/topologies/wc/1";

hmc::testing::MarathonSimOptions stepped() {
  hmc::testing::MarathonSimOptions options;
  options.deterministic = true;  // offer cycles only through tick()
  return options;
}

// Runs offer cycles until an observation satisfies `pred`; returns it.
reconciler::MarathonSnapshot tick_until(hmc::testing::MarathonSim& sim, MarathonClient& client,
                                        const std::function<bool(const reconciler::MarathonSnapshot&)>& pred) {
  reconciler::MarathonSnapshot last;
  for (int cycle = 0; cycle < 400; ++cycle) {
    auto s = client.observe(kRoot);
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return last;
    last = std::move(*s);
    if (pred(last)) return last;
    sim.tick();
  }
  ADD_FAILURE() << "no such state within 400 offer cycles";
  return last;
}

const reconciler::ObservedApp* app_of(const reconciler::MarathonSnapshot& s, const std::string& id) {
  auto g = s.groups.find(kGroup);
  if (g == s.groups.end()) return nullptr;
  for (const auto& a : g->second.apps)
    if (a.id == id) return &a;
  return nullptr;
}

const reconciler::QueueEntry* queued(const reconciler::MarathonSnapshot& s, const std::string& id) {
  for (const auto& q : s.queue)
    if (q.app_id == id) return &q;
  return nullptr;
}

// App 1 fetches a package a task fault makes fail, with a 100 s launch
// backoff (2000 offer cycles: it stays while the test runs).
std::string failing_group_json() {
  return R"({"id":"/heron/topologies/wc","apps":[)" + app_json(0, 0.1, 1, "sleep 1000") +
         R"(,{"id":"/heron/topologies/wc/1","cmd":"sleep 1000","cpus":0.1,"mem":64,"disk":0,"instances":1,
         "fetch":[{"uri":"http://packages.local/wc/topology.tar.gz"}],
         "backoffSeconds":100,"backoffFactor":1,"maxLaunchDelaySeconds":100}]})";
}

int status_of(const hmc::testing::MarathonSim& sim, const std::string& method, const std::string& path) {
  int status = 0;
  for (const auto& r : sim.requests())
    if (r.method == method && r.path == path) status = r.status;
  return status;
}

TEST(MarathonClientOnSim, RestartReplacesTheTasksOfThatAppOnly) {
  hmc::testing::MarathonSim sim(stepped());
  auto client = client_for(sim);
  ASSERT_TRUE(client->create_group(group_json(0.1, 1, "sleep 1000")));
  tick_until(sim, *client, [](const auto& s) { return settled(s, 1); });
  const auto before0 = sim.task_ids(kApp0);
  const auto before1 = sim.task_ids(kApp1);
  ASSERT_EQ(before0.size(), 1u);
  ASSERT_EQ(before1.size(), 1u);

  auto restarted = client->restart_app(kApp1, false);
  ASSERT_TRUE(restarted) << restarted.error().message;
  ASSERT_FALSE(restarted->deployment_id.empty());
  auto deployments = client->list_deployments();
  ASSERT_TRUE(deployments) << deployments.error().message;
  ASSERT_EQ(deployments->size(), 1u);
  const auto& d = deployments->front();
  EXPECT_EQ(d.id, restarted->deployment_id);
  EXPECT_EQ(d.affected_apps, (std::vector<std::string>{kApp1}));
  ASSERT_EQ(d.current_actions.size(), 1u);
  EXPECT_EQ(d.current_actions[0].action, "RestartApplication");
  EXPECT_EQ(d.current_actions[0].app, kApp1);

  auto after = tick_until(sim, *client, [](const auto& s) { return settled(s, 1); });
  const auto after1 = sim.task_ids(kApp1);
  ASSERT_EQ(after1.size(), 1u);
  EXPECT_NE(after1, before1) << "the restarted app runs a new task";
  EXPECT_EQ(sim.task_ids(kApp0), before0) << "the other app is untouched";
  // A restart is a new config version of the app (its failures start afresh).
  ASSERT_TRUE(app_of(after, kApp1) && app_of(after, kApp0));
  EXPECT_GT(app_of(after, kApp1)->config_version, app_of(after, kApp0)->config_version);

  auto unknown = client->restart_app("/heron/topologies/wc/9", false);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::not_found) << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("App '/heron/topologies/wc/9' does not exist"), std::string::npos)
      << unknown.error().message;
  EXPECT_EQ(status_of(sim, "POST", "/v2/apps/heron/topologies/wc/9/restart?force=false"), 404);
}

TEST(MarathonClientOnSim, FailingAppDelayResetAndForcedRestart) {
  hmc::testing::MarathonSim sim(stepped());
  auto client = client_for(sim);
  const auto fault = sim.add_task_fault(R"({"kind":"fetch","fetchUri":"*/wc/topology.tar.gz"})");
  auto created = client->create_group(failing_group_json());
  ASSERT_TRUE(created) << created.error().message;
  auto failing = tick_until(sim, *client, [](const auto& s) {
    const auto* a = app_of(s, kApp1);
    const auto* q = queued(s, kApp1);
    return a && a->failure && q && !q->overdue;
  });
  ASSERT_TRUE(queued(failing, kApp1));
  EXPECT_GT(queued(failing, kApp1)->delay_time_left_seconds, 90);
  const auto* app1 = app_of(failing, kApp1);
  ASSERT_TRUE(app1 && app1->failure);
  EXPECT_EQ(app1->failure->state, "TASK_FAILED");
  EXPECT_NE(app1->failure->message.find("http://packages.local/wc/topology.tar.gz"), std::string::npos);
  // The creating deployment waits for the failing app and holds it.
  ASSERT_EQ(failing.deployments.size(), 1u);
  EXPECT_EQ(failing.deployments.front().id, created->deployment_id);
  const auto app0_tasks = sim.task_ids(kApp0);
  ASSERT_EQ(app0_tasks.size(), 1u);

  // The launch delay is gone: the queue shows the app overdue, no time left.
  auto reset = client->reset_launch_delay(kApp1);
  ASSERT_TRUE(reset) << reset.error().message;
  EXPECT_EQ(status_of(sim, "DELETE", "/v2/queue/heron/topologies/wc/1/delay"), 204);
  auto after_reset = client->observe(kRoot);
  ASSERT_TRUE(after_reset) << after_reset.error().message;
  ASSERT_TRUE(queued(*after_reset, kApp1));
  EXPECT_TRUE(queued(*after_reset, kApp1)->overdue);
  EXPECT_EQ(queued(*after_reset, kApp1)->delay_time_left_seconds, 0);

  auto locked = client->restart_app(kApp1, false);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().kind, ErrorKind::locked) << locked.error().message;
  EXPECT_NE(locked.error().message.find(created->deployment_id), std::string::npos) << locked.error().message;

  // force=true cancels the deployment holding the app and starts the restart.
  auto forced = client->restart_app(kApp1, true);
  ASSERT_TRUE(forced) << forced.error().message;
  ASSERT_FALSE(forced->deployment_id.empty());
  EXPECT_NE(forced->deployment_id, created->deployment_id);
  auto deployments = client->list_deployments();
  ASSERT_TRUE(deployments) << deployments.error().message;
  ASSERT_EQ(deployments->size(), 1u);
  EXPECT_EQ(deployments->front().id, forced->deployment_id);
  EXPECT_EQ(deployments->front().affected_apps, (std::vector<std::string>{kApp1}));

  // With the fault gone the restarted app runs; app 0 kept its task.
  sim.remove_task_fault(fault);
  tick_until(sim, *client, [](const auto& s) { return settled(s, 1); });
  EXPECT_EQ(sim.task_ids(kApp1).size(), 1u);
  EXPECT_EQ(sim.task_ids(kApp0), app0_tasks);
}

TEST(MarathonClientOnSim, ResetLaunchDelayOfAnAppNotQueuedIsDone) {
  hmc::testing::MarathonSim sim(stepped());
  auto client = client_for(sim);
  ASSERT_TRUE(client->create_group(group_json(0.1, 1, "sleep 1000")));
  tick_until(sim, *client, [](const auto& s) { return settled(s, 1) && s.queue.empty(); });
  // Marathon answers 404 "not found in tasks queue" for a running app and for
  // an unknown one: nothing to reset, so the call succeeds.
  auto running = client->reset_launch_delay(kApp0);
  EXPECT_TRUE(running) << running.error().message;
  EXPECT_EQ(status_of(sim, "DELETE", "/v2/queue/heron/topologies/wc/0/delay"), 404);
  auto unknown = client->reset_launch_delay("/heron/topologies/wc/9");
  EXPECT_TRUE(unknown) << unknown.error().message;
  EXPECT_EQ(status_of(sim, "DELETE", "/v2/queue/heron/topologies/wc/9/delay"), 404);
  EXPECT_TRUE(settled(*client->observe(kRoot), 1)) << "nothing changed";
}

}  // namespace
}  // namespace hmc::marathon
