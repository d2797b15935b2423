// The renderings of apps and groups the simulator keeps for GET /v2/groups and
// GET /v2/apps answer byte for byte what a fresh rendering answers, through
// every kind of change. The same random walk checks the index of unsettled
// apps that offer cycles and GET /v2/queue look at instead of every app.
#include "sim_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace hmc::marathon_sim::testing {
namespace {

namespace json = boost::json;

const char* kObserve =
    "/v2/groups/t?embed=group.groups&embed=group.apps&embed=group.apps.counts&embed=group.apps.deployments"
    "&embed=group.apps.lastTaskFailure";

// More embed sets than an app or group keeps renderings for, so renderings are also replaced.
const std::vector<std::string> kTargets = {
    kObserve,
    "/v2/groups",
    "/v2/groups?embed=group.groups&embed=group.apps&embed=group.apps.counts,group.apps.tasks"
    "&embed=group.apps.deployments&embed=group.apps.lastTaskFailure&embed=group.apps.readiness"
    "&embed=group.apps.taskStats",
    "/v2/groups/t/g1?embed=group.groups&embed=group.apps&embed=group.apps.tasks",
    "/v2/apps",
    "/v2/apps?embed=apps.tasks&embed=apps.lastTaskFailure&embed=apps.readiness",
};

SimOptions small_cluster() {
  return deterministic_options({"cpus=2,mem=1024,ports=31000-31004,attr.rack=r1",
                                "cpus=2,mem=1024,ports=31000-31004,attr.rack=r2", "cpus=1,mem=512,ports=31000-31001"});
}

std::string first_difference(const std::string& a, const std::string& b) {
  std::size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  const auto from = at < 80 ? 0 : at - 80;
  return "at byte " + std::to_string(at) + " (sizes " + std::to_string(a.size()) + ", " + std::to_string(b.size()) +
         ")\n  kept:  ..." + a.substr(from, 200) + "\n  fresh: ..." + b.substr(from, 200);
}

// What the random walk below met, so a walk that missed a kind of change fails.
struct Seen {
  bool tasks_running = false, last_failure = false, deployments = false, queued = false;
};

// `target` answered with kept renderings twice (the second from what the
// first kept) and rendered afresh: all three the same.
void expect_same_answer(SimDriver& d, const std::string& target, const std::string& step, Seen& seen) {
  const auto first = d.call("GET", target);
  const auto second = d.call("GET", target);
  d.sim.set_render_cache(false);
  const auto fresh = d.call("GET", target);
  d.sim.set_render_cache(true);
  ASSERT_EQ(first.status, fresh.status) << step << "\n" << target;
  ASSERT_TRUE(first.body == fresh.body) << step << "\n" << target << "\n" << first_difference(first.body, fresh.body);
  ASSERT_TRUE(second.body == fresh.body) << step << "\n" << target << " (from kept renderings)\n"
                                         << first_difference(second.body, fresh.body);
  if (fresh.body.find("\"TASK_RUNNING\"") != std::string::npos) seen.tasks_running = true;
  if (fresh.body.find("\"lastTaskFailure\"") != std::string::npos) seen.last_failure = true;
  if (fresh.body.find("\"deployments\":[{") != std::string::npos) seen.deployments = true;
  for (const auto& [id, app] : d.sim.apps()) {
    ASSERT_LE(app.renderings.size(), kRenderingsKept) << id;
    if (app.tasks.size() < static_cast<std::size_t>(app.spec.instances)) seen.queued = true;
  }
  for (const auto& [id, g] : d.sim.groups()) ASSERT_LE(g.renderings.size(), kRenderingsKept) << id;
}

class RandomWalk {
 public:
  explicit RandomWalk(std::uint64_t seed) : d_(small_cluster()), rng_(seed) {}

