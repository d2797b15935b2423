#include "options.hpp"

#include <yaml-cpp/yaml.h>

#include "hmc/jwt/jwt.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hmc::marathon_sim {

namespace {

double to_number(std::string_view key, std::string_view v) {
  std::string s(v);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || d < 0)
    throw std::invalid_argument("agent: " + std::string(key) + "=" + s +
                                " is not a non-negative number");
  return d;
}

std::uint32_t to_port(std::string_view v, const std::string& what) {
  std::uint32_t p = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
  if (ec != std::errc{} || ptr != v.data() + v.size() || p > 65535)
    throw std::invalid_argument(what + ": '" + std::string(v) + "' is not a port number");
  return p;
}

std::vector<PortRange> parse_ranges(std::string_view text, const std::string& what) {
  std::vector<PortRange> out;
  while (!text.empty()) {
    auto sep = text.find_first_of(";|");
    auto part = text.substr(0, sep);
    text = sep == std::string_view::npos ? std::string_view{} : text.substr(sep + 1);
    if (part.empty()) continue;
    auto dash = part.find('-');
    PortRange r;
    r.begin = to_port(part.substr(0, dash), what);
    r.end = dash == std::string_view::npos ? r.begin : to_port(part.substr(dash + 1), what);
    if (r.end < r.begin) throw std::invalid_argument(what + ": range '" + std::string(part) + "' ends before it begins");
    out.push_back(r);
  }
  return out;
}

bool to_bool(std::string_view key, std::string_view v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw std::invalid_argument("agent: " + std::string(key) + "=" + std::string(v) + " is not a boolean");
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<std::chrono::milliseconds> {
    if (error) *error = "duration '" + std::string(text) + "': " + why;
    return std::nullopt;
  };
  if (text.empty()) return fail("empty");
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return fail("must start with a number");
  const double n = std::strtod(std::string(text.substr(0, i)).c_str(), nullptr);
  const auto unit = text.substr(i);
  double ms;
  if (unit.empty() || unit == "ms") ms = n;
  else if (unit == "s") ms = n * 1000;
  else if (unit == "m") ms = n * 60000;
  else if (unit == "h") ms = n * 3600000;
  else return fail("unknown unit (use ms, s, m or h)");
  return std::chrono::milliseconds{static_cast<long long>(ms + 0.5)};
}

AgentSpec parse_agent_spec(std::string_view text) {
  AgentSpec a;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto kv = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos)
      throw std::invalid_argument("agent: '" + std::string(kv) + "' is not key=value");
    auto k = kv.substr(0, eq);
    auto v = kv.substr(eq + 1);
    if (k == "cpus") a.cpus = to_number(k, v);
    else if (k == "mem") a.mem = to_number(k, v);
    else if (k == "disk") a.disk = to_number(k, v);
    else if (k == "gpus") a.gpus = to_number(k, v);
    else if (k == "ports") a.ports = parse_ranges(v, "agent ports");
    else if (k == "id") a.id = v;
    else if (k == "hostname") a.hostname = v;
    else if (k == "role") a.role = v;
    else if (k == "maintenance") a.maintenance = to_bool(k, v);
    else if (k.starts_with("attr.")) a.attributes[std::string(k.substr(5))] = v;
    else throw std::invalid_argument("agent: unknown key '" + std::string(k) +
                                     "' (known: id, hostname, cpus, mem, disk, gpus, ports, role, maintenance, attr.NAME)");
  }
  return a;
}

std::vector<AgentSpec> load_agents_yaml(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    throw std::invalid_argument("agents file " + path + ": " + e.what());
  }
  const auto list = root.IsMap() ? root["agents"] : root;
  if (!list || !list.IsSequence())
    throw std::invalid_argument("agents file " + path + ": expected a list under 'agents'");
  std::vector<AgentSpec> out;
  std::size_t index = 0;
  for (const auto& n : list) {
    const std::string where = "agents file " + path + ": agents[" + std::to_string(index++) + "]";
    if (!n.IsMap()) throw std::invalid_argument(where + " is not a map");
    AgentSpec a;
    int count = 1;
    try {
      for (const auto& kv : n) {
        const auto key = kv.first.as<std::string>();
        const auto& v = kv.second;
        if (key == "cpus") a.cpus = to_number(key, v.as<std::string>());
        else if (key == "mem") a.mem = to_number(key, v.as<std::string>());
        else if (key == "disk") a.disk = to_number(key, v.as<std::string>());
        else if (key == "gpus") a.gpus = to_number(key, v.as<std::string>());
        else if (key == "id") a.id = v.as<std::string>();
        else if (key == "hostname") a.hostname = v.as<std::string>();
        else if (key == "role") a.role = v.as<std::string>();
        else if (key == "maintenance") a.maintenance = v.as<bool>();
        else if (key == "count") count = v.as<int>();
        else if (key == "ports") {
          a.ports.clear();
          if (v.IsSequence()) {
            for (const auto& r : v) {
              auto more = parse_ranges(r.as<std::string>(), where + ".ports");
              a.ports.insert(a.ports.end(), more.begin(), more.end());
            }
          } else {
            a.ports = parse_ranges(v.as<std::string>(), where + ".ports");
          }
        } else if (key == "attributes") {
          for (const auto& at : v) a.attributes[at.first.as<std::string>()] = at.second.as<std::string>();
        } else {
          throw std::invalid_argument("unknown key '" + key + "'");
        }
      }
    } catch (const YAML::Exception& e) {
      throw std::invalid_argument(where + ": " + e.what());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
    if (count < 1) throw std::invalid_argument(where + ": count must be at least 1");
    for (int i = 0; i < count; ++i) {
      AgentSpec copy = a;
      if (count > 1 && !copy.id.empty()) copy.id += "-" + std::to_string(i);
      if (count > 1 && !copy.hostname.empty()) copy.hostname += "-" + std::to_string(i);
      out.push_back(std::move(copy));
    }
  }
  return out;
}

