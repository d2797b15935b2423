// hmc::heron_state::decode_topology on arbitrary bytes (a topology .defn a
// user hands over), then what the controller does with an accepted one:
// RoundRobinPacking over its components and config. decode(encode(t)) must
// give t again.
#include "fuzz_target.hpp"

#include "hmc/heron_state/heron_state.hpp"

#include <variant>

using namespace hmc::heron_state;

namespace {

bool same(const HeronTopology& a, const HeronTopology& b) {
  if (a.id != b.id || a.name != b.name || a.config != b.config || a.components.size() != b.components.size())
    return false;
  for (std::size_t i = 0; i < a.components.size(); ++i) {
    const auto& x = a.components[i];
    const auto& y = b.components[i];
    if (x.name != y.name || x.parallelism != y.parallelism || x.spout != y.spout) return false;
  }
  return true;
}

}  // namespace

HMC_FUZZ_TARGET(heron_topology) {
  const auto decoded = decode_topology(hmc::fuzz::as_text(data, size));
  if (const auto* error = std::get_if<std::string>(&decoded)) {
    hmc::fuzz::check(!error->empty(), "decode_topology failed without a message");
    return 0;
  }
  const HeronTopology& t = std::get<HeronTopology>(decoded);
  hmc::fuzz::check(!t.id.empty() && !t.name.empty() && !t.components.empty(), "accepted an incomplete topology");
  for (const auto& c : t.components) hmc::fuzz::check(c.parallelism >= 1, "parallelism < 1 accepted");
  const auto again = decode_topology(encode_topology(t));
  hmc::fuzz::check(std::holds_alternative<HeronTopology>(again) && same(std::get<HeronTopology>(again), t),
                   "encode/decode round trip changed the topology " + t.name);

  const auto packed = hmc::reconciler::round_robin_pack(packing_input(t));
  if (const auto* plan = std::get_if<hmc::reconciler::PackedPlan>(&packed)) {
    hmc::fuzz::check(plan->id == t.id, "plan id is not the topology id");
    hmc::fuzz::check(!plan->containers.empty(), "a plan without containers");
    const auto plan_again = decode_packing_plan(encode_packing_plan(*plan));
    hmc::fuzz::check(std::holds_alternative<hmc::reconciler::PackedPlan>(plan_again) &&
                         std::get<hmc::reconciler::PackedPlan>(plan_again) == *plan,
                     "packing plan encode/decode round trip changed the plan");
  }
  return 0;
}
