#pragma once
// The status the controller writes back to ZooKeeper, one node per topology at
// <controller root>/status/<name> (JSON, documented in docs/desired-state.md).

#include "hmc/common/clock.hpp"
#include "hmc/reconciler/restart.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::reconciler {

inline constexpr int kStatusSchemaVersion = 1;

enum class Phase { Pending, Deploying, Running, Waiting, Suspended, Killing, Failed };
enum class Health { Healthy, Progressing, Degraded, Suspended, Missing, Unknown };
enum class ConditionStatus { True, False, Unknown };

// Condition types used by the controller.
inline constexpr const char* kCondSynced = "Synced";            // Marathon matches the spec
inline constexpr const char* kCondAvailable = "Available";      // every container runs
inline constexpr const char* kCondWaiting = "Waiting";          // stuck for offers
inline constexpr const char* kCondSpecValid = "SpecValid";      // desired node parses
inline constexpr const char* kCondDrift = "DriftDetected";      // changed by hand
inline constexpr const char* kCondOrphaned = "Orphaned";        // our group, no desired node
inline constexpr const char* kCondKilling = "Killing";          // a kill is in progress
inline constexpr const char* kCondFailing = "Failing";          // containers start and die

struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::Unknown;
  std::string reason;   // CamelCase
  std::string message;
  TimePoint last_transition_time{};
  bool operator==(const Condition&) const = default;
};

struct AppStatus {
  std::string id;
  int instances = 0;
  int tasks_running = 0;
  int tasks_staged = 0;
  bool operator==(const AppStatus&) const = default;
};

struct WaitingReason {
  std::string reason;  // InsufficientCpus ...
  int declined = 0;
  int processed = 0;
  bool operator==(const WaitingReason&) const = default;
};

// The diagnosis of a Waiting topology (issue: waiting deployments).
struct WaitingDiagnosis {
  std::string kind;     // "Unschedulable" or "InsufficientCapacity" or "Unknown"
  std::string summary;  // one line for humans
  std::optional<TimePoint> since;
  std::vector<std::string> apps;
  std::vector<WaitingReason> reasons;
  bool operator==(const WaitingDiagnosis&) const = default;
};

// What the controller remembers of one app's task failures between
// reconciles (Marathon shows only the last one): the failures of the app's
// current config version inside the failure window.
struct AppFailures {
  std::string app;                         // app id
  std::optional<TimePoint> config_version; // versionInfo.lastConfigChangeAt they belong to
  std::string task_id;                     // the last failed task counted
  std::vector<TimePoint> times;            // oldest first, at most kMaxFailureTimes
  bool operator==(const AppFailures&) const = default;
};
inline constexpr std::size_t kMaxFailureTimes = 10;

struct TopologyStatus {
  int schema_version = kStatusSchemaVersion;
  std::string name;
  std::int64_t observed_generation = -1;  // version of the desired node acted on
  Phase phase = Phase::Pending;
  Health health = Health::Unknown;
  std::vector<Condition> conditions;
  std::string group_id;
  std::vector<std::string> deployment_ids;
  std::vector<AppStatus> apps;
  int running_containers = 0;  // apps with a running task
  int total_containers = 0;    // apps desired (TManager included)
  std::optional<WaitingDiagnosis> waiting;
  std::vector<AppFailures> failures;  // apps with failures in the window
  RestartGenerations restarted;       // restart generations applied
  std::string last_error;
  int retry_count = 0;
  std::optional<TimePoint> next_retry_time;
  std::string leader;          // identity of the replica that wrote this
  TimePoint updated_at{};
  bool operator==(const TopologyStatus&) const = default;
};

const char* to_string(Phase p) noexcept;
const char* to_string(Health h) noexcept;
const char* to_string(ConditionStatus s) noexcept;
std::optional<Phase> parse_phase(std::string_view s) noexcept;
std::optional<Health> parse_health(std::string_view s) noexcept;
std::optional<ConditionStatus> parse_condition_status(std::string_view s) noexcept;

std::string to_json(const TopologyStatus& s);
// Lenient parse of a status node (for the CLI and for restarts); nullopt if not JSON.
std::optional<TopologyStatus> parse_status(std::string_view json);

// Sets or replaces the condition of that type, keeping lastTransitionTime when
// the status value did not change.
void set_condition(std::vector<Condition>& conds, Condition c);
const Condition* find_condition(const std::vector<Condition>& conds, std::string_view type);

}  // namespace hmc::reconciler
