#pragma once
// A small model of what the reconciler observes, for table-driven tests.

#include "hmc/reconciler/reconcile.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace hmc::reconciler::testing {

using namespace std::chrono_literals;

inline TimePoint t0() { return TimePoint{std::chrono::seconds{1'800'000'000}}; }

inline ReconcilerConfig default_config() {
  ReconcilerConfig cfg;
  cfg.default_image = "apache/heron:0.20.5";
  cfg.default_core_uri = "https://example.org/heron-core.tar.gz";
  cfg.state_manager_connection = "zk1:2181,zk2:2181";
  return cfg;
}

inline DesiredTopology default_topology(int containers = 2) {
  DesiredTopology t;
  t.name = "wc";
  t.cluster = "dcos";
  t.role = "analytics";
  t.environ = "prod";
  t.containers = containers;
  t.resources = {2, 4096, 2048};
  t.package = "https://example.org/wc.tar.gz";
  return t;
}

// The apps Marathon would show after the controller deployed `t`.
inline ObservedGroup deployed_group(const ReconcilerConfig& cfg, const DesiredTopology& t,
                                    int instances = 1, int running = -1) {
  if (running < 0) running = instances;
  ObservedGroup g;
  g.id = group_id_for(cfg, t.name);
  g.version = "2026-01-01T00:00:00.000Z";
  const std::string hash = spec_hash(cfg, t);
  int i = 0;
  for (const auto& e : expected_apps(cfg, t, instances)) {
    ObservedApp a;
    a.id = e.id;
    a.instances = e.instances;
    a.cpus = e.cpus;
    a.mem = e.mem;
    a.disk = e.disk;
    a.image = e.image;
    a.cmd_digest = text_digest(e.cmd);
    a.labels = {{"environment", t.environ},
                {kLabelManagedBy, kManagedByValue},
                {kLabelTopology, t.name},
                {kLabelSpecHash, hash},
                {kLabelContainerIndex, std::to_string(i)},
                {kLabelDesiredInstances, "1"}};
    a.tasks_running = running;
    g.apps.push_back(std::move(a));
    ++i;
  }
  return g;
}

struct World {
  ReconcilerConfig cfg = default_config();
  DesiredTopology t = default_topology();
  std::optional<std::string> raw;  // overrides to_json(t) when set
  bool has_desired = true;
  std::int64_t version = 7;
  std::optional<TopologyStatus> previous;
  MarathonSnapshot snap;
  HeronStateNodes heron;
  std::optional<TimePoint> heron_modified;
  std::optional<HeronDesired> heron_desired;  // prepared from a topologyDefn
  OfferHistory offers;
  std::string last_error;
  int retry_count = 0;
  TimePoint now = t0();

  std::string gid() const { return group_id_for(cfg, t.name); }
  std::string app(int i) const { return app_id_for(cfg, t.name, i); }
  ObservedGroup& group() { return snap.groups.at(gid()); }

  void deploy(int instances = 1, int running = -1) {
    snap.groups[gid()] = deployed_group(cfg, t, instances, running);
  }
  void deployment(const std::string& id) {
    ObservedDeployment d;
    d.id = id;
    for (const auto& a : group().apps) d.affected_apps.push_back(a.id);
    d.total_steps = 1;
    snap.deployments.push_back(std::move(d));
  }
  void queued(int index, std::chrono::milliseconds waited) {
    QueueEntry q;
    q.app_id = app(index);
    q.count = 1;
    q.overdue = true;
    q.since = now - waited;
    q.processed_offers = 40;
    q.reject_summary_last_offers = {{"UnfulfilledRole", 0, 40}, {"InsufficientCpus", 37, 40},
                                    {"InsufficientMemory", 3, 3}};
    snap.queue.push_back(std::move(q));
  }
  void largest_offer(double cpus, double mem, double disk = 100000, int ports = 1000) {
    offers.largest = OfferResources{cpus, mem, disk, ports};
  }
  // The status of a previous round, same generation.
  TopologyStatus& prev(Phase phase, std::vector<Condition> conds = {}) {
    TopologyStatus s;
    s.name = t.name;
    s.observed_generation = version;
    s.phase = phase;
    s.group_id = gid();
    s.conditions = std::move(conds);
    previous = std::move(s);
    return *previous;
  }
  void state(std::initializer_list<const char*> dirs) {
    for (const char* d : dirs) heron.present.push_back(cfg.heron_root + "/" + d + "/" + t.name);
  }

  Plan run() const {
    ReconcileInput in;
    in.name = t.name;
    if (has_desired) in.desired_raw = raw ? *raw : to_json(t);
    in.desired_version = version;
    in.previous = previous;
    in.marathon = &snap;
    in.heron_state = heron;
    in.heron_state_modified = heron_modified;
    if (heron_desired) in.heron = &*heron_desired;
    in.offers = offers;
    in.last_error = last_error;
    in.retry_count = retry_count;
    in.now = now;
    return reconcile(cfg, in);
  }
};

inline std::vector<std::string> action_names(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.actions) out.emplace_back(action_name(a));
  return out;
}

}  // namespace hmc::reconciler::testing
