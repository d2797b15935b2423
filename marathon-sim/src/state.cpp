// The model: groups, apps, deployments, agents, the offer cycle and events.
#include "ids.hpp"
#include "simulator.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

namespace hmc::marathon_sim {

namespace {
constexpr double kEpsilon = 1e-9;
constexpr std::size_t kMaxVersions = 50;  // Marathon's zk_max_versions default

std::string parent_of(const std::string& id) {
  const auto slash = id.rfind('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return id.substr(0, slash);
}

std::string_view constraint_field_value(const Agent& agent, const std::string& field) {
  if (field == "hostname") return agent.spec.hostname;
  auto it = agent.spec.attributes.find(field);
  if (it == agent.spec.attributes.end()) return {};
  return it->second;
}
}  // namespace

const char* reason_name(Reason r) {
  static constexpr const char* names[kReasonCount] = {
      "UnfulfilledRole",   "UnfulfilledConstraint", "NoCorrespondingReservationFound",
      "AgentMaintenance",  "InsufficientCpus",      "InsufficientMemory",
      "InsufficientDisk",  "InsufficientGpus",      "InsufficientPorts",
      "DeclinedScarceResources"};
  return names[static_cast<int>(r)];
}

std::size_t Agent::port_capacity() const {
  std::size_t n = 0;
  for (const auto& r : spec.ports) n += r.end - r.begin + 1;
  return n;
}

Simulator::Simulator(const SimOptions& options) : options_(options) {
  if (options_.deterministic) {
    clock_ = std::make_unique<ManualTimeSource>();
  } else {
    clock_ = std::make_unique<SystemTimeSource>();
  }
  rng_.seed(options_.seed_given ? options_.seed : std::random_device{}());
  framework_id_ = new_uuid() + "-0000";
  last_version_ = clock_->now() - std::chrono::milliseconds{1};
  next_cycle_at_ = clock_->now() + options_.offer_period;
  Group root;
  root.id = "/";
  root.version = next_version();
  changed(root);
  groups_.emplace("/", std::move(root));
  for (const auto& a : options_.agents) add_agent(a);
  for (const auto& f : options_.task_faults) add_task_fault(f);
}

Simulator::~Simulator() = default;

std::string Simulator::next_version() {
  auto t = std::chrono::time_point_cast<std::chrono::milliseconds>(clock_->now());
  if (t <= last_version_) t = std::chrono::time_point_cast<std::chrono::milliseconds>(last_version_) + std::chrono::milliseconds{1};
  last_version_ = t;
  return format_time(t);
}

std::string Simulator::new_uuid() {
  const std::uint64_t a = rng_(), b = rng_();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

bool Simulator::wants(const std::string& type) const {
  for (const auto& [id, s] : subscribers_)
    if (s.types.empty() || s.types.count(type)) return true;
  return false;
}

void Simulator::emit(const std::string& type, json::object data) {
  // Copy the ids first: a send may unsubscribe.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, s] : subscribers_)
    if (s.types.empty() || s.types.count(type)) ids.push_back(id);
  if (ids.empty()) return;
  data["eventType"] = type;
  data["timestamp"] = format_time(clock_->now());
  std::string frame = "event: " + type + "\ndata: " + json::serialize(data) + "\n\n";
  for (auto id : ids) {
    auto it = subscribers_.find(id);
    if (it != subscribers_.end()) it->second.send(frame);
  }
}

std::uint64_t Simulator::subscribe(std::vector<std::string> types,
                                   std::function<void(const std::string&)> send,
                                   const std::string& remote) {
  const auto id = ++subscriber_counter_;
  Subscriber s;
  s.types.insert(types.begin(), types.end());
  s.send = std::move(send);
  json::object attached;
  attached["remoteAddress"] = remote;
  attached["eventType"] = "event_stream_attached";
  attached["timestamp"] = format_time(clock_->now());
  if (s.types.empty() || s.types.count("event_stream_attached"))
    s.send("event: event_stream_attached\ndata: " + json::serialize(attached) + "\n\n");
  subscribers_.emplace(id, std::move(s));
  return id;
}

void Simulator::unsubscribe(std::uint64_t id) { subscribers_.erase(id); }

std::string Simulator::add_agent(AgentSpec spec) {
  ++agent_counter_;
  if (spec.id.empty()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s-S%llu", framework_id_.substr(0, 23).c_str(),
                  static_cast<unsigned long long>(agent_counter_ - 1));
    spec.id = buf;
  }
  if (spec.hostname.empty()) spec.hostname = "agent" + std::to_string(agent_counter_ - 1) + ".sim.local";
  Agent a;
  a.spec = spec;
  const auto id = spec.id;
  agents_[id] = std::move(a);
  return id;
}

bool Simulator::remove_agent(const std::string& id) {
  auto it = agents_.find(id);
  if (it == agents_.end()) return false;
  for (auto& [app_id, app] : apps_) {
    if (std::none_of(app.tasks.begin(), app.tasks.end(), [&](const Task& t) { return t.agent_id == id; })) continue;
    std::vector<Task> keep;
    std::vector<Task> lost;
    for (auto& t : app.tasks) (t.agent_id == id ? lost : keep).push_back(std::move(t));
    live_tasks_ -= lost.size();
    app.tasks = std::move(keep);
    changed(app);
    for (auto& t : lost) kill_task(&app, std::move(t), "TASK_LOST", "Agent " + id + " was removed");
  }
  std::erase_if(terminating_, [&](const Task& t) { return t.agent_id == id; });
  agents_.erase(id);
  return true;
}

void Simulator::release(const Task& t) {
  auto it = agents_.find(t.agent_id);
  if (it == agents_.end()) return;
  auto& a = it->second;
  a.used_cpus -= t.cpus;
  a.used_mem -= t.mem;
  a.used_disk -= t.disk;
  a.used_gpus -= t.gpus;
  for (auto p : t.ports) {
    a.used_ports.erase(p);
    a.free_port_hint = std::min(a.free_port_hint, p);
  }
}

// The body of a status_update_event for one task.
static json::object status_update(const Task& t, std::string_view state, std::string_view message) {
  json::object e;
  e["slaveId"] = t.agent_id;
  e["taskId"] = t.id;
  e["taskStatus"] = state;
  e["message"] = message;
  e["appId"] = t.app_id;
  e["host"] = t.host;
  json::array ports;
  for (auto p : t.ports) ports.push_back(p);
  e["ports"] = ports;
  e["version"] = t.version;
  return e;
}

void Simulator::kill_task(App* app, Task&& t, const char* state, const std::string& message) {
  release(t);
  const bool failure = std::string_view(state) != "TASK_KILLED";
  if (app && failure) {
    json::object f;
    f["appId"] = t.app_id;
    f["host"] = t.host;
    f["message"] = message;
    f["state"] = state;
    f["taskId"] = t.id;
    f["timestamp"] = format_time(clock_->now());
    f["version"] = t.version;
    f["slaveId"] = t.agent_id;
    app->last_failure_json = json::serialize(f);
    changed(*app);
  }
  if (wants("status_update_event")) emit("status_update_event", status_update(t, state, message));
  if (!wants("instance_changed_event")) return;
  json::object ic;
  ic["instanceId"] = t.id;
  ic["condition"] = !failure ? "Killed" : std::string_view(state) == "TASK_FAILED" ? "Failed" : "Gone";
  ic["runSpecId"] = t.app_id;
  ic["agentId"] = t.agent_id;
  ic["host"] = t.host;
  ic["runSpecVersion"] = t.version;
  emit("instance_changed_event", ic);
}

void Simulator::refresh_json(App& app) {
  std::string s = json::serialize(app.spec.definition);
  s.pop_back();
  s += ",\"version\":\"";
  s += app.version;
  s += "\",\"versionInfo\":{\"lastScalingAt\":\"";
  s += app.last_scaling_at;
  s += "\",\"lastConfigChangeAt\":\"";
  s += app.last_config_change_at;
  s += "\"}";
  app.json_cache = std::move(s);
  changed(app);
}

void Simulator::changed(App& app) {
  app.revision = ++revision_;
  unsettled_.insert(app.spec.id);
  auto g = groups_.find(app.group_id);
  if (g != groups_.end()) changed(g->second);
}

// Only the deployments shown in the app's JSON changed: its renderings are
// stale, but its tasks and config are as they were, so no offer cycle work.
void Simulator::locks_changed(const std::string& app_id) {
  auto it = apps_.find(app_id);
  if (it == apps_.end()) return;
  it->second.revision = ++revision_;
  auto g = groups_.find(it->second.group_id);
  if (g != groups_.end()) changed(g->second);
}

void Simulator::ensure_group(const std::string& id, const std::string& version) {
  if (groups_.count(id)) return;
  const auto parent = parent_of(id);
  ensure_group(parent, version);
  Group g;
  g.id = id;
  g.version = version;
  changed(g);
  groups_.emplace(id, std::move(g));
  groups_[parent].groups.insert(id);
}

void Simulator::touch_ancestors(const std::string& id, const std::string& version) {
  std::string g = id;
  while (true) {
    auto it = groups_.find(g);
    if (it != groups_.end()) {
      if (it->second.version == version && g != id) return;  // the rest is done already
      it->second.version = version;
      changed(it->second);
    }
    if (g == "/") return;
    g = parent_of(g);
  }
}

void Simulator::collect_apps(const std::string& group_id, std::vector<std::string>& out) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return;
  out.insert(out.end(), it->second.apps.begin(), it->second.apps.end());
  for (const auto& g : it->second.groups) collect_apps(g, out);
}

void Simulator::collect_groups(const std::string& group_id, std::vector<std::string>& out) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return;
  out.push_back(group_id);
  for (const auto& g : it->second.groups) collect_groups(g, out);
}

