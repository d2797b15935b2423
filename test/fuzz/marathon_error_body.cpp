// Marathon's answers to changes on arbitrary bytes: the error body of a
// non-2xx answer (error_from_response, every status class the client maps)
// and the body of a successful change (parse_change_result).
#include "fuzz_target.hpp"

#include "marathon_internal.hpp"

HMC_FUZZ_TARGET(marathon_error_body) {
  using namespace hmc::marathon::detail;
  const auto body = hmc::fuzz::as_text(data, size);
  for (int status : {400, 401, 404, 409, 422, 503}) {
    const hmc::Error e = error_from_response("PUT /v2/groups/x", status, body);
    hmc::fuzz::check(e.code == status, "error code is not the HTTP status");
    hmc::fuzz::check(e.message.rfind("PUT /v2/groups/x: HTTP ", 0) == 0, "message does not name the request");
  }
  const auto change = parse_change_result(body, "header-id");
  hmc::fuzz::check(!change.deployment_id.empty(), "no deployment id although the header has one");
  return 0;
}