std::string usage() {
  return R"(marathon-sim: a simulator of Marathon's v2 REST API and of a Mesos cluster's offers.

Usage: marathon-sim [options]
  --listen HOST:PORT        address to serve on (default 127.0.0.1:8080; port 0 picks one)
  --port-file FILE          write the bound port to FILE once listening
  --agent SPEC              add an agent (repeatable), e.g.
                            cpus=4,mem=16384,disk=100000,ports=31000-32000,gpus=0,
                            hostname=h1,role=*,maintenance=false,attr.rack=r1
  --agents-file FILE.yaml   agents from YAML (agents: [{cpus, mem, disk, ports, count, ...}])
  --offer-period DUR        period of the offer cycle (default 200ms)
  --token T                 require "Authorization: token=T" on the API
  --login-public-key FILE   DC/OS login: POST /acs/api/v1/auth/login verifies the RS256
                            login token of a service account with this PEM public key and
                            issues tokens; the API then needs "Authorization: token=<t>"
  --login-uid UID           a service account that may log in (repeatable)
  --token-ttl SECONDS       lifetime of the issued tokens (default 432000, DC/OS's 5 days)
  --seed N                  seed of the random choices (ids, offer order, fault draws)
  --deterministic           time moves only through POST /_sim/tick
  --latency DUR             fault: added latency on every API answer
  --error-rate F            fault: fraction of API requests answered with a 5xx status
  --error-status N          fault: that status (500..599, default 503)
  --reset-rate F            fault: fraction of API connections reset without answer
  --lock-hold DUR           fault: deployments keep their locks this long after finishing
  --freeze-offers           fault: the offer cycle places and kills nothing
  --task-fault JSON         fault: tasks fail (repeatable), e.g. {"kind":"fetch","fetchUri":"*.tar.gz"}
  --request-log-limit N     requests kept for /_sim/requests (default 100000)
  --max-running-deployments N
                            Marathon's --max_running_deployments: while N deployments
                            run, a change that starts another gets 403 (default 100,
                            Marathon's; 0: no limit)
  --enable-features LIST    Marathon's --enable_features, e.g. secrets (apps may then
                            define secrets and env secret references, as on DC/OS)
  --quiet                   no log lines on stderr
  --exit-with-parent        exit when the process that started it is gone (test harnesses)
  --help                    this text

Without --agent or --agents-file one agent is simulated:
  cpus=4,mem=16384,disk=100000,ports=31000-32000.
)";
}