json::value Simulator::group_definition(const std::string& group_id) const {
  const auto& g = groups_.at(group_id);
  json::object o;
  o["id"] = g.id;
  json::array apps;
  for (const auto& a : g.apps) apps.push_back(apps_.at(a).spec.definition);
  o["apps"] = std::move(apps);
  json::array groups;
  for (const auto& sub : g.groups) groups.push_back(group_definition(sub));
  o["groups"] = std::move(groups);
  o["dependencies"] = g.dependencies;
  return o;
}

std::vector<std::vector<Action>> Simulator::plan_steps(const ChangeSet& c) const {
  std::vector<Action> first, second;
  for (const auto& [id, target] : c.apps) {
    auto cur = apps_.find(id);
    if (!target) {
      if (cur != apps_.end()) first.push_back({"StopApplication", id});
      continue;
    }
    if (cur == apps_.end()) {
      first.push_back({"StartApplication", id});
      if (target->instances > 0) second.push_back({"ScaleApplication", id});
      continue;
    }
    json::object a = cur->second.spec.definition, b = target->definition;
    a.erase("instances");
    b.erase("instances");
    if (a != b || c.restart_apps.count(id)) second.push_back({"RestartApplication", id});
    else if (cur->second.spec.instances != target->instances) second.push_back({"ScaleApplication", id});
  }
  std::vector<std::vector<Action>> steps;
  if (!first.empty()) steps.push_back(std::move(first));
  if (!second.empty()) steps.push_back(std::move(second));
  return steps;
}

