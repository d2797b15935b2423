// Multi-round scenarios against a small in-memory Marathon: the plans are
// applied, the world moves, and the next round sees the result. Also the
// waiting diagnosis in detail.

#include "world.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace hmc::reconciler::testing {
namespace {

namespace json = boost::json;

// Applies plans the way the controller does: in order, stopping at the first failure.
struct FakeMarathon {
  explicit FakeMarathon(World& world) : w(world) {}
  World& w;
  int next_deployment = 1;
  bool forgotten = false;
  std::vector<std::string> log;

  void apps_from_body(const std::string& body) {
    auto g = json::parse(body).as_object();
    ObservedGroup og;
    og.id = std::string(g.at("id").as_string());
    auto old = w.snap.groups.find(og.id);
    for (const auto& av : g.at("apps").as_array()) {
      const auto& a = av.as_object();
      ObservedApp app;
      app.id = std::string(a.at("id").as_string());
      app.instances = a.at("instances").to_number<int>();
      app.cpus = a.at("cpus").to_number<double>();
      app.mem = a.at("mem").to_number<double>();
      app.disk = a.at("disk").to_number<double>();
      app.cmd_digest = text_digest(a.at("cmd").as_string());
      app.image = std::string(a.at("container").at("docker").at("image").as_string());
      for (const auto& kv : a.at("labels").as_object())
        app.labels[std::string(kv.key())] = std::string(kv.value().as_string());
      if (old != w.snap.groups.end())
        for (const auto& o : old->second.apps)
          if (o.id == app.id) app.tasks_running = std::min(o.tasks_running, app.instances);
      og.apps.push_back(std::move(app));
    }
    w.snap.groups[og.id] = std::move(og);
    start_deployment(w.snap.groups[w.gid()]);
  }
  void start_deployment(const ObservedGroup& g) {
    ObservedDeployment d;
    d.id = "d" + std::to_string(next_deployment++);
    for (const auto& a : g.apps) d.affected_apps.push_back(a.id);
    w.snap.deployments.push_back(d);
  }
  bool locked() const { return !w.snap.deployments.empty(); }

  // Returns false at the first failing action.
  bool apply(const Plan& p) {
    for (const auto& a : p.actions) {
      log.push_back(describe(a));
      if (auto* c = std::get_if<CreateGroup>(&a)) {
        if (w.snap.groups.count(c->group_id)) return false;  // 409
        apps_from_body(c->body);
      } else if (auto* u = std::get_if<UpdateGroup>(&a)) {
        if (locked() && !u->force) return false;
        w.snap.deployments.clear();
        apps_from_body(u->body);
      } else if (auto* s = std::get_if<SuspendGroup>(&a)) {
        if (locked() && !s->force) return false;
        w.snap.deployments.clear();
        auto& g = w.group();
        for (auto& app : g.apps) app.instances = 0;
        start_deployment(g);
      } else if (auto* cd = std::get_if<CancelDeployment>(&a)) {
        std::erase_if(w.snap.deployments, [&](const auto& d) { return d.id == cd->deployment_id; });
      } else if (auto* d = std::get_if<DeleteGroup>(&a)) {
        if (locked() && !d->force) return false;
        EXPECT_TRUE(d->force || std::all_of(w.group().apps.begin(), w.group().apps.end(),
                                            [](const auto& x) { return x.instances == 0; }))
            << "a group is deleted only after it was suspended, or by force";
        w.snap.groups.erase(d->group_id);
        w.snap.deployments.clear();
      } else if (auto* h = std::get_if<DeleteHeronState>(&a)) {
        for (const auto& path : h->paths) std::erase(w.heron.present, path);
      } else if (std::get_if<ForgetTopology>(&a)) {
        forgotten = true;
        w.has_desired = false;
      }
    }
    return true;
  }

