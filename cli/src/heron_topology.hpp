#pragma once
// A desired node's topologyDefn as Heron sees it: the Topology it decodes to
// and the packing plan Heron's RoundRobinPacking makes of it, for the checks
// before submit/update write and for describe. Private to the CLI library.

#include "hmc/heron_state/heron_state.hpp"
#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/heron_overrides.hpp"

#include <boost/json/value.hpp>

#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

namespace hmc::cli {

struct HeronView {
  heron_state::HeronTopology topology;
  reconciler::PackedPlan plan;
  std::size_t defn_bytes = 0;
};

// Decodes `topology_defn` (base64 of a Topology), checks it
// (heron_state::decode_topology) and packs it (reconciler::round_robin_pack).
// Error: what is wrong, without naming the source.
std::variant<HeronView, std::string> heron_view(const std::string& topology_defn);

// What reconciler::heron_override_problems checks a node against, the
// controller's checks the CLI makes before it writes.
reconciler::HeronDefinition heron_definition(const HeronView& v);

// Fills `containers` and `resources` the node leaves out from the plan, as
// the controller sizes the group (MB rounded up).
void size_from_plan(reconciler::DesiredTopology& t, const HeronView& v);

// "'word-count' (id ...), 2 components, 7 instances, 2 containers of cpus 4,
// mem 5120 MB, disk 13312 MB": what the node asks for, sizes from the plan
// unless `t` overrides them.
std::string heron_summary(const reconciler::DesiredTopology& t, const HeronView& v);

// describe: components and the plan per container, as text lines and as a
// value for -o json|yaml ({"error": ...} when the definition is unusable).
void describe_heron(std::ostream& out, const std::variant<HeronView, std::string>& v);
boost::json::value heron_value(const std::variant<HeronView, std::string>& v);

}  // namespace hmc::cli
