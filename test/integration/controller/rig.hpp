#pragma once
// A real ZooKeeper, a real marathon-sim and the real controller binary, for
// end-to-end tests of the reconcile loop. Everything stops with the rig.

#include "hmc/reconciler/status.hpp"
#include "hmc/testing/marathon_sim.hpp"
#include "hmc/testing/process.hpp"
#include "hmc/testing/zookeeper_server.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hmc::testing {

struct RigOptions {
  std::vector<std::string> sim_args;         // e.g. agents
  std::vector<std::string> controller_args;  // extra flags
  bool start_controller = true;
  // Clients reach ZooKeeper through a relay that zookeeper().drop_network()
  // cuts (a partition: sessions expire on the server's own schedule).
  bool zk_network_control = false;
  // Changes to the simulator's options before it starts (e.g. its DC/OS login).
  std::function<void(MarathonSimOptions&)> configure_sim;
  std::map<std::string, std::string> controller_env;  // added to the controller's environment
};

class ControllerRig {
 public:
  explicit ControllerRig(RigOptions options = {});
  ~ControllerRig();

  ZooKeeperServer& zookeeper() { return *zk_; }
  MarathonSim& sim() { return *sim_; }
  zk::ZkClient& zk() { return *client_; }

  void start_controller(std::vector<std::string> extra = {});
  ChildProcess& controller() { return controller_; }
  // Waits until the controller's /readyz answers 200.
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds{30});
  int metrics_port() const { return metrics_port_; }
  int health_port() const { return health_port_; }
  std::string controller_log() const { return controller_.log(); }

  // Runs the heron-marathon CLI against this rig's ZooKeeper.
  CommandResult cli(std::vector<std::string> args, const std::string& stdin_data = {});

  // A spec file in the rig's temp dir (YAML), for `submit`/`update`.
  std::string spec_file(const std::string& name, int containers = 2, double cpus = 1.0,
                        double mem = 1024, const std::string& state = "running",
                        const std::string& image = "heron/heron:0.20.5");
  static std::string spec_json(const std::string& name, int containers = 2, double cpus = 1.0,
                               double mem = 1024, const std::string& state = "running",
                               const std::string& image = "heron/heron:0.20.5");

  std::optional<reconciler::TopologyStatus> status(const std::string& name);
  bool desired_exists(const std::string& name);
  // Waits until the status node says `phase` (and observedGeneration >= min_generation).
  bool wait_phase(const std::string& name, reconciler::Phase phase,
                  std::chrono::milliseconds timeout = std::chrono::seconds{30},
                  std::int64_t min_generation = -1);
  // The group body from marathon-sim (GET /v2/groups/heron/topologies/<name> with
  // counts), or nullopt on 404.
  std::optional<std::string> group(const std::string& name);
  int app_count(const std::string& name);
  int running_tasks(const std::string& name);
  // Number of requests with this method whose path starts with the prefix.
  int requests(const std::string& method, const std::string& path_prefix);

  // Creates Heron's own state nodes for a topology, as a Heron submit would.
  void create_heron_state(const std::string& name);
  int heron_state_count(const std::string& name);

  const std::string& tmp() const { return tmp_.path(); }
  std::string describe(const std::string& name);  // for failure messages

 private:
  RigOptions options_;
  TempDir tmp_;
  std::unique_ptr<ZooKeeperServer> zk_;
  std::unique_ptr<MarathonSim> sim_;
  std::unique_ptr<zk::ZkClient> client_;
  ChildProcess controller_;
  int restarts_ = 0;
  int metrics_port_ = 0;
  int health_port_ = 0;
};

}  // namespace hmc::testing
