#include "rig.hpp"

#include <boost/json.hpp>

#include <sstream>
#include <thread>

namespace hmc::testing {

namespace json = boost::json;
using namespace std::chrono_literals;

ControllerRig::ControllerRig(RigOptions options) : options_(std::move(options)) {
  ZooKeeperServerOptions zo_server;
  zo_server.network_control = options_.zk_network_control;
  zk_ = std::make_unique<ZooKeeperServer>(zo_server);
  MarathonSimOptions so;
  so.extra_args = options_.sim_args;
  so.offer_period = "100ms";
  if (options_.sim_args.empty())
    so.agents = {"cpus=8,mem=32768,disk=200000,ports=31000-32000",
                 "cpus=8,mem=32768,disk=200000,ports=31000-32000",
                 "cpus=8,mem=32768,disk=200000,ports=31000-32000"};
  if (options_.configure_sim) options_.configure_sim(so);
  sim_ = std::make_unique<MarathonSim>(so);
  zk::ZkOptions zo;
  zo.connect = zk_->connect_string();
  zo.session_timeout = 10s;
  zo.connect_timeout = 20s;
  auto c = zk::connect(zo);
  if (!c) throw std::runtime_error("test client cannot connect to ZooKeeper: " + c.error().message);
  client_ = std::move(*c);
  if (options_.start_controller) start_controller(options_.controller_args);
}

ControllerRig::~ControllerRig() {
  if (controller_.pid() > 0) controller_.stop(std::chrono::milliseconds{5000});
}

void ControllerRig::start_controller(std::vector<std::string> extra) {
  if (controller_.pid() > 0 && controller_.running()) controller_.stop();
  metrics_port_ = free_port();
  health_port_ = free_port();
  std::vector<std::string> argv = {
      std::string(HMC_BINARY_DIR) + "/controller/heron-marathon-controller",
      "--zk", zk_->connect_string(),
      "--marathon", sim_->url(),
      "--metrics-address", "127.0.0.1:" + std::to_string(metrics_port_),
      "--health-address", "127.0.0.1:" + std::to_string(health_port_),
      "--identity", "test-controller-" + std::to_string(restarts_),
      "--zk-session-timeout", "4s",
      "--observe-interval", "50ms",
      "--resync-period", "10s",
      "--log-level", "debug",
  };
  for (auto& a : (extra.empty() ? options_.controller_args : extra)) argv.push_back(a);
  controller_ = ChildProcess(argv, tmp_.path() + "/controller-" + std::to_string(restarts_++) + ".log",
                             options_.controller_env);
}

bool ControllerRig::wait_ready(std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        try {
          return http_request(health_port_, "GET", "/readyz", {}, {}, std::chrono::milliseconds{1000}).status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout, 50ms);
}

CommandResult ControllerRig::cli(std::vector<std::string> args, const std::string& stdin_data) {
  std::vector<std::string> argv = {std::string(HMC_BINARY_DIR) + "/cli/heron-marathon", "--zk",
                                   zk_->connect_string()};
  for (auto& a : args) argv.push_back(a);
  return run_command(argv, stdin_data, std::chrono::milliseconds{120000});
}

std::string ControllerRig::spec_json(const std::string& name, int containers, double cpus, double mem,
                                     const std::string& state, const std::string& image) {
  json::object o;
  o["schemaVersion"] = 1;
  o["name"] = name;
  o["cluster"] = "local";
  o["role"] = "tester";
  o["environ"] = "test";
  o["containers"] = containers;
  o["resources"] = json::object{{"cpus", cpus}, {"mem", mem}, {"disk", 2048}};
  o["image"] = image;
  o["package"] = "http://repo.example.org/topologies/" + name + ".tar.gz";
  o["state"] = state;
  return json::serialize(o);
}

std::string ControllerRig::spec_file(const std::string& name, int containers, double cpus, double mem,
                                     const std::string& state, const std::string& image) {
  const std::string path = tmp_.path() + "/" + name + "-" + std::to_string(containers) + "-" + state + ".json";
  write_file(path, spec_json(name, containers, cpus, mem, state, image));
  return path;
}

std::optional<reconciler::TopologyStatus> ControllerRig::status(const std::string& name) {
  auto n = client_->get("/heron-marathon/status/" + name);
  if (!n) return std::nullopt;
  return reconciler::parse_status(n->data);
}

bool ControllerRig::desired_exists(const std::string& name) {
  auto e = client_->exists("/heron-marathon/topologies/" + name);
  return e && e->has_value();
}

bool ControllerRig::wait_phase(const std::string& name, reconciler::Phase phase,
                               std::chrono::milliseconds timeout, std::int64_t min_generation) {
  return wait_until(
      [&] {
        auto s = status(name);
        return s && s->phase == phase && s->observed_generation >= min_generation;
      },
      timeout, 50ms);
}

std::optional<std::string> ControllerRig::group(const std::string& name) {
  auto r = sim_->get("/v2/groups/heron/topologies/" + name + "?embed=group.apps&embed=group.apps.counts");
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) throw std::runtime_error("GET group: " + std::to_string(r.status) + " " + r.body);
  return r.body;
}

int ControllerRig::app_count(const std::string& name) {
  auto g = group(name);
  if (!g) return -1;
  return static_cast<int>(json::parse(*g).as_object().at("apps").as_array().size());
}

int ControllerRig::running_tasks(const std::string& name) {
  auto g = group(name);
  if (!g) return -1;
  int n = 0;
  const json::value v = json::parse(*g);
  for (auto& a : v.as_object().at("apps").as_array())
    if (auto* t = a.as_object().if_contains("tasksRunning")) n += static_cast<int>(t->to_number<double>());
  return n;
}

int ControllerRig::requests(const std::string& method, const std::string& path_prefix) {
  int n = 0;
  for (auto& r : sim_->requests())
    if (r.method == method && r.path.rfind(path_prefix, 0) == 0) ++n;
  return n;
}

void ControllerRig::create_heron_state(const std::string& name) {
  for (std::string dir : {"topologies", "packingplans", "pplans", "executionstate", "schedulers",
                          "tmanagers", "metricscaches"}) {
    (void)client_->ensure_path("/heron/" + dir);
    (void)client_->create("/heron/" + dir + "/" + name, "\x0a\x03pb");
  }
  (void)client_->ensure_path("/heron/locks");
  (void)client_->create("/heron/locks/" + name + "__updateTopology", "");
}

int ControllerRig::heron_state_count(const std::string& name) {
  int n = 0;
  for (std::string dir : {"topologies", "packingplans", "pplans", "executionstate", "schedulers",
                          "tmanagers", "tmasters", "metricscaches", "statefulcheckpoints"}) {
    auto e = client_->exists("/heron/" + dir + "/" + name);
    if (e && e->has_value()) ++n;
  }
  auto l = client_->exists("/heron/locks/" + name + "__updateTopology");
  if (l && l->has_value()) ++n;
  return n;
}

std::string ControllerRig::describe(const std::string& name) {
  std::ostringstream o;
  auto s = client_->get("/heron-marathon/status/" + name);
  o << "status: " << (s ? s->data : std::string("<none>")) << "\n";
  try {
    auto g = group(name);
    o << "group: " << (g ? g->substr(0, 2000) : std::string("<none>")) << "\n";
  } catch (const std::exception& e) {
    o << "group: " << e.what() << "\n";
  }
  std::string log = controller_.log();
  if (log.size() > 6000) log = log.substr(log.size() - 6000);
  o << "controller log (tail):\n" << log;
  return o.str();
}

}  // namespace hmc::testing
