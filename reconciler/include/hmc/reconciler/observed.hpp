#pragma once
// What the controller observed of Marathon and of Heron's ZooKeeper state, in
// one bulk snapshot. Built by the adapters, read by the pure reconciler.

#include "hmc/common/clock.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::reconciler {

// Labels the controller sets on every app it owns.
inline constexpr const char* kLabelManagedBy = "heron-marathon/managed-by";
inline constexpr const char* kManagedByValue = "heron-marathon-controller";
inline constexpr const char* kLabelTopology = "heron-marathon/topology";
inline constexpr const char* kLabelSpecHash = "heron-marathon/spec-hash";
inline constexpr const char* kLabelContainerIndex = "heron-marathon/container";
inline constexpr const char* kLabelDesiredInstances = "heron-marathon/instances";

// A 64-bit FNV-1a digest of a text the reconciler only compares (an app's
// cmd): a snapshot keeps 8 bytes per app instead of the whole command line.
inline std::uint64_t text_digest(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Label keys the controller reads; observed apps keep only these.
inline constexpr std::string_view kOwnLabelPrefix = "heron-marathon/";

// An app's lastTaskFailure (Marathon's TaskFailure, embed group.apps.lastTaskFailure).
// `version` is the app version the failed task was launched with.
struct TaskFailure {
  std::string task_id;
  std::string message;
  std::string state;  // TASK_FAILED, TASK_ERROR, TASK_LOST, ...
  std::string host;
  std::optional<TimePoint> timestamp;
  std::optional<TimePoint> version;
  bool operator==(const TaskFailure&) const = default;
};

struct ObservedApp {
  std::string id;          // absolute, e.g. /heron/topologies/wc/1
  int instances = 0;
  double cpus = 0, mem = 0, disk = 0;
  std::string image;
  std::uint64_t cmd_digest = 0;  // text_digest(cmd)
  std::map<std::string, std::string> labels;  // the controller's own (kOwnLabelPrefix) only
  int tasks_staged = 0, tasks_running = 0, tasks_healthy = 0, tasks_unhealthy = 0;
  std::vector<std::string> deployment_ids;  // from embed group.apps.deployments
  std::string version;
  std::string last_task_failure;  // message, empty if none
  // versionInfo.lastConfigChangeAt (else `version`): tasks launched at or
  // after it run the current config.
  std::optional<TimePoint> config_version;
  std::optional<TaskFailure> failure;  // the full lastTaskFailure, if any
};

struct ObservedGroup {
  std::string id;  // absolute, e.g. /heron/topologies/wc
  std::string version;
  std::vector<ObservedApp> apps;
};

struct DeploymentAction {
  std::string action;  // StartApplication, StopApplication, ScaleApplication, ...
  std::string app;
};

struct ObservedDeployment {
  std::string id;
  std::string version;
  std::vector<std::string> affected_apps;
  std::vector<DeploymentAction> current_actions;
  int current_step = 0;
  int total_steps = 0;
};

// One row of processedOffersSummary.rejectSummaryLastOffers.
struct RejectReason {
  std::string reason;  // InsufficientCpus, ...
  int declined = 0;
  int processed = 0;
};

struct OfferResources {
  double cpus = 0, mem = 0, disk = 0;
  int ports = 0;  // number of ports offered
};

struct UnusedOffer {
  std::string offer_id;
  std::string agent_id;
  std::string hostname;
  OfferResources resources;
  std::vector<std::string> reasons;
  std::optional<TimePoint> timestamp;
};

struct QueueEntry {
  std::string app_id;
  int count = 0;
  bool overdue = false;
  double delay_time_left_seconds = 0;
  std::optional<TimePoint> since;
  int processed_offers = 0;
  int unused_offers = 0;
  std::optional<TimePoint> last_unused_offer_at;
  std::optional<TimePoint> last_used_offer_at;
  std::vector<RejectReason> reject_summary_last_offers;
  std::vector<RejectReason> reject_summary_launch_attempt;
  std::vector<UnusedOffer> last_unused_offers;
};

// Everything seen of Marathon in one observation cycle.
struct MarathonSnapshot {
  std::uint64_t generation = 0;  // increases with every completed observation
  TimePoint started_at{};        // when the first of the bulk reads was sent
  std::map<std::string, ObservedGroup> groups;  // by absolute group id, under the root
  std::vector<ObservedDeployment> deployments;
  std::vector<QueueEntry> queue;
};

// Which of Heron's own state nodes exist for one topology, by directory name
// (topologies, packingplans, pplans, executionstate, schedulers, tmanagers,
// tmasters, metricscaches, locks, statefulcheckpoints).
struct HeronStateNodes {
  std::vector<std::string> present;  // absolute ZooKeeper paths that exist
  // For a topology with a topologyDefn only: text_digest of the data of the
  // nodes the controller writes (topologies, packingplans, executionstate),
  // by path, as read just before the reconcile; a path missing here is no node.
  std::map<std::string, std::uint64_t> digests;
};

}  // namespace hmc::reconciler
