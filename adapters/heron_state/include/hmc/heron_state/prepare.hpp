#pragma once
// Heron's own state nodes for one desired topology with a `topologyDefn`, as
// Heron's submit (LaunchRunner.call()) writes them before it launches any
// container (docs/heron-state.md). No protobuf in this header.

#include "hmc/reconciler/heron_desired.hpp"
#include "hmc/reconciler/reconcile.hpp"

#include <cstdint>
#include <string>

namespace hmc::heron_state {

// ExecutionState.release_state. Heron's submitter takes them from its
// release.yaml (build user and version; the tag is left empty).
struct ReleaseInfo {
  std::string username;
  std::string tag;
  std::string version;
};

// Decodes `t.topology_defn` (base64 of a Topology) and checks it, packs it as
// RoundRobinPacking does and encodes the three nodes under cfg.heron_root:
// topologies/<name> (the definition with the components' serialized objects
// cleared, as LaunchRunner.trimTopology() does), packingplans/<name> and
// executionstate/<name> (cluster, role, environ of `t`; submission_user
// `t.submission_user`, else the role, which Heron's CLI defaults to the
// submitting user; `submission_time` in Unix seconds). Never throws on bad
// input: what is wrong goes into HeronDesired::error and no node is given.
reconciler::HeronDesired prepare_heron_state(const reconciler::ReconcilerConfig& cfg,
                                             const reconciler::DesiredTopology& t,
                                             std::int64_t submission_time, const ReleaseInfo& release);

}  // namespace hmc::heron_state
