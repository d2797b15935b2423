#pragma once
// A plan: the ordered Marathon and ZooKeeper actions the reconciler decided,
// carried out by the controller through the adapters, in order, stopping at
// the first failure.

#include "hmc/reconciler/status.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hmc::reconciler {

// POST /v2/groups with `body` (a complete group JSON).
struct CreateGroup {
  std::string group_id;
  std::string body;
  bool operator==(const CreateGroup&) const = default;
};
// PUT /v2/groups/<id> with the full app set (structural update).
struct UpdateGroup {
  std::string group_id;
  std::string body;
  bool force = false;
  bool operator==(const UpdateGroup&) const = default;
};
// PUT /v2/groups/<id> {"scaleBy": 0}.
struct SuspendGroup {
  std::string group_id;
  bool force = false;
  bool operator==(const SuspendGroup&) const = default;
};
// DELETE /v2/deployments/<id>?force=true (cancel without rollback).
struct CancelDeployment {
  std::string deployment_id;
  bool operator==(const CancelDeployment&) const = default;
};
// DELETE /v2/groups/<id>?force=<force>.
struct DeleteGroup {
  std::string group_id;
  bool force = false;
  bool operator==(const DeleteGroup&) const = default;
};
// Delete Heron's own ZooKeeper state nodes (absolute paths, deepest first).
struct DeleteHeronState {
  std::vector<std::string> paths;
  bool operator==(const DeleteHeronState&) const = default;
};
// Delete the desired and status nodes: the kill is complete.
// `desired_version` is the version of the desired node the kill was read from:
// delete it only at that version (a resubmit in the meantime must survive);
// -1 means no desired node is expected, only the status node is removed.
struct ForgetTopology {
  std::string name;
  std::int64_t desired_version = -1;
  bool operator==(const ForgetTopology&) const = default;
};

// Write Heron's own state nodes (topology, packing plan, execution state) in
// one ZooKeeper multi: create the missing ones, set the ones that differ.
// Comes before the CreateGroup or UpdateGroup whose containers read them.
struct WriteHeronState {
  struct Node {
    std::string path;
    std::string bytes;
    bool create = false;  // missing: create (else set)
    bool operator==(const Node&) const = default;
  };
  std::vector<Node> nodes;
  bool operator==(const WriteHeronState&) const = default;
};

// DELETE /v2/queue/<app>/delay: drop the app's launch backoff (before a restart).
struct ResetLaunchDelay {
  std::string app_id;
  bool operator==(const ResetLaunchDelay&) const = default;
};
// POST /v2/apps/<app>/restart?force=<force>: replace the app's tasks.
struct RestartApp {
  std::string app_id;
  bool force = false;
  bool operator==(const RestartApp&) const = default;
};

using Action = std::variant<CreateGroup, UpdateGroup, SuspendGroup, CancelDeployment,
                            DeleteGroup, DeleteHeronState, ForgetTopology, WriteHeronState,
                            ResetLaunchDelay, RestartApp>;

// Short name of an action for logs and metrics ("CreateGroup", ...).
const char* action_name(const Action& a) noexcept;
// One line for logs: action name and its target.
std::string describe(const Action& a);

struct Plan {
  std::vector<Action> actions;
  // Reconcile again after this long even without an event (progress checks).
  std::optional<std::chrono::milliseconds> requeue_after;
  TopologyStatus status;  // the status to write (unless the topology is forgotten)
  // Task failures first counted by this reconcile (for the failure counter);
  // status.failures remembers them.
  int new_container_failures = 0;
};

}  // namespace hmc::reconciler
