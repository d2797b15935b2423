#pragma once
// Heron's own state for one desired node with a `topologyDefn`, prepared by
// the controller (decode, RoundRobinPacking, encode: hmc::heron_state) and
// handed to the pure reconciler as plain data. No protobuf here.

#include "hmc/reconciler/packing.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace hmc::reconciler {

// One of Heron's state nodes as the controller wants it.
struct HeronStateNode {
  std::string path;          // absolute ZooKeeper path
  std::string bytes;         // the serialized protobuf
  std::uint64_t digest = 0;  // text_digest(bytes), compared with what is observed
  bool operator==(const HeronStateNode&) const = default;
};

struct HeronDesired {
  // Why the definition cannot be used (it does not decode, or Heron's
  // packing refuses it); the reconciler reports it as SpecValid=False on
  // /topologyDefn. Empty: everything below is set.
  std::string error;
  std::string topology_name;  // Topology.name
  std::string topology_id;    // Topology.id
  int containers = 0;         // the packing plan's container count (topology.stmgrs)
  PackedResource largest;     // the plan's largest container: every container is sized to it
  // topologies/<name>, packingplans/<name>, executionstate/<name>, in the
  // order Heron's LaunchRunner writes them.
  std::vector<HeronStateNode> nodes;
};

}  // namespace hmc::reconciler