std::vector<std::string> Simulator::locking_deployments(const std::set<std::string>& apps) const {
  std::set<std::string> ids;
  for (const auto& a : apps) {
    auto it = locks_.find(a);
    if (it != locks_.end()) ids.insert(it->second.begin(), it->second.end());
  }
  // In the order the deployments started.
  std::vector<std::string> out;
  if (ids.empty()) return out;
  for (const auto& d : deployments_)
    if (ids.count(d.id)) out.push_back(d.id);
  return out;
}

// A deployment locks its apps from when it is listed until it is gone, and
// is shown in their JSON as long: both change here.
void Simulator::lock_apps(const Deployment& d) {
  for (const auto& a : d.affected_apps) {
    locks_[a].push_back(d.id);
    locks_changed(a);
  }
}

void Simulator::unlock_apps(const Deployment& d) {
  for (const auto& a : d.affected_apps) {
    locks_changed(a);
    auto it = locks_.find(a);
    if (it == locks_.end()) continue;
    std::erase(it->second, d.id);
    if (it->second.empty()) locks_.erase(it);
  }
}

void Simulator::cancel_deployment(std::size_t index, bool emit_failed) {
  Deployment d = std::move(deployments_[index]);
  deployments_.erase(deployments_.begin() + static_cast<std::ptrdiff_t>(index));
  unlock_apps(d);
  if (emit_failed) {
    json::object e;
    e["id"] = d.id;
    emit("deployment_failed", e);
  }
}

