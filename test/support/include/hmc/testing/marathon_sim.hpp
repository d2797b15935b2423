#pragma once
// Starts the marathon-sim binary on a free loopback port for integration tests
// and talks to it over plain HTTP/1.1. The destructor always stops it.
//
// Test targets that use this harness must depend on the `marathon-sim` target
// (add_dependencies(<test> marathon-sim)) so the binary is built first.

#include "hmc/testing/process.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hmc::testing {

struct MarathonSimOptions {
  // --agent specs, e.g. "cpus=4,mem=16384,disk=100000,ports=31000-32000".
  // Empty: the simulator's single default agent of that size.
  std::vector<std::string> agents;
  std::string agents_file;           // --agents-file
  std::string offer_period = "50ms"; // --offer-period
  bool deterministic = false;        // time moves only through tick()
  std::string token;                 // --token: require Authorization: token=<t>
  // DC/OS login: --login-public-key FILE (PEM), --login-uid (each), --token-ttl.
  std::string login_public_key_file;
  std::vector<std::string> login_uids;
  int token_ttl_seconds = 0;         // 0: the simulator's default (5 days)
  std::uint64_t seed = 1;            // --seed
  std::vector<std::string> extra_args;
};

// One answer. status 0 means no answer (connection refused, reset or timeout).
struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// One entry of the simulator's request log (GET /_sim/requests).
struct SimRequest {
  std::uint64_t seq = 0;
  std::string method;
  std::string path;  // target as sent: path and query
  int status = 0;    // 0: the connection was reset by a fault
  std::string user_agent;
};

// A token the simulator's login endpoint issued (GET /_sim/logins).
struct SimLogin {
  std::string uid;
  std::string token;
  std::string issued_at, expires_at;  // the simulator's time, RFC 3339
};

// Sends one HTTP/1.1 request on a fresh connection to 127.0.0.1:port and reads
// the whole answer. Blocking; `timeout` covers connect, send and receive.
HttpResult http_request(int port, const std::string& method, const std::string& target,
                        const std::string& body = {},
                        const std::map<std::string, std::string>& headers = {},
                        std::chrono::milliseconds timeout = std::chrono::milliseconds{10000});

class MarathonSim {
 public:
  // Starts the simulator and waits until it answers /ping. Throws
  // std::runtime_error (with the simulator's log) when it does not start.
  explicit MarathonSim(MarathonSimOptions options = {});
  ~MarathonSim();
  MarathonSim(const MarathonSim&) = delete;
  MarathonSim& operator=(const MarathonSim&) = delete;

  static std::string binary_path();  // ${CMAKE_BINARY_DIR}/marathon-sim/marathon-sim

  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Plain HTTP helpers; the token (if configured) is sent unless `headers`
  // already carries an Authorization header.
  HttpResult get(const std::string& target, std::map<std::string, std::string> headers = {}) const;
  HttpResult post(const std::string& target, const std::string& body,
                  std::map<std::string, std::string> headers = {}) const;
  HttpResult put(const std::string& target, const std::string& body,
                 std::map<std::string, std::string> headers = {}) const;
  HttpResult del(const std::string& target, std::map<std::string, std::string> headers = {}) const;
  HttpResult request(const std::string& method, const std::string& target, const std::string& body,
                     std::map<std::string, std::string> headers) const;

  // Admin endpoints. Each throws std::runtime_error if the simulator refuses.
  std::string add_agent(const std::string& spec);  // returns the agent id
  void remove_agent(const std::string& agent_id);
  void set_faults(const std::string& faults_json);  // e.g. {"errorRate":0.5,"latency":"20ms"}
  void clear_faults();
  // Task faults (POST /_sim/task-faults), e.g. {"kind":"fetch","fetchUri":"*.tar.gz"};
  // add_task_fault returns the fault's id.
  std::string add_task_fault(const std::string& json);
  void remove_task_fault(const std::string& id);
  void clear_task_faults();
  void tick(int cycles = 1);                        // runs offer cycles (moves time when deterministic)
  void advance(const std::string& duration);        // deterministic: moves time by e.g. "10m"
  std::vector<SimLogin> logins() const;             // every token issued, oldest first
  std::vector<SimRequest> requests() const;         // the request log, oldest first
  // The ids of the app's tasks (GET /v2/apps/<id>/tasks, logged like any API
  // call), in the simulator's order; throws unless the answer is 200.
  std::vector<std::string> task_ids(const std::string& app_id) const;
  void clear_requests();

  // Stops the process (idempotent). The destructor calls it.
  void stop();
  bool running();
  std::string log() const;

 private:
  HttpResult admin(const std::string& method, const std::string& target, const std::string& body) const;

  MarathonSimOptions options_;
  TempDir dir_;
  ChildProcess process_;
  int port_ = 0;
};

}  // namespace hmc::testing