  // Time passes: tasks start or stop toward the instances, deployments finish.
  void tick(bool offers_fit = true) {
    w.now += std::chrono::seconds(5);
    auto it = w.snap.groups.find(w.gid());
    if (it == w.snap.groups.end()) return;
    bool done = true;
    for (auto& a : it->second.apps) {
      if (a.tasks_running > a.instances) a.tasks_running = a.instances;
      else if (a.tasks_running < a.instances && offers_fit) a.tasks_running = a.instances;
      if (a.tasks_running != a.instances) done = false;
    }
    if (done) w.snap.deployments.clear();
  }
};

struct Round {
  Plan plan;
  bool ok;
};

Round round(World& w, FakeMarathon& m, bool keep_status = true) {
  Plan p = w.run();
  const bool ok = m.apply(p);
  if (keep_status && !m.forgotten) w.previous = p.status;
  return {std::move(p), ok};
}

void converge(World& w, FakeMarathon& m, int max_rounds = 10) {
  for (int i = 0; i < max_rounds; ++i) {
    auto r = round(w, m);
    m.tick();
    if (r.plan.actions.empty() && !r.plan.requeue_after) return;
  }
  FAIL() << "did not converge: " << m.log.size() << " actions";
}

TEST(Lifecycle, CreateRunUpdateSuspendResume) {
  World w;
  FakeMarathon m(w);
  converge(w, m);
  auto p = w.run();
  EXPECT_EQ(p.status.phase, Phase::Running);
  EXPECT_EQ(p.status.health, Health::Healthy);
  EXPECT_TRUE(p.actions.empty());

  w.t.image = "apache/heron:0.20.6";
  ++w.version;
  converge(w, m);
  EXPECT_EQ(w.group().apps[0].image, "apache/heron:0.20.6");
  EXPECT_EQ(w.run().status.phase, Phase::Running);

  w.t.state = DesiredState::suspended;
  ++w.version;
  converge(w, m);
  p = w.run();
  EXPECT_EQ(p.status.phase, Phase::Suspended);
  EXPECT_EQ(p.status.health, Health::Suspended);

  w.t.state = DesiredState::running;
  ++w.version;
  converge(w, m);
  p = w.run();
  EXPECT_EQ(p.status.phase, Phase::Running);
  EXPECT_EQ(p.status.running_containers, w.t.containers + 1);
}

TEST(Lifecycle, TransitionTimesStayWhileStatusHolds) {
  World w;
  FakeMarathon m(w);
  converge(w, m);
  const auto first = w.run().status;
  const auto* synced = find_condition(first.conditions, kCondSynced);
  ASSERT_TRUE(synced);
  EXPECT_EQ(synced->status, ConditionStatus::True);
  w.now += std::chrono::hours(1);
  const auto later = w.run().status;
  EXPECT_EQ(find_condition(later.conditions, kCondSynced)->last_transition_time,
            synced->last_transition_time);
  EXPECT_EQ(later.conditions.size(), first.conditions.size());
  // A hand edit flips Synced: a new transition time.
  w.group().apps[0].cpus = 9;
  const auto drifted = w.run().status;
  EXPECT_EQ(find_condition(drifted.conditions, kCondSynced)->last_transition_time, w.now);
}

TEST(Lifecycle, DriftRepairedWithinOneRound) {
  World w;
  FakeMarathon m(w);
  converge(w, m);
  w.snap.groups.clear();  // destroyed by hand
  auto r = round(w, m);
  EXPECT_EQ(action_names(r.plan), std::vector<std::string>{"CreateGroup"});
  EXPECT_EQ(find_condition(r.plan.status.conditions, kCondDrift)->reason, "GroupMissing");
  m.tick();
  converge(w, m);
  EXPECT_EQ(w.run().status.phase, Phase::Running);
  EXPECT_EQ(find_condition(w.run().status.conditions, kCondDrift)->status, ConditionStatus::False);
}

// A kill reaches the end whatever round the controller restarts at, even if
// the status written before the restart is lost.
class KillRestart : public ::testing::TestWithParam<int> {};

TEST_P(KillRestart, FinishesTheJob) {
  World w;
  w.t = default_topology(3);
  FakeMarathon m(w);
  converge(w, m);
  w.state({"topologies", "packingplans", "pplans", "executionstate", "tmanagers", "schedulers"});
  w.deployment("in-flight");  // a deployment is still running when the kill arrives
  w.t.state = DesiredState::killed;
  ++w.version;
  const int restart_at = GetParam();
  for (int i = 0; i < 30 && !m.forgotten; ++i) {
    if (i == restart_at) w.previous.reset();
    round(w, m);
    m.tick();
  }
  EXPECT_TRUE(m.forgotten) << ::testing::PrintToString(m.log);
  EXPECT_FALSE(w.snap.groups.count(w.gid()));
  EXPECT_TRUE(w.heron.present.empty());
  // The order: cancel and suspend before any delete; Heron state after the group.
  const auto pos = [&](const std::string& prefix) {
    for (std::size_t i = 0; i < m.log.size(); ++i)
      if (m.log[i].rfind(prefix, 0) == 0) return static_cast<long>(i);
    return -1L;
  };
  EXPECT_LT(pos("CancelDeployment"), pos("SuspendGroup"));
  EXPECT_LT(pos("SuspendGroup"), pos("DeleteGroup"));
  EXPECT_LT(pos("DeleteGroup"), pos("DeleteHeronState"));
  EXPECT_LT(pos("DeleteHeronState"), pos("ForgetTopology"));
}

INSTANTIATE_TEST_SUITE_P(RestartAt, KillRestart, ::testing::Range(0, 6));

TEST(Kill, WaitingTopologySuspendsWithForceBeforeDelete) {
  World w;
  FakeMarathon m(w);
  w.snap.groups[w.gid()] = deployed_group(w.cfg, w.t, 1, 0);
  m.start_deployment(w.group());
  w.queued(0, 30min);
  w.largest_offer(1, 1024);
  w.t.state = DesiredState::killed;
  auto r = round(w, m);
  ASSERT_EQ(action_names(r.plan), (std::vector<std::string>{"CancelDeployment", "SuspendGroup"}));
  EXPECT_TRUE(std::get<SuspendGroup>(r.plan.actions[1]).force);
  w.snap.queue.clear();
  for (int i = 0; i < 10 && !m.forgotten; ++i) {
    round(w, m);
    m.tick();
  }
  EXPECT_TRUE(m.forgotten);
}

TEST(Kill, ForceOnlyAfterTheConfiguredTime) {
  World w;
  FakeMarathon m(w);
  converge(w, m);
  w.t.state = DesiredState::killed;
  ++w.version;
  auto r = round(w, m);  // suspend
  ASSERT_EQ(action_names(r.plan), std::vector<std::string>{"SuspendGroup"});
  // Tasks never stop (an agent is gone): wait, then delete with force.
  for (auto& a : w.group().apps) a.tasks_running = 1;
  w.snap.deployments.clear();
  bool forced = false;
  for (int i = 0; i < 40 && !forced; ++i) {
    w.now += std::chrono::seconds(5);
    r = round(w, m);
    for (const auto& a : r.plan.actions)
      if (auto* d = std::get_if<DeleteGroup>(&a)) {
        forced = d->force;
        EXPECT_GE(w.now - find_condition(r.plan.status.conditions, kCondKilling)->last_transition_time,
                  w.cfg.kill_force_after);
      }
  }
  EXPECT_TRUE(forced);
}

TEST(Stuck, OnStuckSuspendHoldsUntilTheDesiredNodeChanges) {
  World w;
  w.t.on_stuck = OnStuck::suspend;
  FakeMarathon m(w);
  w.snap.groups[w.gid()] = deployed_group(w.cfg, w.t, 1, 0);
  m.start_deployment(w.group());
  w.queued(0, 11min);
  w.largest_offer(1, 1024);
  auto r = round(w, m);
  EXPECT_EQ(action_names(r.plan), (std::vector<std::string>{"CancelDeployment", "SuspendGroup"}));
  w.snap.queue.clear();
  for (int i = 0; i < 5; ++i) {
    r = round(w, m);
    m.tick();
  }
  r = round(w, m);
  EXPECT_TRUE(r.plan.actions.empty());
  EXPECT_EQ(r.plan.status.phase, Phase::Suspended);
  EXPECT_EQ(r.plan.status.health, Health::Degraded);
  ASSERT_TRUE(r.plan.status.waiting);  // the diagnosis stays visible
  EXPECT_EQ(r.plan.status.waiting->kind, "Unschedulable");
  // The user makes containers smaller: a new generation resumes.
  w.t.resources = {1, 1024, 1024};
  ++w.version;
  r = round(w, m);
  EXPECT_EQ(action_names(r.plan), std::vector<std::string>{"UpdateGroup"});
}

// --- waiting diagnosis ------------------------------------------------------------------------

QueueEntry published_queue_entry(const std::string& app, TimePoint since) {
  // Values of the second entry of Marathon's published queue.json example.
  QueueEntry q;
  q.app_id = app;
  q.count = 2;
  q.overdue = true;
  q.since = since;
  q.processed_offers = 123;
  q.unused_offers = 123;
  q.reject_summary_last_offers = {
      {"UnfulfilledRole", 0, 123},  {"UnfulfilledConstraint", 0, 123},
      {"NoCorrespondingReservationFound", 0, 123}, {"InsufficientCpus", 75, 123},
      {"InsufficientMemory", 15, 48}, {"InsufficientDisk", 10, 33},
      {"InsufficientGpus", 0, 23},   {"DeclinedScarceResources", 0, 11}};
  return q;
}

TEST(Waiting, PublishedQueueExampleGivesReasonsAndCounts) {
  World w;
  w.snap.queue.push_back(published_queue_entry(w.app(0), w.now - 1min));
  auto d = diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(format_reasons(d->reasons),
            "InsufficientCpus: 75 of 123 offers, InsufficientMemory: 15 of 48 offers, "
            "InsufficientDisk: 10 of 33 offers");
  ASSERT_EQ(d->reasons.size(), 3u);
  EXPECT_EQ(d->reasons[0], (WaitingReason{"InsufficientCpus", 75, 123}));
  EXPECT_EQ(d->since, w.now - 1min);
}

TEST(Waiting, UnschedulableSummaryNamesWhatDoesNotFit) {
  World w;
  w.t.resources = {8, 16384, 1024};
  w.queued(1, 1min);
  w.largest_offer(4, 15000);
  auto d = diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, "Unschedulable");
  EXPECT_EQ(d->summary,
            "each container asks cpus=8 mem=16384; the largest offer in the last 10 minutes had "
            "cpus=4 mem=15000. Use smaller containers (more of them) or add larger agents.");
  EXPECT_EQ(d->apps, std::vector<std::string>{w.app(1)});
}

