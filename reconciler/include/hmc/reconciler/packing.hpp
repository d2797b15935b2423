#pragma once
// Heron's default packing, RoundRobinPacking, ported without protobuf.
// Follows org.apache.heron.packing.roundrobin.RoundRobinPacking (Apache Heron
// incubator-heron master, heron/packing/src/java/.../RoundRobinPacking.java):
// instances of every component are dealt over `topology.stmgrs` containers one
// by one (components with larger `topology.component.rammap` entries first);
// per-instance RAM/CPU come from the component maps, else the container's free
// share; containers get the stmgr/metricsmgr padding. Documented in docs/heron-state.md.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace hmc::reconciler {

inline constexpr std::int64_t kGigabyte = 1024LL * 1024 * 1024;
inline constexpr std::int64_t kMegabyte = 1024LL * 1024;

// The most instances (sum of parallelisms) a plan may have. Heron sets no
// bound, but the definition is untrusted input and each instance is a slot in
// the plan the controller keeps and writes to ZooKeeper (about 60 bytes each
// in packing_plan). Real topologies run hundreds to a few thousand.
inline constexpr std::int64_t kMaxPackedInstances = 100000;

struct PackingInput {
  std::string topology_id;
  // Components in topology order (spouts, then bolts), with their parallelism.
  std::vector<std::pair<std::string, int>> components;
  // The topology config (Topology.topology_config key/values).
  std::map<std::string, std::string> config;
  // Heron's cluster defaults (heron.resources.instance.*): 1 CPU, 1 GB RAM, 1 GB disk.
  double instance_cpu = 1.0;
  std::int64_t instance_ram = kGigabyte;
  std::int64_t instance_disk = kGigabyte;
};

struct PackedResource {
  double cpu = 0;
  std::int64_t ram = 0;   // bytes
  std::int64_t disk = 0;  // bytes
  bool operator==(const PackedResource&) const = default;
};

struct PackedInstance {
  std::string component;
  int task_id = 0;          // global, from 1
  int component_index = 0;  // within the component, from 0
  PackedResource resource;
  bool operator==(const PackedInstance&) const = default;
};

struct PackedContainer {
  int id = 0;  // 1..n (container 0 is the TManager's and is not in the plan)
  std::vector<PackedInstance> instances;
  PackedResource required;
  bool operator==(const PackedContainer&) const = default;
};

struct PackedPlan {
  std::string id;  // the topology id, as Heron sets it
  std::vector<PackedContainer> containers;  // by id
  // The largest container: every Marathon container is sized to it.
  PackedResource largest() const;
  bool operator==(const PackedPlan&) const = default;
};

// Packs as RoundRobinPacking.pack() does. Returns the plan, or a message that
// says why Heron would refuse it (PackingException: container count, resource
// constraints, less than 16 MB RAM per instance, malformed config values),
// or why the controller does: more than kMaxPackedInstances instances, a
// negative or non-finite value, a size that overflows 64-bit bytes.
std::variant<PackedPlan, std::string> round_robin_pack(const PackingInput& in);

}  // namespace hmc::reconciler
