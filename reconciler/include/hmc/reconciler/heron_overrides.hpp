#pragma once
// The checks of a desired node against its topologyDefn: the definition's
// name and id, and `containers` / `resources` given beside it as overrides of
// Heron's packing plan. One set of rules for the controller's status and for
// the CLI's checks before it writes, each in its own wording.

#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/packing.hpp"

#include <string>
#include <vector>

namespace hmc::reconciler {

// What the checks need of a definition and its RoundRobinPacking plan.
struct HeronDefinition {
  std::string name;  // Topology.name
  std::string id;    // Topology.id
  int containers = 0;  // the plan's container count (topology.stmgrs)
  PackedResource largest;  // the plan's largest container
};

// How the messages name the node and the definition. With `spec` empty they
// are the controller's, after a field of the node
// ("/containers: is 3 but Heron's packing plan of /topologyDefn
// (RoundRobinPacking) has 2 containers ..."); otherwise the CLI's, naming the
// spec and the definition's file ("spec.yaml sets containers 3, but Heron's
// packing plan (RoundRobinPacking) of word-count.defn in wc.tar.gz has 2 ...").
struct HeronOverrideWording {
  std::string spec;                    // "spec.yaml", "<stdin>"; empty: the status
  std::string defn = "/topologyDefn";  // "word-count.defn in wc.tar.gz"
};

// The resources of every Marathon container of the plan: its largest
// container, cpus as they are, RAM and disk in MB rounded up.
Resources heron_plan_resources(const PackedResource& largest);

// Every way `t` disagrees with `d`, in this order: the name, a given
// topologyId, a plan of more than kMaxContainers containers, `containers`
// given and not the plan's count, `resources` given and a field below the
// plan's largest container. `path` is the node's field (/topologyDefn for
// the name and the container limit), `message` what is wrong without it.
std::vector<FieldError> heron_override_problems(const DesiredTopology& t, const HeronDefinition& d,
                                                const HeronOverrideWording& w = {});

}  // namespace hmc::reconciler