Features parse_features(std::string_view list) {
  Features f;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto comma = list.find(',', pos);
    const auto name = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (name == "secrets") {
      f.secrets = true;
    } else if (name != "vips" && name != "task_killing" && name != "external_volumes" && name != "gpu_resources") {
      throw std::invalid_argument("--enable-features: '" + std::string(name) +
                                  "' is not one of secrets, vips, task_killing, external_volumes, gpu_resources");
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return f;
}

SimOptions parse_command_line(int argc, char** argv, bool* help) {
  SimOptions o;
  *help = false;
  bool agents_given = false;
  auto need = [&](int& i, const std::string& flag) -> std::string {
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    return argv[++i];
  };
  auto duration = [](const std::string& flag, const std::string& v) {
    std::string err;
    auto d = parse_duration(v, &err);
    if (!d) throw std::invalid_argument(flag + ": " + err);
    return *d;
  };
  auto rate = [](const std::string& flag, const std::string& v) {
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || d < 0 || d > 1)
      throw std::invalid_argument(flag + ": '" + v + "' is not a fraction between 0 and 1");
    return d;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string inline_value;
    bool has_inline = false;
    if (a.starts_with("--")) {
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        inline_value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_inline = true;
      }
    }
    auto value = [&]() { return has_inline ? inline_value : need(i, a); };
    if (a == "--help" || a == "-h") {
      *help = true;
    } else if (a == "--listen") {
      const auto v = value();
      const auto colon = v.rfind(':');
      if (colon == std::string::npos) throw std::invalid_argument("--listen: '" + v + "' is not HOST:PORT");
      o.listen_host = v.substr(0, colon);
      o.listen_port = static_cast<std::uint16_t>(to_port(v.substr(colon + 1), "--listen"));
    } else if (a == "--port-file") {
      o.port_file = value();
    } else if (a == "--agent") {
      o.agents.push_back(parse_agent_spec(value()));
      agents_given = true;
    } else if (a == "--agents-file") {
      auto more = load_agents_yaml(value());
      o.agents.insert(o.agents.end(), more.begin(), more.end());
      agents_given = true;
    } else if (a == "--offer-period") {
      o.offer_period = duration(a, value());
      if (o.offer_period.count() <= 0) throw std::invalid_argument("--offer-period must be positive");
    } else if (a == "--token") {
      o.token = value();
    } else if (a == "--seed") {
      const auto v = value();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), o.seed);
      if (ec != std::errc{} || p != v.data() + v.size())
        throw std::invalid_argument("--seed: '" + v + "' is not a non-negative integer");
      o.seed_given = true;
    } else if (a == "--deterministic") {
      o.deterministic = true;
    } else if (a == "--latency") {
      o.faults.latency = duration(a, value());
    } else if (a == "--error-rate") {
      o.faults.error_rate = rate(a, value());
    } else if (a == "--error-status") {
      const auto v = value();
      o.faults.error_status = std::atoi(v.c_str());
      if (o.faults.error_status < 500 || o.faults.error_status > 599)
        throw std::invalid_argument("--error-status: '" + v + "' is not a 5xx status");
    } else if (a == "--reset-rate") {
      o.faults.reset_rate = rate(a, value());
    } else if (a == "--lock-hold") {
      o.faults.lock_hold = duration(a, value());
    } else if (a == "--task-fault") {
      try {
        o.task_faults.push_back(parse_task_fault(value()));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("--task-fault: " + std::string(e.what()));
      }
    } else if (a == "--freeze-offers") {
      o.faults.freeze_offers = true;
    } else if (a == "--request-log-limit") {
      const auto v = value();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), o.request_log_limit);
      if (ec != std::errc{} || p != v.data() + v.size())
        throw std::invalid_argument("--request-log-limit: '" + v + "' is not a count");
    } else if (a == "--max-running-deployments") {
      const auto v = value();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), o.max_running_deployments);
      if (ec != std::errc{} || p != v.data() + v.size())
        throw std::invalid_argument("--max-running-deployments: '" + v + "' is not a count");
    } else if (a == "--exit-with-parent") {
      o.exit_with_parent = true;
    } else if (a == "--quiet") {
      o.quiet = true;
    } else if (a == "--enable-features") {
      o.features = parse_features(value());
    } else if (a == "--login-public-key") {
      const auto path = value();
      std::ifstream in(path);
      if (!in) throw std::invalid_argument("--login-public-key: cannot read " + path);
      std::stringstream text;
      text << in.rdbuf();
      o.login.public_key_pem = text.str();
      if (auto check = jwt::verify_rs256("e30.e30.", o.login.public_key_pem); !check)
        throw std::invalid_argument("--login-public-key " + path + ": " + check.error().message);
    } else if (a == "--login-uid") {
      o.login.uids.push_back(value());
      if (o.login.uids.back().empty()) throw std::invalid_argument("--login-uid: empty uid");
    } else if (a == "--token-ttl") {
      const auto v = value();
      long long seconds = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
      if (ec != std::errc{} || p != v.data() + v.size() || seconds < 1)
        throw std::invalid_argument("--token-ttl: '" + v + "' is not a positive number of seconds");
      o.login.token_ttl = std::chrono::seconds{seconds};
    } else {
      throw std::invalid_argument("unknown option '" + a + "' (see --help)");
    }
  }
  if (!agents_given) o.agents.push_back(AgentSpec{});
  if (o.login.enabled() && o.login.uids.empty())
    throw std::invalid_argument("--login-public-key needs at least one --login-uid");
  if (!o.login.enabled() && !o.login.uids.empty())
    throw std::invalid_argument("--login-uid needs --login-public-key");
  return o;
}

}  // namespace hmc::marathon_sim
