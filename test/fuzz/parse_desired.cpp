// hmc::reconciler::parse_desired on arbitrary bytes (a desired node anyone
// with write access to ZooKeeper can set). What parses must be valid and must
// survive the canonical round trip: parse_desired(to_json(x)) == x.
#include "fuzz_target.hpp"

#include "hmc/reconciler/desired.hpp"

using namespace hmc::reconciler;

HMC_FUZZ_TARGET(parse_desired) {
  const auto parsed = parse_desired(hmc::fuzz::as_text(data, size));
  if (!parsed) {
    hmc::fuzz::check(!parsed.error().errors.empty(), "parse_desired failed without an error");
    (void)parsed.error().to_string();
    return 0;
  }
  const DesiredTopology& t = *parsed;
  const auto errors = validate(t);
  hmc::fuzz::check(errors.empty(), "parsed but validate() reports: " + SpecErrors{errors}.to_string());
  const std::string canonical = to_json(t);
  const auto again = parse_desired(canonical);
  hmc::fuzz::check(bool(again), "to_json() output does not parse: " + canonical + ": " +
                                    (again ? std::string() : again.error().to_string()));
  hmc::fuzz::check(*again == t, "round trip changed the value: " + canonical + " -> " + to_json(*again));
  hmc::fuzz::check(to_json(*again) == canonical, "to_json() is not stable: " + canonical);
  return 0;
}
