// hmc::reconciler::parse_status (lenient; read back by the CLI and after a
// restart) on arbitrary bytes. Whatever it returns must survive
// parse_status(to_json(s)) == s.
#include "fuzz_target.hpp"

#include "hmc/reconciler/status.hpp"

using namespace hmc::reconciler;

HMC_FUZZ_TARGET(parse_status) {
  const auto parsed = parse_status(hmc::fuzz::as_text(data, size));
  if (!parsed) return 0;
  const std::string canonical = to_json(*parsed);
  const auto again = parse_status(canonical);
  hmc::fuzz::check(again.has_value(), "to_json() output does not parse: " + canonical);
  hmc::fuzz::check(*again == *parsed, "round trip changed the value: " + canonical + " -> " + to_json(*again));
  return 0;
}
