#pragma once
// A narrow, synchronous interface to ZooKeeper. The real implementation wraps
// the ZooKeeper C client (zookeeper_mt); a fake for unit tests lives in test/.
//
// Threading: every method may be called from any thread and blocks until the
// server answers or the operation fails. Watch and session callbacks are never
// run on the ZooKeeper library's thread: they go through `ZkOptions::dispatch`
// (the owner's executor), so they may do work, but must not assume an order
// with respect to other callbacks.

#include "hmc/common/error.hpp"
#include "hmc/zookeeper/acl.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hmc::zk {

struct Stat {
  std::int32_t version = -1;       // data version (optimistic concurrency)
  std::int32_t cversion = -1;
  std::int64_t ctime_ms = 0;
  std::int64_t mtime_ms = 0;
  std::int64_t ephemeral_owner = 0;
  std::int32_t num_children = 0;
  std::int64_t czxid = 0;
  std::int64_t mzxid = 0;
};

struct Node {
  std::string data;
  Stat stat;
};

enum class CreateMode { persistent, ephemeral, persistent_sequential, ephemeral_sequential };

enum class WatchEventType { created, deleted, changed, child, session_lost };
// One-shot: called once, then the watch is gone. `session_lost` means the
// session expired and the watch will never fire: re-read and re-arm.
using Watcher = std::function<void(WatchEventType, const std::string& path)>;

enum class SessionState { connecting, connected, expired, auth_failed, closed };
const char* to_string(SessionState s) noexcept;
using SessionListener = std::function<void(SessionState)>;

// Operations for multi(): all succeed or none is applied.
struct CreateOp { std::string path; std::string data; CreateMode mode = CreateMode::persistent; };
struct SetOp { std::string path; std::string data; std::int32_t version = -1; };
struct DeleteOp { std::string path; std::int32_t version = -1; };
struct CheckOp { std::string path; std::int32_t version = -1; };  // -1: only exists
using Op = std::variant<CreateOp, SetOp, DeleteOp, CheckOp>;

struct ZkOptions {
  std::string connect;  // "host:port,host:port[/chroot]"
  std::chrono::milliseconds session_timeout{30000};
  std::chrono::milliseconds connect_timeout{30000};  // first connection
  std::string digest;   // "user:password" for digest auth; empty: none
  // Further identities given access to every node this client creates (needs
  // `digest`): e.g. the controller's digest on nodes the CLI writes.
  std::vector<AclEntry> acl;
  // Where callbacks run; default: a dedicated dispatcher thread of the client.
  std::function<void(std::function<void()>)> dispatch;
};

class ZkClient {
 public:
  virtual ~ZkClient() = default;

  // Errors: not_found (ZNONODE), unavailable (connection loss, timeout),
  // session_expired, unauthorized (ZNOAUTH). A watcher is armed only on success
  // (get/children) or always (exists, also on not_found -> nullopt).
  virtual Result<Node> get(const std::string& path, Watcher watch = {}) = 0;
  virtual Result<std::vector<std::string>> children(const std::string& path, Watcher watch = {}) = 0;
  virtual Result<std::optional<Stat>> exists(const std::string& path, Watcher watch = {}) = 0;
  // Reads several nodes with the requests pipelined on the session: one round
  // trip for the batch instead of one per node. `watch_for(path)` gives the
  // watcher to arm on each path (empty function or empty watcher: none).
  // Results in the order of `paths`, each as get() would return it. The
  // default implementation calls get() for each path.
  virtual std::vector<Result<Node>> get_many(const std::vector<std::string>& paths,
                                             const std::function<Watcher(const std::string&)>& watch_for = {});
  // As get_many, but hands each result to `each(index, result)` in the
  // calling thread, in order, as soon as it and those before it are in,
  // and returns once all are delivered. The default calls get() in turn.
  virtual void get_each(const std::vector<std::string>& paths,
                        const std::function<Watcher(const std::string&)>& watch_for,
                        const std::function<void(std::size_t, Result<Node>)>& each);

  // Returns the created path (differs for sequential modes). conflict if it
  // exists, not_found if the parent is missing. Nodes get ZOO_CREATOR_ALL_ACL
  // when digest auth is set (the creator's digest plus ZkOptions::acl when
  // that is given), else the open ACL.
  virtual Result<std::string> create(const std::string& path, const std::string& data,
                                     CreateMode mode = CreateMode::persistent) = 0;
  // conflict on version mismatch (ZBADVERSION); version -1 means any.
  virtual Result<Stat> set(const std::string& path, const std::string& data,
                           std::int32_t version = -1) = 0;
  // not_found if missing; conflict on version mismatch or when it has children.
  virtual Result<void> remove(const std::string& path, std::int32_t version = -1) = 0;
  // All or nothing. On failure the error names the first failing op's path.
  virtual Result<void> multi(const std::vector<Op>& ops) = 0;
  // multi() without waiting for the answer: `done` runs later on the
  // client's dispatcher (where it may call the blocking methods). Requests of
  // one session are applied in the order they were sent, so a later
  // blocking call sees this one applied (or failed). Destroying the client
  // waits up to 5 s for answers still on their way; one that has not come
  // by then is dropped (`done` never runs). The default implementation
  // calls multi() and then `done`.
  virtual void multi_async(std::vector<Op> ops, std::function<void(Result<void>)> done);

  // Creates `path` and its missing parents (persistent, empty data). Idempotent.
  virtual Result<void> ensure_path(const std::string& path) = 0;
  // Deletes `path` and everything below it. Idempotent (ok if missing).
  virtual Result<void> remove_recursive(const std::string& path) = 0;

  virtual SessionState state() const = 0;
  virtual std::int64_t session_id() const = 0;
  // Called on every state change. After `expired` the client opens a new
  // session by itself and reports `connected` again: owners re-read, re-arm
  // watches and recreate their ephemeral nodes then.
  virtual void set_session_listener(SessionListener listener) = 0;
};

// Connects and waits up to `connect_timeout` for the first session.
// Errors: unavailable (no server answered), unauthorized (auth failed).
Result<std::unique_ptr<ZkClient>> connect(const ZkOptions& options);

}  // namespace hmc::zk
