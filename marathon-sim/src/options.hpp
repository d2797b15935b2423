#pragma once
// Command line, agent specs and fault settings of marathon-sim.

#include "task_faults.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::marathon_sim {

struct PortRange {
  std::uint32_t begin = 0, end = 0;  // inclusive, as Mesos writes ranges
};

inline std::vector<PortRange> default_agent_ports() {
  std::vector<PortRange> v(1);
  v[0].begin = 31000;
  v[0].end = 32000;
  return v;
}

struct AgentSpec {
  std::string id;        // empty: assigned when added
  std::string hostname;  // empty: derived from the id
  double cpus = 4, mem = 16384, disk = 100000, gpus = 0;
  std::vector<PortRange> ports = default_agent_ports();
  std::string role = "*";
  bool maintenance = false;
  std::map<std::string, std::string> attributes;
};

// What goes wrong on purpose. Applied to every API request (never to /_sim/).
struct Faults {
  std::chrono::milliseconds latency{0};  // added before every answer
  double error_rate = 0;                 // fraction answered with error_status
  int error_status = 503;                // the 5xx status of those answers
  double reset_rate = 0;                 // fraction whose connection is reset, no answer
  std::chrono::milliseconds lock_hold{0};  // deployments stay (locking) this long after done
  bool freeze_offers = false;            // the offer cycle launches and kills nothing
};

// Marathon's opt-in features (its --enable_features). Only `secrets` changes
// what the simulator accepts; the others are taken so command lines of a real
// Marathon work.
struct Features {
  bool secrets = false;  // apps may define `secrets` and env secret references
};

// "secrets,vips,...": Marathon's feature names (secrets, vips, task_killing,
// external_volumes, gpu_resources). Throws std::invalid_argument naming an
// unknown one.
Features parse_features(std::string_view list);

// DC/OS's login (the IAM behind Admin Router): POST /acs/api/v1/auth/login
// takes {"uid", "token"} where token is an RS256 JWT signed with the
// account's private key, and answers {"token"} for `Authorization: token=`.
// Enabled when public_key_pem is set; every account in `uids` has that key.
struct LoginOptions {
  std::string public_key_pem;
  std::vector<std::string> uids;
  std::chrono::seconds token_ttl{432000};  // DC/OS's authentication tokens last 5 days
  bool enabled() const { return !public_key_pem.empty(); }
};

struct SimOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string port_file;
  std::vector<AgentSpec> agents;
  std::chrono::milliseconds offer_period{200};
  std::string token;
  std::uint64_t seed = 0;
  bool seed_given = false;
  bool deterministic = false;
  Faults faults;
  std::vector<TaskFault> task_faults;  // --task-fault, in order
  std::size_t request_log_limit = 100000;
  // Marathon's --max_running_deployments (default 100): a change that would
  // start one more deployment is refused with 403. 0: no limit.
  std::size_t max_running_deployments = 100;
  bool quiet = false;
  bool exit_with_parent = false;  // exit when the parent process goes away
  Features features;              // --enable-features
  LoginOptions login;             // --login-public-key, --login-uid, --token-ttl
};

// "500ms", "30s", "10m", "1h", "250us" is rejected; a bare number is milliseconds.
// Errors: a message naming the bad text.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string* error);

// "cpus=4,mem=16384,disk=100000,ports=31000-32000[;...],gpus=0,hostname=h,role=*,
// maintenance=true,attr.rack=r1". Throws std::invalid_argument naming the bad key.
AgentSpec parse_agent_spec(std::string_view text);

// A YAML file: `agents: [{id, hostname, cpus, mem, disk, gpus, ports: ["31000-32000"],
// role, maintenance, attributes: {k: v}, count: N}]`. Throws std::invalid_argument.
std::vector<AgentSpec> load_agents_yaml(const std::string& path);

// Throws std::invalid_argument with a message for the user; `help` set when --help.
SimOptions parse_command_line(int argc, char** argv, bool* help);

std::string usage();

}  // namespace hmc::marathon_sim
