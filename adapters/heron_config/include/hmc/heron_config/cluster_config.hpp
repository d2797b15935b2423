#pragma once
// A Heron cluster conf dir (like Heron's `conf/marathon/`) read as it is:
// scheduler.yaml and statemgr.yaml with Heron's keys, defaults and `${VAR}`
// substitution. Keys and defaults are documented in docs/configuration.md.
//
// Loading is done once at startup, so errors are thrown (ConfigError) rather
// than returned; warnings (unknown or misspelled keys, unresolved variables)
// are appended to the caller's list and never stop the load.

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace hmc::config {

// A file that cannot be used: unreadable, not YAML, or a key with a value of
// the wrong type. what() reads "<file>: key '<key>': expected <type>, got '<value>'"
// (or "<file>: <problem>" when no single key is to blame).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, std::string key, std::string problem);
  const std::string& file() const noexcept { return file_; }
  const std::string& key() const noexcept { return key_; }  // empty if none

 private:
  std::string file_;
  std::string key_;
};

// Values for Heron's placeholders that do not come from the environment or the
// files themselves. Empty members fall back to what Heron does: the cluster is
// the conf dir's name, the role is $USER, the environ is "default".
struct SubstitutionOptions {
  std::string cluster;
  std::string role;
  std::string environ;
  // Looked up before the process environment (tests, or --set style overrides).
  std::map<std::string, std::string> variables;
};

struct SchedulerConfig {
  std::string marathon_uri;        // heron.marathon.scheduler.uri
  std::string auth_token;          // heron.marathon.scheduler.auth.token (may be empty)
  std::string docker_image;        // heron.executor.docker.image
  std::string core_uri;            // heron.package.core.uri
  bool is_service = false;         // heron.scheduler.is.service
  // Every heron.directory.* key, by its suffix ("home", "conf",
  // "sandbox.java.home", ...), after substitution.
  std::map<std::string, std::string> directories;
};

struct TunnelConfig {
  bool needed = false;                                   // heron.statemgr.is.tunnel.needed
  std::string host;                                      // user@host[:port]
  std::chrono::milliseconds connection_timeout{1000};    // ...tunnel.connection.timeout.ms
  int connection_retry_count = 2;                        // ...tunnel.connection.retry.count
  std::chrono::milliseconds retry_interval{1000};        // ...tunnel.retry.interval.ms
  int verify_count = 10;                                 // ...tunnel.verify.count
  // Additions of this project (Heron's tunnel is an `ssh` subprocess that
  // uses ~/.ssh; ours is in process and says so explicitly).
  std::string key_file;                                  // ...tunnel.key.file ("": agent, then ~/.ssh/id_*)
  std::string passphrase_file;                           // ...tunnel.key.passphrase.file
  std::string known_hosts_file;                          // ...tunnel.known.hosts.file ("": ~/.ssh/known_hosts)
  bool accept_unknown_host_key = false;                  // ...tunnel.accept.unknown.host.key
  bool use_agent = true;                                 // ...tunnel.use.agent
  std::chrono::milliseconds keepalive_interval{15000};   // ...tunnel.keepalive.interval.ms
};

struct StateManagerConfig {
  std::string connection_string;                      // heron.statemgr.connection.string
  std::string root_path = "/heron";                   // heron.statemgr.root.path
  bool initialize_tree = true;                        // heron.statemgr.zookeeper.is.initialize.tree
  std::chrono::milliseconds session_timeout{30000};   // ...zookeeper.session.timeout.ms
  std::chrono::milliseconds connection_timeout{30000};// ...zookeeper.connection.timeout.ms
  int retry_count = 10;                               // ...zookeeper.retry.count
  std::chrono::milliseconds retry_interval{10000};    // ...zookeeper.retry.interval.ms
  TunnelConfig tunnel;
};

struct HeronClusterConfig {
  std::string dir;       // the conf dir as given
  std::string cluster;   // its name, used for ${CLUSTER}
  SchedulerConfig scheduler;
  StateManagerConfig statemgr;
};

// Reads <dir>/scheduler.yaml and <dir>/statemgr.yaml. Both must exist.
// Throws ConfigError. `warnings` may be null.
HeronClusterConfig load_cluster_config(const std::string& dir, std::vector<std::string>* warnings,
                                       const SubstitutionOptions& substitution = {});

// Heron's substitution on one value: `${NAME}` (and a bare `$NAME`) is replaced
// by, in this order, `variables`, Heron's own names (HOME, CLUSTER, ROLE,
// ENVIRON, HERON_HOME, HERON_CONF, HERON_BIN, HERON_LIB, HERON_DIST, JAVA_HOME,
// HERON_SANDBOX_*), then the process environment. `~` at the start becomes
// $HOME. Names nothing defines are left as written and reported in
// `unresolved`; ${TOPOLOGY} is per topology and always left as written.
std::string substitute(const std::string& value, const std::map<std::string, std::string>& variables,
                       std::vector<std::string>* unresolved = nullptr);

// "500ms", "30s", "10m", "1h" (also "1h30m", and a plain "0"). Throws
// std::invalid_argument naming the text if it is not a duration.
std::chrono::milliseconds parse_duration(const std::string& text);
// The inverse, in the largest unit that divides evenly ("90s", "5m").
std::string format_duration(std::chrono::milliseconds d);

}  // namespace hmc::config
