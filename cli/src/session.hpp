#pragma once
// One invocation's shared state: options, streams, the ZooKeeper session and
// the controller's node layout. Private to the CLI library.

#include "hmc/cli/app.hpp"
#include "options.hpp"

#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/status.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace hmc::ssh {
class ZkTunnel;
}

namespace hmc::cli {

struct Session {
  Session(const Options& o, Context& c) : opts(o), ctx(c) {}

  const Options& opts;
  Context& ctx;
  std::string root = "/heron-marathon";
  std::string connect_string;
  // Declared before `zk`, so the client is closed before its tunnel goes.
  std::shared_ptr<ssh::ZkTunnel> tunnel;
  std::unique_ptr<zk::ZkClient> zk;

  std::string topologies_path() const { return root + "/topologies"; }
  std::string status_dir() const { return root + "/status"; }
  std::string desired_path(const std::string& name) const { return topologies_path() + "/" + name; }
  std::string status_path(const std::string& name) const { return status_dir() + "/" + name; }

  // Prints "error: <message>" and returns `code`.
  int fail(int code, const std::string& message) const;
  // An error from ZooKeeper: exit 3 when it is unreachable or refuses our
  // credentials, 1 otherwise.
  int zk_fail(const Error& e, const std::string& doing) const;
  // Resolves --zk/--config/--root/credentials and connects. 0 or an exit code.
  int open();
};

// What --wait waits for.
struct WaitGoal {
  std::string name;
  bool until_gone = false;  // kill: until the desired node is deleted
  reconciler::Phase phase = reconciler::Phase::Running;
  std::int64_t generation = 0;   // the desired node's version that was written
  std::int64_t after_zxid = 0;   // a status written before this zxid is stale
};
WaitGoal goal_for(const std::string& name, reconciler::DesiredState state, std::int64_t generation,
                  std::int64_t after_zxid);
// Follows the status node, printing a line per change. 0 converged, 1 failed
// or timed out, 3 ZooKeeper lost.
int wait_for(Session& s, const WaitGoal& goal);

// Commands; each returns the exit code.
int cmd_submit(Session& s);
int cmd_update(Session& s);
int cmd_set_state(Session& s, reconciler::DesiredState target);
int cmd_status(Session& s);
int cmd_list(Session& s);
int cmd_describe(Session& s);
int cmd_diff(Session& s);
int cmd_restart(Session& s);

}  // namespace hmc::cli
