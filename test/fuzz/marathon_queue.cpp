// hmc::marathon::parse_queue on arbitrary bytes (GET /v2/queue?embed=lastUnusedOffers).
#include "fuzz_target.hpp"

#include "hmc/marathon/marathon_client.hpp"

HMC_FUZZ_TARGET(marathon_queue) {
  const auto queue = hmc::marathon::parse_queue(hmc::fuzz::as_text(data, size));
  if (!queue) {
    hmc::fuzz::check(!queue.error().message.empty(), "parse_queue failed without a message");
    return 0;
  }
  for (const auto& e : *queue) hmc::fuzz::check(!e.app_id.empty(), "queue entry without an app id");
  return 0;
}
