// The pure reconciler. Every decision is derived from the observed state (and
// the status last written, for transition times and the start of a kill), so
// a controller restarted at any point picks the job up where it was.

#include "hmc/reconciler/reconcile.hpp"

#include "hmc/reconciler/heron_overrides.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace hmc::reconciler {

namespace {

enum class Ownership { absent, empty, ours, foreign };

bool app_is_ours(const ObservedApp& a, std::string_view name) {
  auto m = a.labels.find(kLabelManagedBy);
  if (m == a.labels.end() || m->second != kManagedByValue) return false;
  auto t = a.labels.find(kLabelTopology);
  return t == a.labels.end() || t->second == name;
}

bool same(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string fmt_duration(std::chrono::milliseconds d) {
  using namespace std::chrono;
  if (d.count() > 0 && d % minutes(1) == milliseconds(0))
    return std::to_string(d / minutes(1)) + "m";
  if (d.count() > 0 && d % seconds(1) == milliseconds(0))
    return std::to_string(d / seconds(1)) + "s";
  return std::to_string(d.count()) + "ms";
}

// Container index from an app id ("/heron/topologies/wc/3" -> 3), or -1.
long app_index(const std::string& id) { return container_index(id); }

class Reconciliation {
 public:
  Reconciliation(const ReconcilerConfig& cfg, const ReconcileInput& in)
      : cfg_(cfg), in_(in), snap_(*in.marathon), gid_(group_id_for(cfg, in.name)) {
    if (auto it = snap_.groups.find(gid_); it != snap_.groups.end()) group_ = &it->second;
    find_deployments();
    auto& s = plan_.status;
    s.name = in.name;
    s.observed_generation = in.desired_version;
    s.group_id = gid_;
    s.deployment_ids = deployments_;
    s.last_error = in.last_error;
    s.retry_count = in.retry_count;
    s.updated_at = in.now;
    if (in.previous) s.leader = in.previous->leader;
    fill_apps();
  }

  Plan run() {
    if (!in_.desired_raw) {
      no_desired_node();
    } else {
      auto parsed = parse_desired(*in_.desired_raw);
      std::vector<FieldError> errs;
      if (!parsed) errs = parsed.error().errors;
      else {
        if (parsed->name != in_.name)
          errs.push_back({"/name", "must match the node name '" + in_.name + "'"});
        if (resolved_image(cfg_, *parsed).empty())
          errs.push_back({"/image", "is required: the controller has no default image "
                                    "(heron.executor.docker.image)"});
        if (errs.empty() && !parsed->topology_defn.empty()) apply_heron_plan(*parsed, errs);
      }
      if (!errs.empty()) invalid_spec(errs);
      else {
        cond(kCondSpecValid, ConditionStatus::True, "Valid", "");
        desired_ = &*parsed;
        if (parsed->state == DesiredState::killed) kill();
        else converge();
        desired_ = nullptr;
      }
    }
    finish();
    return std::move(plan_);
  }

 private:
  // --- observation helpers ---------------------------------------------------

  Ownership ownership(bool adopt_empty) const {
    if (!group_) return Ownership::absent;
    if (group_->apps.empty()) return adopt_empty ? Ownership::empty : Ownership::foreign;
    for (const auto& a : group_->apps)
      if (app_is_ours(a, in_.name)) return Ownership::ours;
    return Ownership::foreign;
  }

  void find_deployments() {
    const std::string prefix = gid_ + "/";
    auto affects = [&](const std::string& app) { return app == gid_ || app.rfind(prefix, 0) == 0; };
    auto add = [&](const std::string& id) {
      if (!id.empty() && std::find(deployments_.begin(), deployments_.end(), id) == deployments_.end())
        deployments_.push_back(id);
    };
    for (const auto& d : snap_.deployments) {
      bool hit = std::any_of(d.affected_apps.begin(), d.affected_apps.end(), affects);
      for (const auto& a : d.current_actions) hit = hit || affects(a.app);
      if (hit) add(d.id);
    }
    if (group_)
      for (const auto& a : group_->apps)
        for (const auto& id : a.deployment_ids) add(id);
  }

  void fill_apps() {
    if (!group_) return;
    std::vector<std::pair<long, const ObservedApp*>> apps;
    for (const auto& a : group_->apps) apps.emplace_back(app_index(a.id), &a);
    std::sort(apps.begin(), apps.end(), [](const auto& x, const auto& y) {
      if (x.first != y.first) return x.first < y.first;
      return x.second->id < y.second->id;
    });
    auto& s = plan_.status;
    for (const auto& [_, a] : apps) {
      s.apps.push_back({a->id, a->instances, a->tasks_running, a->tasks_staged});
      if (a->tasks_running > 0) ++s.running_containers;
      tasks_running_ += a->tasks_running;
      tasks_staged_ += a->tasks_staged;
      if (a->instances > 0) any_instances_ = true;
    }
    s.total_containers = static_cast<int>(apps.size());
  }

  const Condition* previous_condition(std::string_view type) const {
    return in_.previous ? find_condition(in_.previous->conditions, type) : nullptr;
  }

  // Sets a condition; lastTransitionTime is kept from the previous status when
  // the condition's status value did not change.
  void cond(const char* type, ConditionStatus status, std::string reason, std::string message) {
    const Condition* prev = previous_condition(type);
    Condition c{type, status, std::move(reason), std::move(message),
                prev && prev->status == status ? prev->last_transition_time : in_.now};
    set_condition(plan_.status.conditions, std::move(c));
  }

  void set(Phase p, Health h) {
    plan_.status.phase = p;
    plan_.status.health = h;
  }

  void add(Action a) { plan_.actions.push_back(std::move(a)); }
  void progress() { plan_.requeue_after = cfg_.progress_requeue; }

  // The Heron state nodes that exist, in the order `heron kill` deletes them;
  // anything else reported for the topology goes before the topologies node,
  // which Heron's submit checks, so that node is always the last to go.
  std::vector<std::string> present_state_paths() const {
    const auto& present = in_.heron_state.present;
    auto known = heron_state_paths(cfg_, in_.name);
    const std::string topologies_node = known.back();
    known.pop_back();
    std::vector<std::string> out;
    for (const auto& p : known)
      if (std::find(present.begin(), present.end(), p) != present.end()) out.push_back(p);
    for (const auto& p : present)
      if (p != topologies_node && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    if (std::find(present.begin(), present.end(), topologies_node) != present.end())
      out.push_back(topologies_node);
    return out;
  }

  // --- Heron's own state (topologyDefn) ---------------------------------------------

  // Sizes the containers from Heron's packing plan; `containers` and
  // `resources` given beside a topologyDefn are overrides checked against it.
  // A kill goes ahead whatever the definition holds.
  void apply_heron_plan(DesiredTopology& t, std::vector<FieldError>& errs) const {
    const HeronDesired* h = in_.heron;
    const bool killing = t.state == DesiredState::killed;
    if (!h || !h->error.empty()) {
      if (!killing)
        errs.push_back({"/topologyDefn", h ? h->error : "Heron's state was not prepared from it"});
      return;
    }
    if (killing) {
      if (!t.containers_set) t.containers = h->containers;
      return;
    }
    const auto problems = heron_override_problems(t, {h->topology_name, h->topology_id, h->containers, h->largest});
    errs.insert(errs.end(), problems.begin(), problems.end());
    if (t.topology_id.empty()) t.topology_id = h->topology_id;
    if (!t.containers_set) t.containers = h->containers;
    if (!t.resources_set) t.resources = heron_plan_resources(h->largest);
  }

  // Heron's nodes that are missing or differ from the prepared ones.
  std::vector<WriteHeronState::Node> heron_state_to_write() const {
    std::vector<WriteHeronState::Node> out;
    if (!in_.heron || !in_.heron->error.empty()) return out;
    const auto& seen = in_.heron_state.digests;
    for (const auto& n : in_.heron->nodes) {
      auto it = seen.find(n.path);
      if (it == seen.end()) out.push_back({n.path, n.bytes, true});
      else if (it->second != n.digest) out.push_back({n.path, n.bytes, false});
    }
    return out;
  }

  // Adds WriteHeronState when a node is missing or differs; says which.
  std::string write_heron_state() {
    auto nodes = heron_state_to_write();
    if (nodes.empty()) return "";
    std::vector<std::string> what;
    for (const auto& n : nodes) what.push_back(n.path + (n.create ? " (missing)" : " (differs)"));
    add(WriteHeronState{std::move(nodes)});
    return "writing Heron's state " + join(what);
  }

  // --- no desired node ---------------------------------------------------------

  void no_desired_node() {
    const auto own = ownership(false);
    if (own == Ownership::ours) {
      const std::string msg = "group " + gid_ +
                              " carries the controller's labels but there is no desired node";
      if (cfg_.remove_orphan_groups) {
        cond(kCondOrphaned, ConditionStatus::True, "NoDesiredNode", msg + "; removing it");
        tear_down(kill_began(), /*stuck=*/false, "OrphanRemoval");
        set(Phase::Killing, Health::Progressing);
      } else {
        cond(kCondOrphaned, ConditionStatus::True, "NoDesiredNode",
             msg + "; it is left as it is (removeOrphanGroups is off)");
        set(Phase::Failed, Health::Unknown);
      }
      return;
    }
    const auto paths = present_state_paths();
    if (own == Ownership::absent && !paths.empty() && cfg_.clean_orphan_heron_state) {
      const auto mtime = in_.heron_state_modified;
      const std::string what = "Heron state of '" + in_.name +
                               "' is left with no desired node and no Marathon group";
      if (mtime && in_.now - *mtime >= cfg_.orphan_state_grace) {
        cond(kCondOrphaned, ConditionStatus::True, "OrphanHeronState",
             what + "; deleting " + std::to_string(paths.size()) + " nodes");
        add(DeleteHeronState{paths});
        add(ForgetTopology{in_.name, -1});
        set(Phase::Killing, Health::Missing);
      } else {
        cond(kCondOrphaned, ConditionStatus::True, "OrphanHeronState",
             what + "; it is deleted once untouched for " + fmt_duration(cfg_.orphan_state_grace));
        set(Phase::Failed, Health::Missing);
        auto wait = mtime ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                cfg_.orphan_state_grace - (in_.now - *mtime))
                          : cfg_.orphan_state_grace;
        plan_.requeue_after = std::max(wait, cfg_.progress_requeue);
      }
      return;
    }
    if (own == Ownership::absent && !paths.empty()) {
      cond(kCondOrphaned, ConditionStatus::True, "OrphanHeronState",
           "Heron state of '" + in_.name +
               "' is left with no desired node and no Marathon group; it is left as it is "
               "(cleaning of orphan Heron state is off)");
      set(Phase::Failed, Health::Missing);
      return;
    }
    // Nothing of ours is left: drop a stale status node rather than write one.
    // With no status known and no group at all there is nothing to drop.
    set(Phase::Failed, Health::Missing);
    if (in_.previous || group_) add(ForgetTopology{in_.name, -1});
  }

  // --- invalid desired node -------------------------------------------------------

  void invalid_spec(const std::vector<FieldError>& errs) {
    std::string msg = SpecErrors{errs}.to_string();
    if (msg.size() > 2000) msg = msg.substr(0, 2000) + "...";
    cond(kCondSpecValid, ConditionStatus::False, "InvalidSpec", msg);
    cond(kCondSynced, ConditionStatus::Unknown, "InvalidSpec",
         group_ ? "the desired node is invalid; the Marathon group is left as it is"
                : "the desired node is invalid; nothing is deployed");
    set(Phase::Failed, Health::Degraded);
  }

  void foreign_group() {
    cond(kCondSynced, ConditionStatus::False, "GroupNotOwned",
         "group " + gid_ + " exists but its apps do not carry the label " +
             std::string(kLabelManagedBy) + "=" + kManagedByValue + "; it is left alone");
    set(Phase::Failed, Health::Degraded);
  }

  // --- kill -------------------------------------------------------------------------

  TimePoint kill_began() const {
    const Condition* k = previous_condition(kCondKilling);
    return k && k->status == ConditionStatus::True ? k->last_transition_time : in_.now;
  }

  // One step of taking the group down: cancel in-flight deployments and
  // suspend; wait for tasks to stop; delete; wait for it to be gone.
  // Forces only when the suspend is blocked by a stuck deployment, or after
  // cfg.kill_force_after since `began`.
  void tear_down(TimePoint began, bool stuck, const char* reason) {
    const bool overdue = in_.now - began >= cfg_.kill_force_after;
    progress();
    std::string step;
    if (any_instances_) {
      for (const auto& d : deployments_) add(CancelDeployment{d});
      add(SuspendGroup{gid_, stuck || overdue});
      step = deployments_.empty() ? "suspending the group"
                                  : "cancelling deployments " + join(deployments_) +
                                        " and suspending the group";
    } else if (tasks_running_ + tasks_staged_ > 0) {
      const int n = tasks_running_ + tasks_staged_;
      if (overdue) {
        add(DeleteGroup{gid_, true});
        step = std::to_string(n) + " tasks still run after " + fmt_duration(cfg_.kill_force_after) +
               "; deleting the group with force";
      } else {
        step = "waiting for " + std::to_string(n) + " tasks to stop";
      }
    } else if (!deployments_.empty()) {
      if (overdue) {
        add(DeleteGroup{gid_, true});
        step = "deployments " + join(deployments_) + " still run after " +
               fmt_duration(cfg_.kill_force_after) + "; deleting the group with force";
      } else {
        step = "waiting for deployments " + join(deployments_) + " to finish";
      }
    } else {
      add(DeleteGroup{gid_, false});
      step = "deleting the group";
    }
    cond(kCondKilling, ConditionStatus::True, reason, step);
  }

  void kill() {
    const auto own = ownership(true);
    plan_.status.total_containers = desired_->containers + 1;
    if (own == Ownership::foreign) {
      foreign_group();
      return;
    }
    set(Phase::Killing, Health::Progressing);
    cond(kCondAvailable, ConditionStatus::False, "Killing", "the topology is being killed");
    if (group_) {
      const auto waiting = diagnose_waiting(cfg_, *desired_, snap_, in_.offers, in_.now);
      tear_down(kill_began(), waiting.has_value() && !deployments_.empty(), "KillRequested");
      return;
    }
    const auto paths = present_state_paths();
    if (!paths.empty()) add(DeleteHeronState{paths});
    add(ForgetTopology{in_.name, in_.desired_version});
    cond(kCondKilling, ConditionStatus::True, "KillRequested",
         paths.empty() ? "the group is gone; forgetting the topology"
                       : "the group is gone; deleting " + std::to_string(paths.size()) +
                             " Heron state nodes and forgetting the topology");
    progress();
  }

  // --- running / suspended ------------------------------------------------------

  // Differences between the observed apps and the desired form, for humans.
  std::vector<std::string> structural_differences(const std::vector<ExpectedApp>& want,
                                                  const std::string& hash) const {
    std::vector<std::string> diffs;
    std::unordered_map<std::string_view, const ObservedApp*> by_id;
    for (const auto& a : group_->apps) by_id.emplace(a.id, &a);
    std::unordered_set<std::string_view> wanted;
    for (const auto& w : want) {
      wanted.insert(w.id);
      auto it = by_id.find(w.id);
      if (it == by_id.end()) {
        diffs.push_back(w.id + " is missing");
        continue;
      }
      const auto& a = *it->second;
      auto h = a.labels.find(kLabelSpecHash);
      if (h == a.labels.end() || h->second != hash)
        diffs.push_back(w.id + " has spec-hash " + (h == a.labels.end() ? "(none)" : h->second) +
                        ", want " + hash);
      if (!same(a.cpus, w.cpus)) diffs.push_back(w.id + " cpus differ");
      if (!same(a.mem, w.mem)) diffs.push_back(w.id + " mem differs");
      if (!same(a.disk, w.disk)) diffs.push_back(w.id + " disk differs");
      if (a.image != w.image) diffs.push_back(w.id + " image differs");
      if (a.cmd_digest != text_digest(w.cmd)) diffs.push_back(w.id + " cmd differs");
    }
    for (const auto& a : group_->apps)
      if (!wanted.count(a.id)) diffs.push_back("unexpected app " + a.id);
    return diffs;
  }

  bool new_generation() const {
    return !in_.previous || in_.previous->observed_generation != in_.desired_version;
  }

  // Suspended by onStuck=suspend for this generation: stays so until the desired node changes.
  bool held_after_stuck() const {
    if (new_generation()) return false;
    const Condition* s = previous_condition(kCondSynced);
    return s && s->reason == "SuspendedOnStuck";
  }

  void converge() {
    const auto& t = *desired_;
    auto& s = plan_.status;
    s.total_containers = t.containers + 1;
    const auto own = ownership(true);
    if (own == Ownership::foreign) {
      foreign_group();
      return;
    }
    const bool held = t.state == DesiredState::running && held_after_stuck();
    const int target = t.state == DesiredState::running && !held ? 1 : 0;

    if (own == Ownership::absent || own == Ownership::empty) {
      const bool drift = own == Ownership::absent && in_.previous &&
                         in_.previous->group_id == gid_ &&
                         (in_.previous->phase == Phase::Deploying ||
                          in_.previous->phase == Phase::Running ||
                          in_.previous->phase == Phase::Waiting ||
                          in_.previous->phase == Phase::Suspended);
      const std::string body = build_group_json(cfg_, t, target);
      write_heron_state();
      if (own == Ownership::absent) add(CreateGroup{gid_, body});
      else add(UpdateGroup{gid_, body, false});
      if (drift) {
        cond(kCondSynced, ConditionStatus::False, "GroupMissing", "recreating group " + gid_);
        cond(kCondDrift, ConditionStatus::True, "GroupMissing",
             "group " + gid_ + " was deleted outside the controller; recreating it");
        set(Phase::Pending, Health::Missing);
      } else {
        cond(kCondSynced, ConditionStatus::False, "Creating", "creating group " + gid_);
        cond(kCondDrift, ConditionStatus::False, "NoDrift", "");
        set(Phase::Pending, Health::Progressing);
      }
      cond(kCondAvailable, ConditionStatus::False, "NotDeployed", "the group is being created");
      cond(kCondWaiting, ConditionStatus::False, "NotWaiting", "");
      cond(kCondFailing, ConditionStatus::False, "NoFailures", "");
      plan_.status.restarted = t.restart;  // new tasks: nothing left to restart
      progress();
      return;
    }

    const std::string hash = spec_hash(cfg_, t);
    const auto want = expected_apps(cfg_, t, target);
    const auto diffs = structural_differences(want, hash);
    bool instances_differ = false, all_zero = true;
    for (const auto& a : group_->apps) {
      if (a.instances != target) instances_differ = true;
      if (a.instances != 0) all_zero = false;
    }
    const auto waiting = diagnose_waiting(cfg_, t, snap_, in_.offers, in_.now);
    const bool stuck = waiting.has_value() && !deployments_.empty();
    // Without a previous status nothing is known to be pending: a restart
    // generation already set counts as applied; so it does while suspended
    // (no task to restart).
    plan_.status.restarted = in_.previous && target == 1 ? in_.previous->restarted : t.restart;
    report_failures(target);

    if (!diffs.empty() || instances_differ) {
      plan_change(t, target, diffs, held, all_zero, stuck, waiting);
      return;
    }
    // The apps are as wanted; Heron's nodes may still be missing or differ.
    const std::string heron = write_heron_state();
    // Within a generation the controller wrote them before the group: what
    // differs now was changed by hand, drift as apps edited by hand are.
    if (!heron.empty() && !new_generation())
      cond(kCondDrift, ConditionStatus::True, "HeronStateChanged",
           "Heron's state was changed outside the controller; " + heron);
    else
      cond(kCondDrift, ConditionStatus::False, "NoDrift", "");
    if (target == 0) settle_suspended(held);
    else settle_running(t, waiting);
    if (!heron.empty()) {
      // Reported unless a hold (SuspendedOnStuck) already says why it is not in sync.
      const Condition* synced = find_condition(plan_.status.conditions, kCondSynced);
      if (synced && synced->reason == "InSync")
        cond(kCondSynced, ConditionStatus::False, "HeronStateChanged", heron);
      progress();
    }
  }

  void report_waiting(const std::optional<WaitingDiagnosis>& w) {
    if (!w) {
      cond(kCondWaiting, ConditionStatus::False, "NotWaiting", "");
      return;
    }
    std::string msg = w->summary;
    if (const auto r = format_reasons(w->reasons); !r.empty()) msg += " Declined offers: " + r + ".";
    msg += " Waiting since " + (w->since ? format_time(*w->since) : std::string("?")) + " for " +
           join(w->apps) + ".";
    cond(kCondWaiting, ConditionStatus::True, w->kind, msg);
    plan_.status.waiting = w;
  }

  void plan_change(const DesiredTopology& t, int target, const std::vector<std::string>& diffs,
                   bool held, bool all_zero, bool stuck,
                   const std::optional<WaitingDiagnosis>& waiting) {
    progress();
    report_waiting(waiting);
    set(waiting ? Phase::Waiting : Phase::Deploying, Health::Progressing);
    cond(kCondAvailable, all_running(target) ? ConditionStatus::True : ConditionStatus::False,
         all_running(target) ? "AllRunning" : "Deploying", running_message());
    std::string reason;
    std::string message;
    bool drift = false;
    if (!diffs.empty()) {
      drift = !new_generation();
      reason = drift ? "AppsModified" : "SpecChanged";
      message = diffs.size() > 5 ? join({diffs.begin(), diffs.begin() + 5}, "; ") + "; ..."
                                 : join(diffs, "; ");
    } else if (target == 0) {
      reason = "Suspending";
      message = "scaling every app to 0 instances";
    } else if (all_zero && new_generation()) {
      reason = "Resuming";
      message = "restoring 1 instance per app";
    } else {
      drift = !new_generation();
      reason = drift ? "AppsModified" : "SpecChanged";
      message = "app instances differ from " + std::to_string(target);
    }
    if (held) {
      reason = "SuspendedOnStuck";
      message = held_message();
      if (!waiting && in_.previous) plan_.status.waiting = in_.previous->waiting;
    }
    if (drift)
      cond(kCondDrift, ConditionStatus::True, "AppsModified",
           "apps were changed outside the controller; putting them back: " + message);
    else
      cond(kCondDrift, ConditionStatus::False, "NoDrift", "");
    // The deployment of failing containers never finishes (their instances
    // never all run) and holds the apps: the change is forced past it.
    const bool failing_deploy = !deployments_.empty() && failures_ && failures_->failing;
    if (!deployments_.empty() && !stuck && !failing_deploy) {
      // Marathon refuses (409) a change of apps a deployment is rolling; wait for it.
      cond(kCondSynced, ConditionStatus::False, "DeploymentInProgress",
           "waiting for deployments " + join(deployments_) + " to finish before applying the change (" +
               message + ")");
      return;
    }
    if (stuck) {
      for (const auto& d : deployments_) add(CancelDeployment{d});
      message += "; cancelling stuck deployments " + join(deployments_);
    }
    if (const auto heron = write_heron_state(); !heron.empty()) message += "; " + heron;
    if (failing_deploy && !stuck)
      message += "; forcing past deployments " + join(deployments_) + " of failing containers";
    if (diffs.empty() && target == 0) add(SuspendGroup{gid_, stuck || failing_deploy});
    else add(UpdateGroup{gid_, build_group_json(cfg_, t, target), failing_deploy && !stuck});
    // Every app gets new tasks (or none): nothing left to restart.
    plan_.status.restarted = t.restart;
    cond(kCondSynced, ConditionStatus::False, reason, message);
  }

  bool all_running(int target) const {
    if (!group_ || target == 0) return false;
    for (const auto& a : group_->apps)
      if (a.tasks_running < target) return false;
    return static_cast<int>(group_->apps.size()) == plan_.status.total_containers;
  }

  std::string running_message() const {
    return std::to_string(plan_.status.running_containers) + " of " +
           std::to_string(plan_.status.total_containers) + " containers running";
  }

  void settle_suspended(bool held) {
    cond(kCondWaiting, ConditionStatus::False, "NotWaiting", "");
    // Keep the diagnosis that led to the suspension visible.
    if (held && in_.previous) plan_.status.waiting = in_.previous->waiting;
    if (tasks_running_ + tasks_staged_ > 0 || !deployments_.empty()) {
      cond(kCondSynced, held ? ConditionStatus::False : ConditionStatus::True,
           held ? "SuspendedOnStuck" : "InSync", held ? held_message() : "");
      cond(kCondAvailable, ConditionStatus::False, "Suspending",
           "waiting for " + std::to_string(tasks_running_ + tasks_staged_) + " tasks to stop");
      set(Phase::Deploying, held ? Health::Degraded : Health::Progressing);
      progress();
      return;
    }
    cond(kCondAvailable, ConditionStatus::False, "Suspended", "every app has 0 instances");
    if (held) {
      cond(kCondSynced, ConditionStatus::False, "SuspendedOnStuck", held_message());
      set(Phase::Suspended, Health::Degraded);
    } else {
      cond(kCondSynced, ConditionStatus::True, "InSync", "");
      set(Phase::Suspended, Health::Suspended);
    }
  }

  std::string held_message() const {
    return "suspended after waiting for offers longer than " + fmt_duration(cfg_.waiting_deadline) +
           " (onStuck: suspend); change the desired node to try again";
  }

  void settle_running(const DesiredTopology& t, const std::optional<WaitingDiagnosis>& waiting) {
    const bool restarting = plan_restarts(t);
    if (!restarting) cond(kCondSynced, ConditionStatus::True, "InSync", "");
    report_waiting(waiting);
    const bool ok = all_running(1);
    cond(kCondAvailable, ok ? ConditionStatus::True : ConditionStatus::False,
         ok ? "AllRunning" : "ContainersNotRunning", running_message());
    if (restarting) {
      set(Phase::Deploying, Health::Progressing);
      progress();
      return;
    }
    if (waiting) {
      const bool late = waiting->since && in_.now - *waiting->since >= cfg_.waiting_deadline;
      set(Phase::Waiting, late ? Health::Degraded : Health::Progressing);
      progress();
      if (late && t.on_stuck == OnStuck::suspend) {
        for (const auto& d : deployments_) add(CancelDeployment{d});
        add(SuspendGroup{gid_, true});
        cond(kCondSynced, ConditionStatus::False, "SuspendedOnStuck",
             "waited for offers since " + format_time(*waiting->since) + ", longer than " +
                 fmt_duration(cfg_.waiting_deadline) + "; suspending (onStuck: suspend)");
      }
      return;
    }
    if (!deployments_.empty()) {
      set(Phase::Deploying, Health::Progressing);
      progress();
      return;
    }
    if (ok) {
      set(Phase::Running, Health::Healthy);
      return;
    }
    // Not all running and nothing deploying: Marathon is relaunching, or tasks fail.
    progress();
    std::vector<std::string> failures;
    for (const auto& a : group_->apps)
      if (a.tasks_running == 0 && !a.last_task_failure.empty())
        failures.push_back(a.id + ": " + a.last_task_failure);
    const bool queued = std::any_of(snap_.queue.begin(), snap_.queue.end(), [&](const QueueEntry& e) {
      return e.app_id.rfind(gid_ + "/", 0) == 0;
    });
    if (tasks_staged_ > 0 || (queued && failures.empty())) {
      set(Phase::Running, Health::Progressing);
    } else {
      set(Phase::Running, Health::Degraded);
      if (!failures.empty())
        cond(kCondAvailable, ConditionStatus::False, "ContainersNotRunning",
             running_message() + "; last failures: " + join(failures, "; "));
    }
  }

  // --- failing containers and restarts -------------------------------------------

  // The Failing condition: task failures of the current config in the window.
  void report_failures(int target) {
    if (target == 0) {
      cond(kCondFailing, ConditionStatus::False, "NoFailures", "");
      return;
    }
    failures_ = track_failures(cfg_, *group_, in_.previous ? in_.previous->failures : std::vector<AppFailures>{},
                               snap_, in_.now);
    plan_.status.failures = failures_->memory;
    plan_.new_container_failures = failures_->new_failures;
    if (failures_->failing) {
      cond(kCondFailing, ConditionStatus::True, "TasksFailing", failures_->message);
      progress();  // count the next failures, and let the window pass
    } else {
      cond(kCondFailing, ConditionStatus::False, "NoFailures", "");
    }
  }

  bool app_locked(const ObservedApp& a) const {
    if (!a.deployment_ids.empty()) return true;
    return std::any_of(snap_.deployments.begin(), snap_.deployments.end(), [&](const ObservedDeployment& d) {
      return std::find(d.affected_apps.begin(), d.affected_apps.end(), a.id) != d.affected_apps.end();
    });
  }

  bool launch_delayed(const std::string& app_id) const {
    return std::any_of(snap_.queue.begin(), snap_.queue.end(), [&](const QueueEntry& q) {
      return q.app_id == app_id && !q.overdue && q.delay_time_left_seconds > 0;
    });
  }

  // A restart generation of the desired node ahead of the applied one: clear
  // the launch backoff, then restart the app (forced when a deployment holds
  // it: a failing app's deployment never finishes). True when planned.
  bool plan_restarts(const DesiredTopology& t) {
    auto& applied = plan_.status.restarted;
    std::vector<const ObservedApp*> apps;
    std::string what;
    if (t.restart.generation > applied.generation) {
      for (const auto& a : group_->apps) apps.push_back(&a);
      std::sort(apps.begin(), apps.end(),
                [](const ObservedApp* x, const ObservedApp* y) { return app_index(x->id) < app_index(y->id); });
      what = "restarting every container (restart generation " + std::to_string(t.restart.generation) + ")";
    } else {
      std::vector<std::string> which;
      for (const auto& [index, gen] : t.restart.containers) {
        auto was = applied.containers.find(index);
        if (gen <= (was == applied.containers.end() ? 0 : was->second)) continue;
        const std::string id = app_id_for(cfg_, in_.name, index);
        for (const auto& a : group_->apps)
          if (a.id == id) {
            apps.push_back(&a);
            which.push_back(std::to_string(index) + " (its restart generation " + std::to_string(gen) + ")");
          }
      }
      what = (which.size() == 1 ? "restarting container " : "restarting containers ") + join(which);
    }
    applied = t.restart;
    if (apps.empty()) return false;
    for (const auto* a : apps) {
      if (launch_delayed(a->id)) add(ResetLaunchDelay{a->id});
      add(RestartApp{a->id, app_locked(*a)});
    }
    cond(kCondSynced, ConditionStatus::False, "Restarting", what);
    return true;
  }

  void finish() {
    auto& s = plan_.status;
    if (in_.retry_count >= 3 && s.health == Health::Progressing) s.health = Health::Degraded;
    if (failures_ && failures_->failing && (s.health == Health::Healthy || s.health == Health::Progressing))
      s.health = Health::Degraded;
    // Conditions in a fixed order, so the status node diffs cleanly.
    static constexpr const char* order[] = {kCondSpecValid, kCondSynced,   kCondAvailable,
                                            kCondWaiting,   kCondDrift,    kCondKilling,
                                            kCondOrphaned,  kCondFailing};
    auto rank = [](const std::string& type) {
      for (std::size_t i = 0; i < std::size(order); ++i)
        if (type == order[i]) return i;
      return std::size(order);
    };
    std::stable_sort(s.conditions.begin(), s.conditions.end(),
                     [&](const Condition& a, const Condition& b) { return rank(a.type) < rank(b.type); });
  }

  const ReconcilerConfig& cfg_;
  const ReconcileInput& in_;
  const MarathonSnapshot& snap_;
  const std::string gid_;
  const ObservedGroup* group_ = nullptr;
  const DesiredTopology* desired_ = nullptr;
  std::vector<std::string> deployments_;
  int tasks_running_ = 0, tasks_staged_ = 0;
  bool any_instances_ = false;
  std::optional<FailureReport> failures_;  // running topologies with a group of ours
  Plan plan_;
};

}  // namespace

Plan reconcile(const ReconcilerConfig& cfg, const ReconcileInput& in) {
  if (!in.marathon) {
    // No observation: deciding anything would act on a guess.
    Plan p;
    p.status.name = in.name;
    p.status.observed_generation = in.desired_version;
    p.status.group_id = group_id_for(cfg, in.name);
    p.status.last_error = in.last_error;
    p.status.retry_count = in.retry_count;
    p.status.updated_at = in.now;
    set_condition(p.status.conditions, {kCondSynced, ConditionStatus::Unknown, "NotObserved",
                                        "Marathon has not been observed", in.now});
    p.requeue_after = cfg.progress_requeue;
    return p;
  }
  return Reconciliation(cfg, in).run();
}

}  // namespace hmc::reconciler
