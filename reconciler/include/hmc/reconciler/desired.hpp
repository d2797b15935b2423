#pragma once
// The desired state of one topology, as stored in ZooKeeper at
// <controller root>/topologies/<name> (JSON, documented in docs/desired-state.md).

#include "hmc/common/error.hpp"
#include "hmc/reconciler/restart.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::reconciler {

inline constexpr int kDesiredSchemaVersion = 1;
// Upper bound on `containers` (worker containers, TManager not counted).
inline constexpr int kMaxContainers = 1000;
// Upper bound on a decoded `topologyDefn`: the desired node must stay under
// ZooKeeper's default jute.maxbuffer (1 MB) after base64 (4/3) and the rest.
inline constexpr std::size_t kMaxTopologyDefnBytes = 512 * 1024;

enum class DesiredState { running, suspended, killed };
enum class OnStuck { wait, suspend };

struct Resources {
  double cpus = 1.0;
  double mem = 1024.0;   // MB
  double disk = 1024.0;  // MB
  bool operator==(const Resources&) const = default;
};

struct DesiredTopology {
  int schema_version = kDesiredSchemaVersion;
  std::string name;           // Marathon id segment rule, lower case
  std::string cluster;
  std::string role;
  std::string environ = "default";
  int containers = 1;         // worker containers; container 0 (TManager) is added
  Resources resources;        // per container; every container is sized the same
  std::string image;          // docker image
  std::string package;        // topology package URI (fetched and extracted)
  std::string core_uri;       // optional heron core package URI
  std::string topology_id;    // optional; defaults to "<name>-<hash>" on first write
  std::string topology_defn_file;  // optional; defaults to "<name>.defn"
  // Optional: Heron's Topology protobuf (the package's <name>.defn), standard
  // base64. With it the controller writes Heron's own state nodes and sizes
  // the containers from Heron's packing plan; `containers` and `resources`
  // then count only when the node gives them (the *_set flags), as overrides
  // checked against the plan. Without it both flags are true.
  std::string topology_defn;
  bool containers_set = true;
  bool resources_set = true;
  // Optional: who submitted it (Heron's ExecutionState.submission_user, which
  // `heron submit` takes from the submitting user); the CLI sets it.
  std::string submission_user;
  std::vector<std::string> executor_args;          // appended to heron-executor
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> labels;
  std::vector<std::vector<std::string>> constraints;  // Marathon constraint triples
  DesiredState state = DesiredState::running;
  OnStuck on_stuck = OnStuck::wait;
  // Restarts asked for (not part of the Marathon form, nor of spec_hash).
  RestartGenerations restart;
  bool operator==(const DesiredTopology&) const = default;
};

// A problem with one field of a desired node: `path` is a JSON pointer-like path
// ("/resources/cpus"), `message` says which rule it breaks.
struct FieldError {
  std::string path;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

struct SpecErrors {
  std::vector<FieldError> errors;
  std::string to_string() const;  // "/resources/cpus: must be > 0; /name: ..."
};

[[noreturn]] void throw_exception_from_error(const SpecErrors& e, const boost::source_location&);

// Parses and validates a desired node. Unknown fields, wrong types, bad names,
// non-positive resources and malformed URIs are all reported, each with its path.
boost::system::result<DesiredTopology, SpecErrors> parse_desired(std::string_view json);

// Validates an already-built value (the same rules as parse_desired).
std::vector<FieldError> validate(const DesiredTopology& t);

// Canonical JSON for a desired node (stable key order; round-trips through parse_desired).
std::string to_json(const DesiredTopology& t);

// Marathon's id segment rule, restricted to lower case; also refuses the reserved
// last segments (restart, tasks, versions, ., ..). Empty string = ok, else the reason.
std::string check_name(std::string_view name);

const char* to_string(DesiredState s) noexcept;
std::optional<DesiredState> parse_desired_state(std::string_view s) noexcept;
const char* to_string(OnStuck s) noexcept;
std::optional<OnStuck> parse_on_stuck(std::string_view s) noexcept;

}  // namespace hmc::reconciler
