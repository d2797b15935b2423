#pragma once
// The one call the controller and the CLI make to reach ZooKeeper as Heron's
// statemgr.yaml says: directly, or through the SSH tunnel when
// heron.statemgr.is.tunnel.needed is set.

#include "hmc/common/error.hpp"
#include "hmc/heron_config/cluster_config.hpp"

#include <functional>
#include <memory>
#include <string>

namespace hmc::ssh {
class ZkTunnel;
}

namespace hmc::config {

struct ZooKeeperConnection {
  // Give this to hmc::zk::ZkOptions::connect.
  std::string connection_string;
  // Non-null when some endpoint goes through the tunnel: keep it alive for as
  // long as the ZooKeeper client is used (destroying it ends the forwarding).
  std::shared_ptr<hmc::ssh::ZkTunnel> tunnel;
};

// `override_connection_string` (e.g. from --zk) replaces
// heron.statemgr.connection.string when not empty. Without a tunnel the string
// is returned as it is (the ZooKeeper client handles unreachable endpoints).
// With one, see hmc::ssh::ZkTunnel::open: blocks for the probes and the SSH
// session. Errors: invalid (no connection string, bad tunnel host),
// unauthorized (host key, SSH auth), unavailable (nothing reachable).
// `log` receives the tunnel's decisions and later drops/reconnects.
Result<ZooKeeperConnection> resolve_zookeeper(const StateManagerConfig& statemgr,
                                              const std::string& override_connection_string = {},
                                              std::function<void(const std::string&)> log = {});

}  // namespace hmc::config
