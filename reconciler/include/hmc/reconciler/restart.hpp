#pragma once
// Restarts asked for in the desired node ("restart": {"generation": N,
// "containers": {"3": M}}) and the ones the controller applied (kept in the
// status). A generation ahead of the applied one asks for a restart: the
// whole topology, or one container (docs/desired-state.md).

#include <cstdint>
#include <map>

namespace hmc::reconciler {

struct RestartGenerations {
  std::int64_t generation = 0;               // whole topology
  std::map<int, std::int64_t> containers;    // container index -> its own generation
  bool empty() const { return generation == 0 && containers.empty(); }
  bool operator==(const RestartGenerations&) const = default;
};

}  // namespace hmc::reconciler