TEST(Waiting, UnschedulableByDiskOrPortsMentionsThem) {
  World w;
  w.t.resources = {1, 1024, 50000};
  w.queued(0, 1min);
  w.largest_offer(4, 15000, 20000, 5);
  w.offers.window = std::chrono::minutes(1);
  auto d = diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->summary,
            "each container asks cpus=1 mem=1024 disk=50000 ports=9; the largest offer in the last "
            "1 minute had cpus=4 mem=15000 disk=20000 ports=5. Use smaller containers (more of "
            "them) or add larger agents.");
}

TEST(Waiting, InsufficientCapacityWhenItFitsAnAgent) {
  World w;
  w.t.resources = {0.5, 1536, 100};
  w.queued(0, 1min);
  w.largest_offer(4, 15000);
  auto d = diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, "InsufficientCapacity");
  EXPECT_EQ(d->summary.rfind("the container fits an agent (largest offer cpus=4 mem=15000), but no "
                             "agent has room now;", 0),
            0u)
      << d->summary;
}

// Unused offers are what is left after placements: when a sibling container
// of the same size runs, the size fits an agent even if every unused offer is small.
TEST(Waiting, InsufficientCapacityWhenASiblingOfTheSameSizeRuns) {
  World w;
  w.t.resources = {3, 4096, 100};
  w.deploy(1, 1);
  w.group().apps.back().tasks_running = 0;
  w.queued(static_cast<int>(w.group().apps.size()) - 1, 1min);
  w.largest_offer(1, 10904);
  auto d = diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, "InsufficientCapacity") << d->summary;
  EXPECT_NE(d->summary.find("containers of this size run"), std::string::npos) << d->summary;
}

