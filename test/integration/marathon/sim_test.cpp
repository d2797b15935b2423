// The Marathon client against marathon-sim: a topology group's whole life
// (create, update, scale to zero and back, delete), deployment locks, the
// launch queue of an app no offer fits, and the event stream.

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

}  // namespace
}  // namespace hmc::marathon
