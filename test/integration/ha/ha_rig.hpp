#pragma once
// Several real controller replicas (distinct --identity) against one real
// ZooKeeper and one marathon-sim: the rig for leader election tests and the
// failover benchmark. Everything stops with the rig.

#include "hmc/testing/marathon_sim.hpp"
#include "hmc/testing/process.hpp"
#include "hmc/testing/zookeeper_server.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace hmc::testing {

struct HaRigOptions {
  int replicas = 2;
  std::string session_timeout = "2s";  // --zk-session-timeout of every replica
  std::vector<std::string> agents = {"cpus=100,mem=200000,disk=1000000,ports=20000-29999",
                                     "cpus=100,mem=200000,disk=1000000,ports=20000-29999"};
  std::string log_level = "debug";
};

struct Replica {
  std::string identity;
  ChildProcess process;
  int metrics_port = 0;
  int health_port = 0;
  int starts = 0;
};

class HaRig {
 public:
  explicit HaRig(HaRigOptions options = {});
  ~HaRig();

  ZooKeeperServer& zookeeper() { return *zk_; }
  MarathonSim& sim() { return *sim_; }
  zk::ZkClient& zk() { return *client_; }
  const std::string& tmp() const { return tmp_.path(); }

  int replicas() const { return static_cast<int>(replicas_.size()); }
  Replica& replica(int i) { return *replicas_.at(static_cast<std::size_t>(i)); }
  // (Re)starts replica i with fresh metrics/health ports; same identity.
  void start(int i);

  // The value of heron_marathon_leader scraped from replica i: 1, 0, or -1 if
  // the replica does not answer.
  int leader_metric(int i);
  // Index of the single replica whose metric says 1 (-1 if none or several).
  int leader();
  // Waits until exactly one replica reports leading; returns it (-1 on timeout).
  int wait_leader(std::chrono::milliseconds timeout = std::chrono::seconds{30});
  bool wait_ready(int i, std::chrono::milliseconds timeout = std::chrono::seconds{30});

  // Writes the desired node of a small running topology straight to ZooKeeper.
  void submit(const std::string& name, int containers = 1);
  static std::string spec_json(const std::string& name, int containers);

  std::string logs();  // every replica's log tail, for failure messages

 private:
  HaRigOptions options_;
  TempDir tmp_;
  std::unique_ptr<ZooKeeperServer> zk_;
  std::unique_ptr<MarathonSim> sim_;
  std::unique_ptr<zk::ZkClient> client_;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

// True for Marathon writes (POST, PUT, PATCH, DELETE) to the /v2 API.
bool is_marathon_write(const SimRequest& r);

}  // namespace hmc::testing