std::variant<Simulator::Committed, Response> Simulator::commit(ChangeSet c, bool force, bool dry_run) {
  auto steps = plan_steps(c);
  std::set<std::string> affected;
  for (const auto& s : steps)
    for (const auto& a : s) affected.insert(a.app);
  if (dry_run) return Committed{"", "", std::move(steps)};

  // Marathon's GroupManager refuses the change before it deploys anything
  // while --max_running_deployments run (TooManyRunningDeploymentsException,
  // 403, its message verbatim, including its missing space). Marathon's own
  // test shows the unforced case; the simulator refuses forced changes too,
  // the stricter reading, so a client that copes here copes with either.
  const std::size_t limit = options_.max_running_deployments;
  if (!steps.empty() && limit > 0 && deployments_.size() >= limit) {
    Response r;
    r.status = 403;
    r.body = json::serialize(json::object{
        {"message", "Max number (" + std::to_string(limit) +
                        ") of running deployments is achieved. Wait for existing deployments to complete or "
                        "cancel oneusing force=true parameter. You can increase max deployment number by using "
                        "--max_running_deployments parameter but be advised that this can have negative effects "
                        "on the performance."}});
    return r;
  }

  const auto conflicts = locking_deployments(affected);
  if (!conflicts.empty()) {
    if (!force) {
      Response r;
      r.status = 409;
      json::object body;
      body["message"] =
          "App is locked by one or more deployments. Override with the option '?force=true'. "
          "View details at '/v2/deployments/" + conflicts.front() + "'.";
      json::array ds;
      for (const auto& id : conflicts) ds.push_back(json::object{{"id", id}});
      body["deployments"] = std::move(ds);
      r.body = json::serialize(body);
      return r;
    }
    for (const auto& id : conflicts) {
      for (std::size_t i = 0; i < deployments_.size(); ++i) {
        if (deployments_[i].id == id) {
          cancel_deployment(i, true);
          break;
        }
      }
    }
  }

  const auto version = next_version();
  Deployment d;
  d.id = new_uuid();
  d.version = version;
  d.steps = std::move(steps);
  d.affected_apps.assign(affected.begin(), affected.end());

  for (auto& [id, target] : c.apps) {
    auto it = apps_.find(id);
    if (affected.count(id)) d.before[id] = it == apps_.end() ? std::nullopt : std::optional<AppSpec>(it->second.spec);
    if (!target) {
      if (it == apps_.end()) continue;
      live_tasks_ -= it->second.tasks.size();
      for (auto& t : it->second.tasks) terminating_.push_back(std::move(t));
      auto g = groups_.find(it->second.group_id);
      if (g != groups_.end()) {
        g->second.apps.erase(id);
        changed(g->second);
      }
      touch_ancestors(it->second.group_id, version);
      apps_.erase(it);
      continue;
    }
    if (it == apps_.end()) {
      App app;
      app.spec = std::move(*target);
      app.group_id = parent_of(id);
      app.version = app.last_scaling_at = app.last_config_change_at = version;
      ensure_group(app.group_id, version);
      auto& group = groups_[app.group_id];
      group.apps.insert(id);
      changed(group);
      touch_ancestors(app.group_id, version);
      refresh_json(app);
      app_history_[id].emplace(version, app.spec);
      apps_.emplace(id, std::move(app));
      continue;
    }
    App& app = it->second;
    json::object a = app.spec.definition, b = target->definition;
    a.erase("instances");
    b.erase("instances");
    const bool config = a != b || c.restart_apps.count(id);
    const bool scale = app.spec.instances != target->instances;
    if (!config && !scale) continue;
    app.spec = std::move(*target);
    app.version = version;
    app.last_scaling_at = version;
    if (config) app.last_config_change_at = version;
    refresh_json(app);
    touch_ancestors(app.group_id, version);
    auto& hist = app_history_[id];
    hist.emplace(version, app.spec);
    while (hist.size() > kMaxVersions) hist.erase(hist.begin());
  }
  for (const auto& g : c.new_groups) {
    ensure_group(g, version);
    touch_ancestors(g, version);
  }
  // Children before parents.
  std::vector<std::string> removed(c.removed_groups.begin(), c.removed_groups.end());
  std::sort(removed.begin(), removed.end(), [](const auto& x, const auto& y) { return x.size() > y.size(); });
  for (const auto& g : removed) {
    if (g == "/") continue;
    auto it = groups_.find(g);
    if (it == groups_.end()) continue;
    for (const auto& app_id : it->second.apps) {
      auto a = apps_.find(app_id);
      if (a == apps_.end()) continue;
      live_tasks_ -= a->second.tasks.size();
      for (auto& t : a->second.tasks) terminating_.push_back(std::move(t));
      apps_.erase(a);
    }
    const auto parent = parent_of(g);
    groups_.erase(it);
    auto p = groups_.find(parent);
    if (p != groups_.end()) p->second.groups.erase(g);
    touch_ancestors(parent, version);
  }
  for (auto& [g, deps] : c.group_dependencies) {
    auto it = groups_.find(g);
    if (it == groups_.end()) continue;
    it->second.dependencies = std::move(deps);
    changed(it->second);
  }
  if (!c.snapshot_group.empty() && groups_.count(c.snapshot_group)) {
    auto& hist = group_history_[c.snapshot_group];
    hist[version] = group_definition(c.snapshot_group);
    while (hist.size() > kMaxVersions) hist.erase(hist.begin());
  }

  if (wants("group_change_success")) {
    json::object e;
    e["groupId"] = c.snapshot_group.empty() ? "/" : c.snapshot_group;
    e["version"] = version;
    emit("group_change_success", e);
  }
  Committed out{d.id, version, d.steps};
  if (d.steps.empty()) {
    json::object e;
    e["id"] = d.id;
    emit("deployment_success", e);
  } else {
    if (wants("deployment_info")) {
      json::object e;
      json::object plan;
      plan["id"] = d.id;
      plan["version"] = d.version;
      e["plan"] = plan;
      json::array actions;
      for (const auto& a : d.steps.front()) actions.push_back(json::object{{"action", a.action}, {"app", a.app}});
      e["currentStep"] = json::object{{"actions", actions}};
      emit("deployment_info", e);
    }
    lock_apps(d);
    deployments_.push_back(std::move(d));
  }
  return out;
}

