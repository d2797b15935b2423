#pragma once
// Leader election with ZooKeeper's recipe: every candidate creates an
// ephemeral sequential node under `election_path`; the lowest leads; every
// other candidate watches only its predecessor (no herd effect).
//
// Threading: callbacks arrive through the ZooKeeper client's dispatcher;
// `on_change` is called without internal locks held. Thread-safe.

#include "hmc/common/error.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

namespace hmc::zk { class ZkClient; }

namespace hmc::controller {

class LeaderElection {
 public:
  using OnChange = std::function<void(bool leading)>;

  LeaderElection(zk::ZkClient& zk, std::string election_path, std::string identity, OnChange on_change);
  ~LeaderElection();

  // Creates this candidate's node and evaluates leadership.
  Result<void> join();
  // Deletes this candidate's node at once so a standby takes over without
  // waiting for the session timeout. Idempotent.
  void resign();

  // Session changes, forwarded by the owner of the ZooKeeper client.
  void session_suspect();   // disconnected: stop leading until connected again
  void session_connected(bool new_session);  // new_session: rejoin (old node is gone)

  bool leading() const { return leading_.load(); }
  // The election node of this candidate ("" when not joined), for fenced writes.
  std::string node() const;
  // The identity written in the current leader's node, "" if unknown.
  std::string leader_identity() const;

 private:
  void evaluate();
  void set_leading(bool leading);

  zk::ZkClient& zk_;
  std::string path_;
  std::string identity_;
  OnChange on_change_;
  mutable std::mutex mu_;
  std::string node_;         // full path of our node
  std::string leader_identity_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> resigned_{false};
  std::atomic<bool> suspect_{false};
};

}  // namespace hmc::controller
