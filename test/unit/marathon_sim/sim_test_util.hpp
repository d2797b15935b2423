#pragma once
// Drives the simulator in-process (no sockets) for unit tests.

#include "simulator.hpp"

#include <boost/json.hpp>

#include <string>

namespace hmc::marathon_sim::testing {

inline SimOptions deterministic_options(std::vector<std::string> agents = {}) {
  SimOptions o;
  o.deterministic = true;
  o.seed = 7;
  o.seed_given = true;
  o.offer_period = std::chrono::milliseconds{100};
  o.quiet = true;
  for (const auto& a : agents) o.agents.push_back(parse_agent_spec(a));
  if (o.agents.empty()) o.agents.push_back(AgentSpec{});
  return o;
}

class SimDriver {
 public:
  explicit SimDriver(SimOptions o = deterministic_options()) : sim(o) {}

  Response call(const std::string& method, const std::string& target, const std::string& body = {},
                const std::string& authorization = {}) {
    Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.authorization = authorization;
    r.user_agent = "unit-test";
    return sim.handle(r);
  }
  boost::json::value json(const std::string& method, const std::string& target, const std::string& body = {}) {
    auto r = call(method, target, body);
    return boost::json::parse(r.body);
  }
  void tick(int cycles = 1) { call("POST", "/_sim/tick?cycles=" + std::to_string(cycles)); }

  Simulator sim;
};

inline std::string header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

// The (path, errors) pairs of a 422 body, as "path: first error".
inline std::vector<std::string> detail_paths(const std::string& body) {
  std::vector<std::string> out;
  auto v = boost::json::parse(body);
  for (const auto& d : v.at("details").as_array()) out.emplace_back(d.at("path").as_string());
  return out;
}

}  // namespace hmc::marathon_sim::testing