bool Simulator::action_done(const Action& a) const {
  if (a.action == "StartApplication") return true;
  if (a.action == "StopApplication") {
    if (apps_.count(a.app)) return true;  // re-created since; the stop is moot
    return std::none_of(terminating_.begin(), terminating_.end(), [&](const Task& t) { return t.app_id == a.app; });
  }
  auto it = apps_.find(a.app);
  if (it == apps_.end()) return true;
  const auto& app = it->second;
  if (app.tasks.size() != static_cast<std::size_t>(app.spec.instances)) return false;
  for (const auto& t : app.tasks)
    if (t.state != TaskState::running || t.version != app.last_config_change_at) return false;
  return true;
}

void Simulator::progress_deployments() {
  const auto now = clock_->now();
  std::vector<Deployment> done;
  for (auto& d : deployments_) {
    if (!d.finished_at) {
      while (d.current < d.steps.size() &&
             std::all_of(d.steps[d.current].begin(), d.steps[d.current].end(),
                         [&](const Action& a) { return action_done(a); })) {
        if (wants("deployment_step_success")) {
          json::object e;
          e["plan"] = json::object{{"id", d.id}, {"version", d.version}};
          json::array actions;
          for (const auto& a : d.steps[d.current]) actions.push_back(json::object{{"action", a.action}, {"app", a.app}});
          e["currentStep"] = json::object{{"actions", actions}};
          emit("deployment_step_success", e);
        }
        ++d.current;
      }
      if (d.current == d.steps.size()) d.finished_at = now;
    }
  }
  // Remove the finished ones in one pass (thousands may finish in one cycle).
  auto keep = std::stable_partition(deployments_.begin(), deployments_.end(), [&](const Deployment& d) {
    return !(d.finished_at && now >= *d.finished_at + options_.faults.lock_hold);
  });
  for (auto it = keep; it != deployments_.end(); ++it) done.push_back(std::move(*it));
  deployments_.erase(keep, deployments_.end());
  for (const auto& d : done) {
    unlock_apps(d);
    json::object e;
    e["id"] = d.id;
    e["plan"] = json::object{{"id", d.id}, {"version", d.version}};
    emit("deployment_success", e);
  }
}

