// hmc::marathon::parse_groups on arbitrary bytes: the body of
// GET /v2/groups/<root>, for the controller's root and for Marathon's "/".
#include "fuzz_target.hpp"

#include "hmc/marathon/marathon_client.hpp"

HMC_FUZZ_TARGET(marathon_groups) {
  const auto body = hmc::fuzz::as_text(data, size);
  for (const char* root : {"/heron/topologies", "/"}) {
    const auto groups = hmc::marathon::parse_groups(body, root);
    if (!groups) {
      hmc::fuzz::check(!groups.error().message.empty(), "parse_groups failed without a message");
      continue;
    }
    for (const auto& [id, g] : *groups) {
      hmc::fuzz::check(id == g.id, "group keyed " + id + " has id " + g.id);
      hmc::fuzz::check(!id.empty() && id.front() == '/' && id != "/", "bad group id '" + id + "'");
      for (const auto& app : g.apps) hmc::fuzz::check(!app.id.empty(), "app without an id in " + id);
    }
  }
  return 0;
}