  // One random change; returns what it was, for failure messages.
  std::string step() {
    const int op = pick(18);
    switch (op) {
      case 0:
      case 1: return create_group();
      case 2: {
        const auto id = "/t/g" + std::to_string(pick(4)) + "/x" + std::to_string(counter_++);
        return send("POST", "/v2/apps", app_json(id));
      }
      case 3: {
        const auto app = random_app();
        if (app.empty()) return "no app to scale";
        return send("PUT", "/v2/apps" + app + force(), "{\"instances\":" + std::to_string(pick(4)) + "}");
      }
      case 4: {
        const auto app = random_app();
        if (app.empty()) return "no app to change";
        return send("PUT", "/v2/apps" + app + force(), "{\"cmd\":\"sleep " + std::to_string(pick(5)) + "\"}");
      }
      case 5: {
        const auto app = random_app();
        if (app.empty()) return "no app to restart";
        return send("POST", "/v2/apps" + app + "/restart" + force(), "");
      }
      case 6: {
        const auto g = random_group();
        const char* factors[] = {"0", "0.5", "1", "2"};
        return send("PUT", "/v2/groups" + g + force(), std::string("{\"scaleBy\":") + factors[pick(4)] + "}");
      }
      case 7: {
        const auto g = random_group();
        std::string body = "{\"apps\":[";
        const int n = pick(3);
        for (int i = 0; i < n; ++i) body += (i ? "," : "") + app_json(g + "/y" + std::to_string(pick(3)));
        return send("PUT", "/v2/groups" + g + force(), body + "]}");
      }
      case 8: {
        const auto app = random_app();
        if (app.empty()) return "no app to delete";
        return send("DELETE", "/v2/apps" + app, "");
      }
      case 9: {
        const auto g = random_group();
        return send("DELETE", "/v2/groups" + g + force(), "");
      }
      case 10:
      case 11: {
        const int cycles = 1 + pick(3);
        d_.tick(cycles);
        return "tick " + std::to_string(cycles);
      }
      case 12: {
        const auto& agents = d_.sim.agents();
        if (agents.size() > 1 && pick(2) == 0) {
          auto it = std::next(agents.begin(), pick(static_cast<int>(agents.size())));
          return send("DELETE", "/_sim/agents/" + it->first, "");
        }
        return send("POST", "/_sim/agents", "cpus=2,mem=1024,ports=31000-31004,attr.rack=r" + std::to_string(pick(3)));
      }
      case 13: {
        const auto& ds = d_.sim.deployments();
        if (ds.empty()) return "no deployment to delete";
        const auto id = ds[static_cast<std::size_t>(pick(static_cast<int>(ds.size())))].id;
        return send("DELETE", "/v2/deployments/" + id + (pick(2) ? "?force=true" : ""), "");
      }
      case 14: {
        const char* faults[] = {R"({"lockHold":"300ms"})", R"({"lockHold":0})", R"({"freezeOffers":true})",
                                R"({"freezeOffers":false})"};
        return send("PUT", "/_sim/faults", faults[pick(4)]);
      }
      case 15: {
        const auto g = random_group();
        auto versions = d_.json("GET", "/v2/groups" + g + "/versions");
        if (!versions.is_array() || versions.as_array().empty()) return "no versions of " + g;
        const auto& vs = versions.as_array();
        const std::string v(vs[static_cast<std::size_t>(pick(static_cast<int>(vs.size())))].as_string());
        return send("PUT", "/v2/groups" + g + "?force=true", "{\"version\":\"" + v + "\"}");
      }
      case 16: {
        const auto g = random_group();
        const char* deps[] = {"[]", "[\"/t/g0\"]", "[\"/t/g1\",\"/t/g2\"]"};
        return send("PUT", "/v2/groups" + g + force(), std::string("{\"dependencies\":") + deps[pick(3)] + "}");
      }
      default: {
        std::string body = "[";
        const auto a = random_app(), b = random_app();
        if (a.empty()) return "no app for a bulk update";
        body += "{\"id\":\"" + a + "\",\"instances\":" + std::to_string(pick(3)) + "}";
        if (!b.empty() && b != a) body += ",{\"id\":\"" + b + "\",\"cmd\":\"sleep " + std::to_string(pick(5)) + "\"}";
        return send("PUT", "/v2/apps" + force(), body + "]");
      }
    }
  }