namespace {

// All reasons `agent` cannot take one instance of `spec` now, in funnel order.
std::vector<Reason> decline_reasons(const AppSpec& spec, const App& app, const Agent& agent) {
  std::vector<Reason> r;
  const auto& roles = spec.accepted_roles;
  const bool role_ok = roles.empty() ? agent.spec.role == "*"
                                     : std::find(roles.begin(), roles.end(), agent.spec.role) != roles.end();
  if (!role_ok) r.push_back(Reason::UnfulfilledRole);
  for (const auto& c : spec.constraints) {
    if (c.size() < 2) continue;
    const auto& field = c[0];
    const auto& op = c[1];
    const std::string value = c.size() > 2 ? c[2] : std::string{};
    const auto mine = constraint_field_value(agent, field);
    bool ok = true;
    if (op == "UNIQUE") {
      for (const auto& t : app.tasks) {
        if (field == "hostname" ? t.agent_id == agent.spec.id : false) ok = false;
      }
      if (field != "hostname") ok = !mine.empty();
    } else if (op == "CLUSTER" || op == "IS") {
      ok = value.empty() ? true : mine == value;
    } else if (op == "LIKE" || op == "UNLIKE") {
      bool match = false;
      try {
        match = std::regex_match(std::string(mine), std::regex(value));
      } catch (const std::regex_error&) {
      }
      ok = op == "LIKE" ? match : !match;
    } else if (op == "MAX_PER") {
      long per = std::atol(value.c_str());
      long n = 0;
      for (const auto& t : app.tasks)
        if (field == "hostname" && t.agent_id == agent.spec.id) ++n;
      ok = field != "hostname" || n < per;
    }
    if (!ok) {
      r.push_back(Reason::UnfulfilledConstraint);
      break;
    }
  }
  if (agent.spec.maintenance) r.push_back(Reason::AgentMaintenance);
  if (agent.spec.cpus - agent.used_cpus + kEpsilon < spec.cpus) r.push_back(Reason::InsufficientCpus);
  if (agent.spec.mem - agent.used_mem + kEpsilon < spec.mem) r.push_back(Reason::InsufficientMemory);
  if (agent.spec.disk - agent.used_disk + kEpsilon < spec.disk) r.push_back(Reason::InsufficientDisk);
  if (agent.spec.gpus - agent.used_gpus + kEpsilon < spec.gpus) r.push_back(Reason::InsufficientGpus);
  bool ports_ok = true;
  for (auto p : spec.fixed_ports) {
    const bool in_range = std::any_of(agent.spec.ports.begin(), agent.spec.ports.end(),
                                      [&](const PortRange& pr) { return p >= pr.begin && p <= pr.end; });
    if (!in_range || agent.used_ports.count(p)) ports_ok = false;
  }
  if (agent.port_capacity() < agent.used_ports.size() + spec.fixed_ports.size() + static_cast<std::size_t>(spec.port_count))
    ports_ok = false;
  if (!ports_ok) r.push_back(Reason::InsufficientPorts);
  if (agent.spec.gpus > 0 && spec.gpus <= 0) r.push_back(Reason::DeclinedScarceResources);
  return r;
}

std::vector<std::uint32_t> take_ports(Agent& agent, const AppSpec& spec) {
  std::vector<std::uint32_t> out;
  for (auto p : spec.fixed_ports) {
    agent.used_ports.insert(p);
    out.push_back(p);
  }
  const std::size_t want = out.size() + static_cast<std::size_t>(spec.port_count);
  if (out.size() >= want) return out;
  // Lowest free ports first; with ranges in ascending order the scan starts at the hint.
  const auto& ranges = agent.spec.ports;
  const bool ascending = std::is_sorted(ranges.begin(), ranges.end(),
                                        [](const PortRange& a, const PortRange& b) { return a.end < b.begin; });
  const std::uint32_t from = ascending ? agent.free_port_hint : 0;
  std::uint32_t last = 0;
  for (const auto& r : ranges) {
    for (std::uint32_t p = std::max(r.begin, from); p <= r.end && out.size() < want; ++p) {
      if (agent.used_ports.insert(p).second) {
        out.push_back(p);
        last = p;
      }
    }
    if (out.size() >= want) break;
  }
  if (ascending && out.size() >= want) agent.free_port_hint = last + 1;
  return out;
}

std::string task_id_prefix(const std::string& app_id) {
  std::string s = app_id.substr(1);
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

}  // namespace

bool Simulator::settled(const App& app) const {
  if (app.tasks.size() != static_cast<std::size_t>(app.spec.instances)) return false;
  return std::all_of(app.tasks.begin(), app.tasks.end(), [&](const Task& t) {
    return t.state == TaskState::running && t.version == app.last_config_change_at && !t.fails_after_running;
  });
}

// The unsettled apps that still exist, in id order; removed ones leave the set.
std::vector<App*> Simulator::unsettled_apps() {
  std::vector<App*> out;
  out.reserve(unsettled_.size());
  for (auto it = unsettled_.begin(); it != unsettled_.end();) {
    auto app = apps_.find(*it);
    if (app == apps_.end()) {
      it = unsettled_.erase(it);
    } else {
      out.push_back(&app->second);
      ++it;
    }
  }
  return out;
}

void Simulator::launch_into_queue(const std::vector<App*>& candidates) {
  const auto now = clock_->now();
  std::vector<App*> queue;  // in id order, as the candidates are
  for (App* app : candidates) {
    if (app->tasks.size() < static_cast<std::size_t>(app->spec.instances)) queue.push_back(app);
    else app->launch.reset();
  }
  if (queue.empty()) return;
  std::vector<Agent*> order;
  for (auto& [id, a] : agents_) order.push_back(&a);
  std::shuffle(order.begin(), order.end(), rng_);

  for (App* app : queue) {
    if (!app->launch) {
      app->launch.emplace();
      app->launch->since = now;
    }
    auto& stats = *app->launch;
    // Delayed by launch backoff: no offers until the deadline.
    if (const auto* delay = launch_delay(*app); delay && delay->deadline > now) continue;
    const std::size_t had = app->tasks.size();
    std::size_t missing = static_cast<std::size_t>(app->spec.instances) - had;
    for (Agent* agent : order) {
      if (missing == 0) break;
      ++offer_counter_;
      ++stats.processed;
      auto reasons = decline_reasons(app->spec, *app, *agent);
      if (!reasons.empty()) {
        ++stats.unused;
        stats.last_unused_at = now;
        ++stats.first_reason[static_cast<int>(reasons.front())];
        UnusedOffer u;
        u.offer_id = framework_id_.substr(0, 23) + "-O" + std::to_string(offer_counter_);
        u.agent_id = agent->spec.id;
        u.hostname = agent->spec.hostname;
        u.role = agent->spec.role;
        u.cpus = agent->spec.cpus - agent->used_cpus;
        u.mem = agent->spec.mem - agent->used_mem;
        u.disk = agent->spec.disk - agent->used_disk;
        u.gpus = agent->spec.gpus - agent->used_gpus;
        u.ports = agent->spec.ports;
        u.at = now;
        u.reasons = std::move(reasons);
        stats.last_by_agent[agent->spec.id] = std::move(u);
        continue;
      }
      stats.last_used_at = now;
      while (missing > 0 && decline_reasons(app->spec, *app, *agent).empty()) {
        Task t;
        t.id = task_id_prefix(app->spec.id) + ".instance-" + new_uuid() + "._app.1";
        t.app_id = app->spec.id;
        t.agent_id = agent->spec.id;
        t.host = agent->spec.hostname;
        t.ports = take_ports(*agent, app->spec);
        t.staged_at = now;
        t.version = app->last_config_change_at;
        t.cpus = app->spec.cpus;
        t.mem = app->spec.mem;
        t.disk = app->spec.disk;
        t.gpus = app->spec.gpus;
        t.launched_in_cycle = cycle_;
        apply_task_faults(*app, t);
        agent->used_cpus += t.cpus;
        agent->used_mem += t.mem;
        agent->used_disk += t.disk;
        agent->used_gpus += t.gpus;
        ++task_counter_;
        if (wants("status_update_event")) emit("status_update_event", status_update(t, "TASK_STAGING", ""));
        app->tasks.push_back(std::move(t));
        ++live_tasks_;
        --missing;
      }
    }
    if (app->tasks.size() != had) changed(*app);
    if (missing == 0) app->launch.reset();
  }
}

void Simulator::run_offer_cycle() {
  ++cycle_;
  const auto now = clock_->now();
  if (!options_.faults.freeze_offers) {
    // Staged in an earlier cycle: running now.
    const bool status_events = wants("status_update_event");
    const bool instance_events = wants("instance_changed_event");
    const std::vector<App*> work = unsettled_apps();
    for (App* a : work) {
      App& app = *a;
      bool started = false;
      // Armed by a task fault: fails instead of running, or after running long enough.
      for (std::size_t i = app.tasks.size(); i-- > 0;) {
        const auto& t = app.tasks[i];
        if (!t.fails_after_running) continue;
        const bool at_start = t.state == TaskState::staging && t.launched_in_cycle < cycle_ &&
                              t.fails_after_running->count() == 0;
        const bool after_running = t.started_at && now >= *t.started_at + *t.fails_after_running;
        if (at_start || after_running) fail_task(app, i);
      }
      for (auto& t : app.tasks) {
        if (t.state == TaskState::staging && t.launched_in_cycle < cycle_) {
          t.state = TaskState::running;
          t.started_at = now;
          started = true;
          if (status_events) emit("status_update_event", status_update(t, "TASK_RUNNING", ""));
          if (instance_events) {
            json::object ic;
            ic["instanceId"] = t.id;
            ic["condition"] = "Running";
            ic["runSpecId"] = t.app_id;
            ic["agentId"] = t.agent_id;
            ic["host"] = t.host;
            ic["runSpecVersion"] = t.version;
            emit("instance_changed_event", ic);
          }
        }
      }
      if (started) changed(app);
    }
    // Tasks of removed apps.
    std::set<std::string> terminated;
    for (auto& t : terminating_) {
      terminated.insert(t.app_id);
      kill_task(nullptr, std::move(t), "TASK_KILLED", "");
    }
    terminating_.clear();
    for (const auto& id : terminated) {
      if (apps_.count(id)) continue;
      json::object e;
      e["appId"] = id;
      emit("app_terminated_event", e);
    }
    // Old config versions (restart) and instances beyond the target (scale down).
    for (App* a : work) {
      App& app = *a;
      const bool needs_kill =
          app.tasks.size() > static_cast<std::size_t>(app.spec.instances) ||
          std::any_of(app.tasks.begin(), app.tasks.end(),
                      [&](const Task& t) { return t.version != app.last_config_change_at; });
      if (!needs_kill) continue;
      changed(app);  // tasks go, or at least are put back in staging order
      std::vector<Task> keep;
      std::vector<Task> kill;
      for (auto& t : app.tasks) (t.version != app.last_config_change_at ? kill : keep).push_back(std::move(t));
      // YOUNGEST_FIRST: the most recently staged go first.
      std::stable_sort(keep.begin(), keep.end(), [](const Task& a, const Task& b) { return a.staged_at < b.staged_at; });
      while (keep.size() > static_cast<std::size_t>(app.spec.instances)) {
        kill.push_back(std::move(keep.back()));
        keep.pop_back();
      }
      if (kill.empty()) {
        app.tasks = std::move(keep);
        continue;
      }
      app.tasks = std::move(keep);
      live_tasks_ -= kill.size();
      for (auto& t : kill) kill_task(&app, std::move(t), "TASK_KILLED", "");
    }
    launch_into_queue(work);
    for (App* app : work)
      if (settled(*app)) unsettled_.erase(app->spec.id);
  }
  progress_deployments();
}

void Simulator::advance(std::chrono::milliseconds d) {
  auto* manual = dynamic_cast<ManualTimeSource*>(clock_.get());
  const auto target = clock_->now() + d;
  while (next_cycle_at_ <= target) {
    if (manual) manual->advance(next_cycle_at_ - clock_->now());
    run_offer_cycle();
    next_cycle_at_ += options_.offer_period;
  }
  if (manual) manual->advance(target - clock_->now());
}

}  // namespace hmc::marathon_sim
