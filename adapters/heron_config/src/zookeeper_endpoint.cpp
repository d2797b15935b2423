#include "hmc/heron_config/zookeeper_endpoint.hpp"

#include "hmc/ssh_tunnel/zk_tunnel.hpp"

namespace hmc::config {

Result<ZooKeeperConnection> resolve_zookeeper(const StateManagerConfig& statemgr,
                                              const std::string& override_connection_string,
                                              std::function<void(const std::string&)> log) {
  ZooKeeperConnection out;
  out.connection_string =
      override_connection_string.empty() ? statemgr.connection_string : override_connection_string;
  if (out.connection_string.empty()) {
    return make_error(ErrorSource::config, ErrorKind::invalid,
                      "no ZooKeeper connection string: set heron.statemgr.connection.string in statemgr.yaml or pass --zk");
  }
  if (!statemgr.tunnel.needed) return out;

  const TunnelConfig& t = statemgr.tunnel;
  hmc::ssh::TunnelOptions options;
  options.host = t.host;
  options.connection_timeout = t.connection_timeout;
  options.connection_retry_count = t.connection_retry_count;
  options.retry_interval = t.retry_interval;
  options.verify_count = t.verify_count;
  options.key_file = t.key_file;
  options.passphrase_file = t.passphrase_file;
  options.use_agent = t.use_agent;
  options.known_hosts_file = t.known_hosts_file;
  options.accept_unknown_host_key = t.accept_unknown_host_key;
  options.keepalive_interval = t.keepalive_interval;
  options.log = std::move(log);
  auto tunnel = hmc::ssh::ZkTunnel::open(options, out.connection_string);
  if (!tunnel) return tunnel.error();
  out.connection_string = (*tunnel)->connection_string();
  out.tunnel = std::shared_ptr<hmc::ssh::ZkTunnel>(std::move(*tunnel));
  return out;
}

}  // namespace hmc::config
