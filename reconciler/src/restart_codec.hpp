#pragma once
// The JSON of restart generations, shared by the desired-node and status
// codecs: {"generation": N, "containers": {"<index>": M}}.

#include "hmc/reconciler/desired.hpp"

#include <boost/json/fwd.hpp>

#include <string>
#include <vector>

namespace hmc::reconciler::detail {

// Strict, for the desired node: every problem is appended to `errs` with its
// path under /restart. Container indices are checked against the topology
// by validate_restart (the container count may come later in the node).
void parse_restart(const boost::json::value& v, RestartGenerations& out, std::vector<FieldError>& errs);
// Rules on values: generations >= 0, container indices 0..containers.
void validate_restart(const RestartGenerations& r, int containers, std::vector<FieldError>& errs);
// Lenient, for the status node: what cannot be read is left out.
RestartGenerations read_restart(const boost::json::value& v);
boost::json::value restart_json(const RestartGenerations& r);

}  // namespace hmc::reconciler::detail
