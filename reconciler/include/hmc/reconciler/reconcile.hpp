#pragma once
// The pure reconciler: (desired, observed, now) -> plan + status + requeue hint.
// No I/O, no clock reads, no logging. Deterministic for the same input.

#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/heron_desired.hpp"
#include "hmc/reconciler/observed.hpp"
#include "hmc/reconciler/plan.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::reconciler {

using namespace std::chrono_literals;

struct ReconcilerConfig {
  std::string group_root = "/heron/topologies";  // Marathon group of all topologies
  std::string heron_root = "/heron";             // heron.statemgr.root.path
  std::string state_manager_connection = "127.0.0.1:2181";  // passed to heron-executor
  std::string default_image;     // heron.executor.docker.image
  std::string default_core_uri;  // heron.package.core.uri
  bool remove_orphan_groups = false;         // delete groups we own with no desired node
  bool clean_orphan_heron_state = true;      // delete Heron state with no group, no desired node
  std::chrono::milliseconds orphan_state_grace = 5min;  // ... untouched for this long (unknown age: kept)
  std::chrono::milliseconds kill_force_after = 2min;    // a kill may force after this long
  std::chrono::milliseconds waiting_deadline = 10min;   // Waiting longer -> Degraded
  std::chrono::milliseconds waiting_threshold = 30s;    // queued + overdue this long -> Waiting
  std::chrono::milliseconds progress_requeue = 2s;      // re-check while something moves
  std::chrono::milliseconds failure_window = 10min;     // task failures counted this long -> Failing
};

// The largest offer resources seen over the configured window (kept by the
// controller from the queue's lastUnusedOffers and the known agents).
struct OfferHistory {
  std::optional<OfferResources> largest;  // component-wise maxima of single offers
  std::chrono::milliseconds window = 10min;
  int offers_seen = 0;
};

struct ReconcileInput {
  std::string name;                         // the topology (the work-queue key)
  std::optional<std::string> desired_raw;   // the desired node's bytes; nullopt: no node
  std::int64_t desired_version = -1;        // its ZooKeeper version (observedGeneration)
  std::optional<TopologyStatus> previous;   // the status last written, if any
  const MarathonSnapshot* marathon = nullptr;  // never null when called
  HeronStateNodes heron_state;
  std::optional<TimePoint> heron_state_modified;  // newest mtime of those nodes
  // Heron's state prepared from the desired node's topologyDefn (null: the
  // node has none). heron_state.digests then holds what those nodes contain.
  const HeronDesired* heron = nullptr;
  OfferHistory offers;
  std::string last_error;   // failure of the previous plan's execution, if any
  int retry_count = 0;      // consecutive failures of this key
  TimePoint now{};
};

// Decides one step toward the desired state of `in.name` (rules in
// docs/desired-state.md, section 4). Never throws on bad input: an invalid
// desired node gives a plan without actions, SpecValid=False and no requeue.
// Actions are meant to run in order, stopping at the first failure; a plan
// ending in ForgetTopology needs no status write. Deterministic; reads no clock.
Plan reconcile(const ReconcilerConfig& cfg, const ReconcileInput& in);

// Why the topology's apps wait in Marathon's launch queue, from the queue
// entries of the group's apps and the largest offers seen. nullopt unless some
// app of the group has been queued and overdue for at least cfg.waiting_threshold.
std::optional<WaitingDiagnosis> diagnose_waiting(const ReconcilerConfig& cfg,
                                                 const DesiredTopology& t,
                                                 const MarathonSnapshot& snapshot,
                                                 const OfferHistory& offers, TimePoint now);

// Task failures of a topology's apps, counted across snapshots: Marathon
// shows only each app's lastTaskFailure, so the failures already counted
// (their task ids and times) are remembered in the status.
struct FailureReport {
  std::vector<AppFailures> memory;  // what the status keeps (apps with failures in the window)
  int new_failures = 0;             // failures not counted before
  bool failing = false;             // some app failed in the window with its current config
  std::string message;              // which containers, how many, the last failure, the backoff
};

// Counts the failures of `group`'s apps with their current config version
// (a failure of an older version, one before the app's
// versionInfo.lastConfigChangeAt, no longer counts) inside
// cfg.failure_window before `now`, continuing from `previous`; at most
// kMaxFailureTimes are kept per app. The launch backoff left comes from the
// apps' queue entries in `snapshot`.
FailureReport track_failures(const ReconcilerConfig& cfg, const ObservedGroup& group,
                             const std::vector<AppFailures>& previous, const MarathonSnapshot& snapshot,
                             TimePoint now);

// The container index of an app id ("/heron/topologies/wc/3" -> 3), or -1.
long container_index(std::string_view app_id);

// "InsufficientCpus: 75 of 123 offers, InsufficientMemory: 15 of 48 offers"
// (rows with declined > 0 only).
std::string format_reasons(const std::vector<WaitingReason>& reasons);

// The Marathon group id of a topology: <group_root>/<name>.
std::string group_id_for(const ReconcilerConfig& cfg, std::string_view name);

// The full Marathon group body for a desired topology, in Heron's shape (one
// app per container, container 0 the TManager, fixed port order) plus the
// ownership labels and the spec hash. `instances` is 1 when running, 0 suspended.
std::string build_group_json(const ReconcilerConfig& cfg, const DesiredTopology& t, int instances);

// Hash of everything in the spec that shapes the Marathon apps (not `state`).
std::string spec_hash(const ReconcilerConfig& cfg, const DesiredTopology& t);

// One app of the Marathon form, as the reconciler compares it with what it observes.
struct ExpectedApp {
  std::string id;
  int instances = 1;
  double cpus = 0, mem = 0, disk = 0;
  std::string image;
  std::string cmd;
  bool operator==(const ExpectedApp&) const = default;
};

// The apps of the Marathon form (container 0..containers), in order.
std::vector<ExpectedApp> expected_apps(const ReconcilerConfig& cfg, const DesiredTopology& t,
                                       int instances);

// The app id of one container: <group id>/<index>.
std::string app_id_for(const ReconcilerConfig& cfg, std::string_view name, int index);

// The shell command of one container: "cd $MESOS_SANDBOX && ./heron-core/bin/heron-executor
// --shard=<i> ... --server-port=$PORT0 ... --checkpoint-manager-port=$PORT8 <executorArgs>".
std::string executor_command(const ReconcilerConfig& cfg, const DesiredTopology& t, int index);

// The nine port names in $PORT0..$PORT8 order.
std::vector<std::string> port_names();

// The image and core package URI after the controller's defaults are applied.
std::string resolved_image(const ReconcilerConfig& cfg, const DesiredTopology& t);
std::string resolved_core_uri(const ReconcilerConfig& cfg, const DesiredTopology& t);

// Heron's state node paths for a topology under cfg.heron_root, in the order
// `heron kill` deletes them (locks, ... topologies last).
std::vector<std::string> heron_state_paths(const ReconcilerConfig& cfg, std::string_view name);

}  // namespace hmc::reconciler
