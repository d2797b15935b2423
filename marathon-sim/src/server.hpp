#pragma once
// The HTTP server of marathon-sim (Boost.Beast, C++20 coroutines, one thread).

#include "options.hpp"

#include <memory>

namespace hmc::marathon_sim {

class Simulator;

// Serves `sim` until SIGTERM or SIGINT. Throws std::runtime_error when the
// address cannot be bound or the port file cannot be written.
void serve(Simulator& sim, const SimOptions& options);

}  // namespace hmc::marathon_sim
