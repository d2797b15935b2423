// hmc::marathon::parse_deployments on arbitrary bytes (GET /v2/deployments).
#include "fuzz_target.hpp"

#include "hmc/marathon/marathon_client.hpp"

HMC_FUZZ_TARGET(marathon_deployments) {
  const auto deployments = hmc::marathon::parse_deployments(hmc::fuzz::as_text(data, size));
  if (!deployments) {
    hmc::fuzz::check(!deployments.error().message.empty(), "parse_deployments failed without a message");
    return 0;
  }
  for (const auto& d : *deployments) hmc::fuzz::check(!d.id.empty(), "deployment without an id");
  return 0;
}