  SimDriver& driver() { return d_; }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  std::string force() { return pick(3) == 0 ? "?force=true" : ""; }

  std::string send(const std::string& method, const std::string& target, const std::string& body) {
    const auto r = d_.call(method, target, body);
    return method + " " + target + " " + body + " -> " + std::to_string(r.status);
  }

  std::string app_json(const std::string& id) {
    std::string s = "{\"id\":\"" + id + "\",\"cmd\":\"sleep " + std::to_string(pick(5)) +
                    "\",\"cpus\":0.5,\"mem\":128,\"instances\":" + std::to_string(pick(4));
    if (pick(3) == 0) s += ",\"portDefinitions\":[{\"port\":0},{\"port\":0}]";
    if (pick(3) == 0) s += ",\"healthChecks\":[{\"protocol\":\"COMMAND\",\"command\":{\"value\":\"true\"}}]";
    if (pick(4) == 0) s += ",\"constraints\":[[\"hostname\",\"UNIQUE\"]]";
    if (pick(6) == 0) s += ",\"constraints\":[[\"rack\",\"IS\",\"r2\"]]";
    return s + "}";
  }

  std::string create_group() {
    const auto g = "/t/g" + std::to_string(pick(4));
    std::string body = "{\"id\":\"" + g + "\",\"apps\":[";
    const int n = 1 + pick(3);
    for (int i = 0; i < n; ++i) body += (i ? "," : "") + app_json(g + "/a" + std::to_string(i));
    body += "]";
    if (pick(2)) body += ",\"groups\":[{\"id\":\"" + g + "/s\",\"apps\":[" + app_json(g + "/s/b") + "]}]";
    if (pick(3) == 0) body += ",\"dependencies\":[\"/t/g0\"]";
    body += "}";
    // A POST to an existing group is refused; a PUT replaces it.
    if (d_.sim.groups().count(g)) return send("PUT", "/v2/groups" + g + force(), body);
    return send("POST", "/v2/groups", body);
  }

  std::string random_app() {
    std::vector<std::string> ids;
    for (const auto& [id, app] : d_.sim.apps()) ids.push_back(id);
    if (ids.empty()) return {};
    std::sort(ids.begin(), ids.end());
    return ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))];
  }

  std::string random_group() {
    std::vector<std::string> ids;
    for (const auto& [id, g] : d_.sim.groups())
      if (id.starts_with("/t/")) ids.push_back(id);
    if (ids.empty()) return "/t/g0";
    return ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))];
  }

  SimDriver d_;
  std::mt19937_64 rng_;
  int counter_ = 0;
};

// Renderings are kept from step to step: the controller's observation after
// every change, and one other embed set that changes every few dozen steps (an
// app or group keeps renderings of two embed sets).
TEST(SimRenderCache, AnswersAsAFreshRenderingThroughRandomChanges) {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    RandomWalk walk(seed);
    Seen seen;
    for (int i = 0; i < 300; ++i) {
      const auto step = "seed " + std::to_string(seed) + ", step " + std::to_string(i) + ": " + walk.step();
      expect_same_answer(walk.driver(), kObserve, step, seen);
      expect_same_answer(walk.driver(), kTargets[1 + static_cast<std::size_t>(i / 40) % (kTargets.size() - 1)], step,
                         seen);
      if (::testing::Test::HasFatalFailure()) return;
    }
    EXPECT_TRUE(seen.tasks_running) << "seed " << seed;
    EXPECT_TRUE(seen.last_failure) << "seed " << seed;
    EXPECT_TRUE(seen.deployments) << "seed " << seed;
    EXPECT_TRUE(seen.queued) << "seed " << seed;
  }
}

