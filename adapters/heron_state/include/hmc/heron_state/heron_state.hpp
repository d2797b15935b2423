#pragma once
// Heron's own state nodes as bytes, wire-compatible with Heron's protobufs
// (adapters/heron_state/proto, docs/heron-state.md). No protobuf in this header.

#include "hmc/reconciler/packing.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hmc::heron_state {

struct HeronComponent {
  std::string name;
  int parallelism = 1;  // topology.component.parallelism of the component config
  bool spout = false;
};

// The parts of heron.proto.api.Topology the controller reads.
struct HeronTopology {
  std::string id;
  std::string name;
  std::vector<HeronComponent> components;  // spouts, then bolts
  std::map<std::string, std::string> config;  // topology_config string values
};

// heron.proto.system.ExecutionState.
struct ExecutionState {
  std::string topology_name, topology_id;
  std::int64_t submission_time = 0;  // Unix seconds
  std::string submission_user;
  std::string cluster, environ, role;
  std::string release_username, release_tag, release_version;
};

// Parses a .defn (serialized Topology) and checks it: id and name set,
// at least one spout, every parallelism >= 1, names unique. Error = what is wrong.
std::variant<HeronTopology, std::string> decode_topology(std::string_view bytes);
// Serializes a Topology with these fields (components carry only name and
// parallelism; for tests and tools).
std::string encode_topology(const HeronTopology& t);
std::string encode_packing_plan(const reconciler::PackedPlan& p);
std::variant<reconciler::PackedPlan, std::string> decode_packing_plan(std::string_view bytes);
std::string encode_execution_state(const ExecutionState& s);

// The packing input for a topology (RoundRobinPacking's view of it).
reconciler::PackingInput packing_input(const HeronTopology& t);

}  // namespace hmc::heron_state
