#pragma once
// An in-memory ZooKeeper for controller unit tests: one tree shared by any
// number of clients (sessions), with ZooKeeper's semantics where the
// controller relies on them: data versions, cversion-numbered sequential
// nodes, ephemeral nodes owned by a session, one-shot watches (data, exists,
// children) delivered through each client's ZkOptions::dispatch, atomic
// multi, digest ACLs (ZOO_CREATOR_ALL_ACL, or the creator's digest plus
// ZkOptions::acl, checked per permission), and test controls: injected
// failures, session expiry, an unreachable server.
//
//   hmc::testing::FakeZooKeeper zk;
//   auto client = zk.client();                   // a zk::ZkClient
//   zk.inject_failure({.op = FakeZkOp::set, .kind = hmc::ErrorKind::unavailable});
//   zk.expire_session(client->session_id());
//
// Callbacks: when ZkOptions::dispatch is empty, callbacks run on the thread
// that caused them, right after the operation (no lock held), which keeps
// unit tests deterministic. Thread-safe.

#include "hmc/zookeeper/zk_client.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hmc::testing {

enum class FakeZkOp { any, get, children, exists, create, set, remove, multi };

struct FakeZkFailure {
  FakeZkOp op = FakeZkOp::any;
  // Matches paths starting with this prefix; empty matches every path. For
  // multi, any op's path may match.
  std::string path;
  ErrorKind kind = ErrorKind::unavailable;
  int times = 1;  // how many calls fail; -1: until clear_failures()
};

class FakeZooKeeper {
 public:
  FakeZooKeeper();
  ~FakeZooKeeper();
  FakeZooKeeper(const FakeZooKeeper&) = delete;
  FakeZooKeeper& operator=(const FakeZooKeeper&) = delete;

  // A new session. `connect` is ignored; `digest` and `dispatch` are used.
  // unavailable while the server is unreachable.
  Result<std::unique_ptr<zk::ZkClient>> connect(const zk::ZkOptions& options = {});
  // connect() that throws on error.
  std::unique_ptr<zk::ZkClient> client(const zk::ZkOptions& options = {});

  // Failures are checked before the operation: a failed call changes nothing.
  void inject_failure(FakeZkFailure failure);
  void clear_failures();
  // Calls made through all clients (failed ones included).
  std::size_t call_count(FakeZkOp op) const;

  // The server expires the session: its ephemeral nodes go (with their
  // watches firing), its listener sees `expired`, its watches fire with
  // `session_lost`, then it gets a new session id and sees `connected`.
  void expire_session(std::int64_t session_id);
  void expire_all_sessions();
  // false: every client sees `connecting` and its calls fail with
  // unavailable (watches stay armed); true: `connected` again, same sessions.
  void set_reachable(bool reachable);

  // Direct looks at the tree, bypassing ACLs and failures.
  std::optional<std::string> data(const std::string& path) const;
  std::optional<zk::Stat> stat(const std::string& path) const;
  std::vector<std::string> paths() const;  // every node except "/", sorted
  std::size_t watch_count() const;         // armed watches of all clients

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace hmc::testing
