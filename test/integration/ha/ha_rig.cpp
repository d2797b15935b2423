#include "ha_rig.hpp"

#include <boost/json.hpp>

#include <sstream>
#include <stdexcept>

namespace hmc::testing {

namespace json = boost::json;
using namespace std::chrono_literals;

HaRig::HaRig(HaRigOptions options) : options_(std::move(options)) {
  zk_ = std::make_unique<ZooKeeperServer>();
  MarathonSimOptions so;
  so.offer_period = "50ms";
  so.agents = options_.agents;
  sim_ = std::make_unique<MarathonSim>(so);
  zk::ZkOptions zo;
  zo.connect = zk_->connect_string();
  zo.session_timeout = 10s;
  zo.connect_timeout = 20s;
  auto c = zk::connect(zo);
  if (!c) throw std::runtime_error("test client cannot connect to ZooKeeper: " + c.error().message);
  client_ = std::move(*c);
  for (int i = 0; i < options_.replicas; ++i) {
    auto r = std::make_unique<Replica>();
    r->identity = "replica-" + std::string(1, static_cast<char>('a' + i));
    replicas_.push_back(std::move(r));
    start(i);
  }
}

HaRig::~HaRig() {
  for (auto& r : replicas_)
    if (r->process.pid() > 0) r->process.stop(std::chrono::milliseconds{5000});
}

void HaRig::start(int i) {
  Replica& r = replica(i);
  if (r.process.pid() > 0 && r.process.running()) r.process.stop();
  r.metrics_port = free_port();
  r.health_port = free_port();
  std::vector<std::string> argv = {
      std::string(HMC_BINARY_DIR) + "/controller/heron-marathon-controller",
      "--zk", zk_->connect_string(),
      "--marathon", sim_->url(),
      "--metrics-address", "127.0.0.1:" + std::to_string(r.metrics_port),
      "--health-address", "127.0.0.1:" + std::to_string(r.health_port),
      "--identity", r.identity,
      "--zk-session-timeout", options_.session_timeout,
      "--observe-interval", "50ms",
      "--resync-period", "10s",
      "--log-level", options_.log_level,
  };
  r.process = ChildProcess(argv, tmp_.path() + "/" + r.identity + "-" + std::to_string(r.starts++) + ".log");
}

int HaRig::leader_metric(int i) {
  HttpResult m;
  try {
    m = http_request(replica(i).metrics_port, "GET", "/metrics", {}, {}, 1000ms);
  } catch (const std::exception&) {
    return -1;
  }
  if (m.status != 200) return -1;
  std::istringstream in(m.body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("heron_marathon_leader", 0) != 0) continue;
    const auto rest = line.substr(std::string("heron_marathon_leader").size());
    if (!rest.empty() && rest[0] != ' ' && rest[0] != '{') continue;  // another metric's name
    return line.substr(line.rfind(' ') + 1) == "1" ? 1 : 0;
  }
  return -1;
}

int HaRig::leader() {
  int found = -1;
  for (int i = 0; i < replicas(); ++i) {
    if (!replica(i).process.running()) continue;
    if (leader_metric(i) == 1) {
      if (found >= 0) return -1;
      found = i;
    }
  }
  return found;
}

int HaRig::wait_leader(std::chrono::milliseconds timeout) {
  int l = -1;
  wait_until([&] { return (l = leader()) >= 0; }, timeout, 20ms);
  return l;
}

bool HaRig::wait_ready(int i, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        try {
          return http_request(replica(i).health_port, "GET", "/readyz", {}, {}, 1000ms).status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout, 20ms);
}

std::string HaRig::spec_json(const std::string& name, int containers) {
  json::object o;
  o["schemaVersion"] = 1;
  o["name"] = name;
  o["cluster"] = "local";
  o["role"] = "tester";
  o["environ"] = "test";
  o["containers"] = containers;
  o["resources"] = json::object{{"cpus", 0.1}, {"mem", 128}, {"disk", 128}};
  o["image"] = "heron/heron:0.20.5";
  o["package"] = "http://repo.example.org/topologies/" + name + ".tar.gz";
  o["state"] = "running";
  return json::serialize(o);
}

void HaRig::submit(const std::string& name, int containers) {
  if (!client_->ensure_path("/heron-marathon/topologies"))
    throw std::runtime_error("cannot create /heron-marathon/topologies");
  auto c = client_->create("/heron-marathon/topologies/" + name, spec_json(name, containers));
  if (!c) throw std::runtime_error("cannot create desired node " + name + ": " + c.error().message);
}

std::string HaRig::logs() {
  std::string out;
  for (auto& r : replicas_) {
    std::string l = r->process.log();
    if (l.size() > 5000) l = l.substr(l.size() - 5000);
    out += "---- " + r->identity + " (log tail)\n" + l + "\n";
  }
  return out;
}

bool is_marathon_write(const SimRequest& r) {
  return r.path.rfind("/v2/", 0) == 0 &&
         (r.method == "POST" || r.method == "PUT" || r.method == "PATCH" || r.method == "DELETE");
}

}  // namespace hmc::testing