TEST(Waiting, LargestOfferAlsoFromTheQueuesUnusedOffers) {
  World w;
  w.t.resources = {2, 4096, 100};
  w.queued(0, 1min);
  UnusedOffer o;
  o.resources = {8, 32768, 100000, 100};
  w.snap.queue.back().last_unused_offers.push_back(o);
  auto d = diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, "InsufficientCapacity");
}

TEST(Waiting, NoOffersSeenIsUnknown) {
  World w;
  w.queued(0, 1min);
  auto d = diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, "Unknown");
  EXPECT_NE(d->summary.find("no offer was seen"), std::string::npos);
}

TEST(Waiting, OnlyOverdueEntriesOfTheGroupPastTheThreshold) {
  World w;
  w.queued(0, 10s);
  EXPECT_FALSE(diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now));  // below threshold
  w.snap.queue.clear();
  w.queued(0, 1min);
  w.snap.queue.back().overdue = false;
  EXPECT_FALSE(diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now));  // in backoff, not overdue
  w.snap.queue.clear();
  w.queued(0, 1min);
  w.snap.queue.back().app_id = "/heron/topologies/wc2/0";
  EXPECT_FALSE(diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now));  // another topology
}

TEST(Waiting, SinceIsTheEarliestAndAppsAreListed) {
  World w;
  w.queued(2, 1min);
  w.queued(0, 3min);
  auto d = diagnose_waiting(w.cfg, w.t, w.snap, w.offers, w.now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->since, w.now - 3min);
  EXPECT_EQ(d->apps, (std::vector<std::string>{w.app(0), w.app(2)}));
  // The same offers are seen by both apps: counts are not summed.
  EXPECT_EQ(format_reasons(d->reasons), "InsufficientCpus: 37 of 40 offers, InsufficientMemory: 3 of 3 offers");
}

}  // namespace
}  // namespace hmc::reconciler::testing