// Every app left out of the index is settled: as many tasks as instances, all
// running at the current config. So an offer cycle that looks only at the
// index misses nothing, and GET /v2/queue lists exactly the apps short of tasks.
TEST(SimUnsettledIndex, EveryAppLeftOutIsSettledThroughRandomChanges) {
  int left_out = 0;
  for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    RandomWalk walk(seed);
    auto& d = walk.driver();
    for (int i = 0; i < 300; ++i) {
      const auto step = "seed " + std::to_string(seed) + ", step " + std::to_string(i) + ": " + walk.step();
      std::set<std::string> short_of_tasks;
      for (const auto& [id, app] : d.sim.apps()) {
        if (app.tasks.size() < static_cast<std::size_t>(app.spec.instances)) short_of_tasks.insert(id);
        if (d.sim.unsettled().count(id)) continue;
        ++left_out;
        ASSERT_EQ(app.tasks.size(), static_cast<std::size_t>(app.spec.instances)) << step << "\n" << id;
        for (const auto& t : app.tasks) {
          ASSERT_EQ(t.state, TaskState::running) << step << "\n" << t.id;
          ASSERT_EQ(t.version, app.last_config_change_at) << step << "\n" << t.id;
        }
      }
      std::set<std::string> queued;
      const auto queue = d.json("GET", "/v2/queue");
      for (const auto& q : queue.at("queue").as_array())
        queued.insert(std::string(q.at("app").at("id").as_string()));
      ASSERT_EQ(queued, short_of_tasks) << step;
    }
  }
  EXPECT_GT(left_out, 1000);  // the walk did leave settled apps out, many times
}

std::map<std::string, std::uint64_t> revisions(const Simulator& sim) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [id, app] : sim.apps()) out["app " + id] = app.revision;
  for (const auto& [id, g] : sim.groups()) out["group " + id] = g.revision;
  return out;
}

TEST(SimRenderCache, UnrelatedChangesKeepAnAppsRendering) {
  SimDriver d(small_cluster());
  ASSERT_EQ(d.call("POST", "/v2/groups", R"({"id":"/t/g1","apps":[{"id":"a","cmd":"x","cpus":0.1,"mem":64}]})").status,
            201);
  d.tick(3);
  ASSERT_TRUE(d.sim.deployments().empty());
  ASSERT_EQ(d.sim.task_count(), 1u);
  ASSERT_EQ(d.call("GET", kObserve).status, 200);
  const auto& app = d.sim.apps().at("/t/g1/a");
  ASSERT_EQ(app.renderings.size(), 1u);
  EXPECT_EQ(app.renderings.front().revision, app.revision);
  const auto& group = d.sim.groups().at("/t/g1");
  ASSERT_EQ(group.renderings.size(), 1u);
  EXPECT_EQ(group.renderings.front().revision, group.revision);
  const auto before = revisions(d.sim);

  // Another topology comes, is placed and runs; nothing of /t/g1/a changes.
  ASSERT_EQ(d.call("POST", "/v2/groups", R"({"id":"/t/g2","apps":[{"id":"b","cmd":"x","cpus":0.1,"mem":64}]})").status,
            201);
  d.tick(3);
  ASSERT_EQ(d.call("GET", kObserve).status, 200);
  auto after = revisions(d.sim);
  EXPECT_EQ(after.at("app /t/g1/a"), before.at("app /t/g1/a"));
  EXPECT_EQ(after.at("group /t/g1"), before.at("group /t/g1"));
  EXPECT_GT(after.at("group /t"), before.at("group /t")) << "its version and subgroups changed";

  // Its own scale changes it and its group, and so does its deployment going.
  ASSERT_EQ(d.call("PUT", "/v2/apps/t/g1/a", R"({"instances":2})").status, 200);
  const auto scaled = revisions(d.sim);
  EXPECT_GT(scaled.at("app /t/g1/a"), after.at("app /t/g1/a"));
  EXPECT_GT(scaled.at("group /t/g1"), after.at("group /t/g1"));
  d.tick(3);
  EXPECT_TRUE(d.sim.deployments().empty());
  EXPECT_GT(d.sim.apps().at("/t/g1/a").revision, scaled.at("app /t/g1/a"));
}

