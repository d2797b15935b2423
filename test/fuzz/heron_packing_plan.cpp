// hmc::heron_state::decode_packing_plan on arbitrary bytes (Heron's
// <root>/packingplans/<topology> node); what decodes must survive
// decode(encode(plan)) == plan.
#include "fuzz_target.hpp"

#include "hmc/heron_state/heron_state.hpp"

#include <variant>

using namespace hmc::heron_state;

HMC_FUZZ_TARGET(heron_packing_plan) {
  const auto decoded = decode_packing_plan(hmc::fuzz::as_text(data, size));
  const auto* plan = std::get_if<hmc::reconciler::PackedPlan>(&decoded);
  if (plan == nullptr) return 0;
  (void)plan->largest();
  const auto again = decode_packing_plan(encode_packing_plan(*plan));
  hmc::fuzz::check(std::holds_alternative<hmc::reconciler::PackedPlan>(again) &&
                       std::get<hmc::reconciler::PackedPlan>(again) == *plan,
                   "encode/decode round trip changed the plan");
  return 0;
}
