#pragma once
// heron-marathon: the operators' command line. It validates topology specs,
// writes desired-state nodes to ZooKeeper and reads status nodes back; it never
// talks to Marathon. main() only builds a Context and calls run().

#include "hmc/common/error.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hmc::cli {

// Process exit codes (documented in docs/cli.md).
enum ExitCode : int {
  exit_ok = 0,           // done (diff: no differences)
  exit_failed = 1,       // failed, refused, timed out (diff: differences)
  exit_usage = 2,        // bad command line or invalid spec
  exit_unavailable = 3,  // ZooKeeper unreachable or credentials refused
};

// Opens a ZooKeeper session; production code passes hmc::zk::connect.
using Connector = std::function<Result<std::unique_ptr<zk::ZkClient>>(const zk::ZkOptions&)>;

// Everything run() touches outside its arguments, so tests can supply their own.
struct Context {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  std::function<std::optional<std::string>(const std::string&)> getenv;
  Connector connect;
  std::function<std::chrono::system_clock::time_point()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::chrono::milliseconds poll_interval{250};  // --wait polling period
};

// Runs one invocation (`args` without the program name) and returns its exit code.
int run(const std::vector<std::string>& args, Context& ctx);

// A Context on the process's standard streams, environment, clock and the
// real ZooKeeper client.
Context process_context();

}  // namespace hmc::cli