// Embed sets that differ in one embed are kept apart.
TEST(SimRenderCache, EachEmbedHasItsOwnRendering) {
  SimDriver d(small_cluster());
  ASSERT_EQ(d.call("POST", "/v2/groups", R"({"id":"/t/g1","apps":[{"id":"a","cmd":"x","cpus":0.1,"mem":64}]})").status,
            201);
  d.tick(1);
  ASSERT_EQ(d.call("DELETE", "/_sim/agents/" + d.sim.apps().at("/t/g1/a").tasks.at(0).agent_id).status, 200);
  ASSERT_EQ(d.call("PUT", "/v2/apps/t/g1/a?force=true", R"({"instances":2})").status, 200);
  d.tick(1);  // staged, a deployment running, a last task failure: every embed shows something
  const std::string base = "/v2/groups/t?embed=group.groups&embed=group.apps";
  for (const char* embed : {"group.pods", "group.apps.counts", "group.apps.deployments", "group.apps.tasks",
                            "group.apps.lastTaskFailure", "group.apps.readiness", "group.apps.taskStats"}) {
    const auto with = base + "&embed=" + embed;
    for (const auto& target : {base, with, base, with}) {
      const auto kept = d.call("GET", target).body;
      d.sim.set_render_cache(false);
      const auto fresh = d.call("GET", target).body;
      d.sim.set_render_cache(true);
      ASSERT_TRUE(kept == fresh) << target << "\n" << first_difference(kept, fresh);
    }
  }
  for (const char* target : {"/v2/groups/t?embed=group.apps", "/v2/groups/t?embed=group.groups",
                             "/v2/groups/t?embed=group.apps", "/v2/apps?embed=apps.tasks", "/v2/apps",
                             "/v2/apps?embed=apps.tasks"}) {
    const auto kept = d.call("GET", target).body;
    d.sim.set_render_cache(false);
    const auto fresh = d.call("GET", target).body;
    d.sim.set_render_cache(true);
    ASSERT_TRUE(kept == fresh) << target << "\n" << first_difference(kept, fresh);
  }
}

TEST(SimRenderCache, KeepsTheMostRecentEmbedSetsAndForgetsRemovedApps) {
  SimDriver d(small_cluster());
  ASSERT_EQ(d.call("POST", "/v2/groups", R"({"id":"/t/g1","apps":[{"id":"a","cmd":"x"}]})").status, 201);
  for (const char* target :
       {"/v2/groups/t/g1?embed=group.apps", "/v2/groups/t/g1?embed=group.apps&embed=group.apps.counts",
        "/v2/groups/t/g1?embed=group.apps&embed=group.apps.tasks", kObserve})
    ASSERT_EQ(d.call("GET", target).status, 200);
  const auto& kept = d.sim.apps().at("/t/g1/a").renderings;
  ASSERT_EQ(kept.size(), kRenderingsKept);
  const auto observed = d.call("GET", kObserve).body;
  EXPECT_NE(observed.find(kept.front().json), std::string::npos) << "the most recent embed set comes first";

  d.sim.set_render_cache(false);
  ASSERT_EQ(d.call("DELETE", "/v2/apps/t/g1/a").status, 200);
  ASSERT_EQ(d.call("POST", "/v2/apps?force=true", R"({"id":"/t/g1/a","cmd":"y"})").status, 201);
  ASSERT_EQ(d.call("GET", kObserve).status, 200);
  EXPECT_TRUE(d.sim.apps().at("/t/g1/a").renderings.empty()) << "a new app starts without renderings; off keeps none";
  d.sim.set_render_cache(true);
  const auto cached = d.call("GET", kObserve).body;
  EXPECT_NE(cached.find("\"cmd\":\"y\""), std::string::npos);
  EXPECT_EQ(cached.find("\"cmd\":\"x\""), std::string::npos);
}

}  // namespace
}  // namespace hmc::marathon_sim::testing
