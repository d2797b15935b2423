#include "hmc/testing/fake_zookeeper.hpp"

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <variant>

namespace hmc::testing {
namespace {

// The C client's return codes, so callers that look at Error::code (e.g. to
// tell "exists" from "bad version") behave as with the real client.
constexpr int zbadarguments = -8;
constexpr int zconnectionloss = -4;
constexpr int znonode = -101;
constexpr int znoauth = -102;
constexpr int zbadversion = -103;
constexpr int znochildrenforephemerals = -108;
constexpr int znodeexists = -110;
constexpr int znotempty = -111;

using Dispatch = std::function<void(std::function<void()>)>;

Error zk_error(ErrorKind kind, std::string message, int code = 0) {
  return make_error(ErrorSource::zookeeper, kind, std::move(message), code);
}

std::string quoted(std::string_view op, const std::string& path) { return std::string(op) + " '" + path + "'"; }

bool valid_path(const std::string& path) {
  if (path == "/") return true;
  if (path.empty() || path.front() != '/' || path.back() == '/') return false;
  if (path.find('\0') != std::string::npos) return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const auto segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* op_name(FakeZkOp op) {
  switch (op) {
    case FakeZkOp::any: return "any";
    case FakeZkOp::get: return "get";
    case FakeZkOp::children: return "children";
    case FakeZkOp::exists: return "exists";
    case FakeZkOp::create: return "create";
    case FakeZkOp::set: return "set";
    case FakeZkOp::remove: return "remove";
    case FakeZkOp::multi: return "multi";
  }
  return "?";
}

// Callbacks collected under the lock, run after it is released.
struct Pending {
  std::vector<std::pair<Dispatch, std::function<void()>>> items;
  void add(const Dispatch& d, std::function<void()> task) { items.emplace_back(d, std::move(task)); }
  void run() {
    for (auto& [dispatch, task] : items) dispatch(std::move(task));
    items.clear();
  }
};

}  // namespace

struct FakeZooKeeper::State {
  struct NodeRec {
    std::string data;
    zk::Stat stat;
    std::vector<zk::AclEntry> acl;  // empty: open; else who may do what (as the real client creates it)
  };
  enum class WatchKind { data, exists, child };
  struct WatchRec {
    std::uint64_t client = 0;
    WatchKind kind = WatchKind::data;
    std::string path;
    zk::Watcher watcher;
  };
  struct Session {
    std::int64_t id = 0;
    zk::SessionState state = zk::SessionState::connected;
    zk::SessionListener listener;
    Dispatch dispatch;
    std::string digest;
    std::string digest_id;              // zk::digest_id(digest)
    std::vector<zk::AclEntry> node_acl;  // the ACL of nodes this session creates
  };

  mutable std::mutex mu;
  std::map<std::string, NodeRec> nodes;
  std::int64_t zxid = 0;
  std::int64_t next_session_id = 0x1000;
  std::uint64_t next_client = 1;
  std::map<std::uint64_t, Session> sessions;
  std::vector<WatchRec> watches;
  std::vector<FakeZkFailure> failures;
  std::map<FakeZkOp, std::size_t> calls;
  bool reachable = true;

  State() {
    NodeRec root;
    root.stat.version = 0;
    root.stat.cversion = 0;
    nodes.emplace("/", root);
  }

  // Call accounting, reachability and injected failures. Caller holds mu.
  std::optional<Error> admit(FakeZkOp op, const std::vector<std::string>& paths) {
    ++calls[op];
    const std::string first = paths.empty() ? std::string() : paths.front();
    if (!reachable) {
      return zk_error(ErrorKind::unavailable, quoted(op_name(op), first) + ": connection loss", zconnectionloss);
    }
    for (auto it = failures.begin(); it != failures.end(); ++it) {
      if (it->op != FakeZkOp::any && it->op != op) continue;
      bool match = it->path.empty();
      for (const auto& p : paths) match = match || p.rfind(it->path, 0) == 0;
      if (!match) continue;
      Error e = zk_error(it->kind, quoted(op_name(op), first) + ": injected failure");
      if (it->times > 0 && --it->times == 0) failures.erase(it);
      return e;
    }
    return std::nullopt;
  }

  // As ZooKeeper checks an ACL: some entry grants `perm` to an id of the
  // session (digest: its credentials' id; world: anyone). The fake has no
  // client addresses, so ip entries match nobody.
  bool allowed(const NodeRec& node, std::uint64_t client, int perm) const {
    if (node.acl.empty()) return true;
    const auto& id = sessions.at(client).digest_id;
    for (const auto& e : node.acl) {
      if (!(e.perms & perm)) continue;
      if (e.scheme == "world" && e.id == "anyone") return true;
      if (e.scheme == "digest" && !id.empty() && e.id == id) return true;
    }
    return false;
  }

  void fire(std::initializer_list<WatchKind> kinds, const std::string& path, zk::WatchEventType type, Pending& out) {
    for (auto it = watches.begin(); it != watches.end();) {
      const bool kind_match = std::find(kinds.begin(), kinds.end(), it->kind) != kinds.end();
      if (!kind_match || it->path != path) {
        ++it;
        continue;
      }
      auto s = sessions.find(it->client);
      if (s != sessions.end()) {
        out.add(s->second.dispatch, [w = std::move(it->watcher), path, type] { w(type, path); });
      }
      it = watches.erase(it);
    }
  }

  void arm(std::uint64_t client, WatchKind kind, const std::string& path, zk::Watcher watcher) {
    if (watcher) watches.push_back(WatchRec{client, kind, path, std::move(watcher)});
  }

  std::vector<std::string> child_names(const std::string& path) const {
    std::vector<std::string> out;
    const std::string prefix = path == "/" ? "/" : path + "/";
    for (auto it = nodes.lower_bound(prefix); it != nodes.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      const auto rest = it->first.substr(prefix.size());
      if (!rest.empty() && rest.find('/') == std::string::npos) out.push_back(rest);
    }
    return out;
  }

  Result<std::string> do_create(std::uint64_t client, const std::string& path, const std::string& data,
                                zk::CreateMode mode, Pending& out) {
    const bool sequential =
        mode == zk::CreateMode::persistent_sequential || mode == zk::CreateMode::ephemeral_sequential;
    if (path == "/" || !valid_path(path)) {
      return zk_error(ErrorKind::invalid, quoted("create", path) + ": bad arguments", zbadarguments);
    }
    const auto parent_path = parent_of(path);
    auto parent = nodes.find(parent_path);
    if (parent == nodes.end()) return zk_error(ErrorKind::not_found, quoted("create", path) + ": no node", znonode);
    if (parent->second.stat.ephemeral_owner != 0) {
      return zk_error(ErrorKind::invalid, quoted("create", path) + ": ephemeral nodes may not have children",
                      znochildrenforephemerals);
    }
    if (!allowed(parent->second, client, zk::acl_create)) {
      return zk_error(ErrorKind::unauthorized, quoted("create", path) + ": not authenticated", znoauth);
    }
    std::string name = path;
    if (sequential) {
      char suffix[16];
      std::snprintf(suffix, sizeof suffix, "%010d", parent->second.stat.cversion);
      name += suffix;
    }
    if (nodes.count(name)) return zk_error(ErrorKind::conflict, quoted("create", name) + ": node exists", znodeexists);
    NodeRec node;
    node.data = data;
    node.stat.version = 0;
    node.stat.cversion = 0;
    node.stat.czxid = node.stat.mzxid = ++zxid;
    node.stat.ctime_ms = node.stat.mtime_ms = now_ms();
    const bool ephemeral = mode == zk::CreateMode::ephemeral || mode == zk::CreateMode::ephemeral_sequential;
    node.stat.ephemeral_owner = ephemeral ? sessions.at(client).id : 0;
    node.acl = sessions.at(client).node_acl;
    nodes.emplace(name, std::move(node));
    ++parent->second.stat.cversion;
    ++parent->second.stat.num_children;
    fire({WatchKind::data, WatchKind::exists}, name, zk::WatchEventType::created, out);
    fire({WatchKind::child}, parent_path, zk::WatchEventType::child, out);
    return name;
  }

  Result<zk::Stat> do_set(std::uint64_t client, const std::string& path, const std::string& data,
                          std::int32_t version, Pending& out) {
    if (!valid_path(path)) return zk_error(ErrorKind::invalid, quoted("set", path) + ": bad arguments", zbadarguments);
    auto it = nodes.find(path);
    if (it == nodes.end()) return zk_error(ErrorKind::not_found, quoted("set", path) + ": no node", znonode);
    if (!allowed(it->second, client, zk::acl_write)) {
      return zk_error(ErrorKind::unauthorized, quoted("set", path) + ": not authenticated", znoauth);
    }
    if (version != -1 && version != it->second.stat.version) {
      return zk_error(ErrorKind::conflict, quoted("set", path) + ": bad version", zbadversion);
    }
    it->second.data = data;
    ++it->second.stat.version;
    it->second.stat.mzxid = ++zxid;
    it->second.stat.mtime_ms = now_ms();
    fire({WatchKind::data, WatchKind::exists}, path, zk::WatchEventType::changed, out);
    return it->second.stat;
  }

  Result<void> do_remove(std::uint64_t client, const std::string& path, std::int32_t version, Pending& out,
                         bool check_acl = true) {
    if (path == "/" || !valid_path(path)) {
      return zk_error(ErrorKind::invalid, quoted("remove", path) + ": bad arguments", zbadarguments);
    }
    auto it = nodes.find(path);
    if (it == nodes.end()) return zk_error(ErrorKind::not_found, quoted("remove", path) + ": no node", znonode);
    auto parent = nodes.find(parent_of(path));
    if (check_acl && !allowed(parent->second, client, zk::acl_delete)) {
      return zk_error(ErrorKind::unauthorized, quoted("remove", path) + ": not authenticated", znoauth);
    }
    if (version != -1 && version != it->second.stat.version) {
      return zk_error(ErrorKind::conflict, quoted("remove", path) + ": bad version", zbadversion);
    }
    if (it->second.stat.num_children > 0) {
      return zk_error(ErrorKind::conflict, quoted("remove", path) + ": the node has children", znotempty);
    }
    nodes.erase(it);
    ++parent->second.stat.cversion;
    --parent->second.stat.num_children;
    fire({WatchKind::data, WatchKind::exists, WatchKind::child}, path, zk::WatchEventType::deleted, out);
    fire({WatchKind::child}, parent->first, zk::WatchEventType::child, out);
    return {};
  }

  // Session `client` ends (closed or expired): its ephemerals go.
  void drop_ephemerals(std::int64_t session_id, Pending& out) {
    std::vector<std::string> owned;
    for (const auto& [path, node] : nodes) {
      if (node.stat.ephemeral_owner == session_id) owned.push_back(path);
    }
    for (const auto& path : owned) (void)do_remove(0, path, -1, out, false);
  }

  void expire(std::uint64_t client, Pending& out) {
    auto& s = sessions.at(client);
    if (s.listener) out.add(s.dispatch, [l = s.listener] { l(zk::SessionState::expired); });
    for (auto it = watches.begin(); it != watches.end();) {
      if (it->client != client) {
        ++it;
        continue;
      }
      out.add(s.dispatch, [w = std::move(it->watcher), p = it->path] { w(zk::WatchEventType::session_lost, p); });
      it = watches.erase(it);
    }
    drop_ephemerals(s.id, out);
    s.id = next_session_id++;
    s.state = zk::SessionState::connected;
    if (s.listener) out.add(s.dispatch, [l = s.listener] { l(zk::SessionState::connected); });
  }
};

namespace {

using State = FakeZooKeeper::State;

class FakeZkClient final : public zk::ZkClient {
 public:
  FakeZkClient(std::shared_ptr<State> state, std::uint64_t key) : state_(std::move(state)), key_(key) {}

  ~FakeZkClient() override {
    Pending out;
    {
      std::lock_guard lock(state_->mu);
      auto& watches = state_->watches;
      watches.erase(std::remove_if(watches.begin(), watches.end(), [&](const auto& w) { return w.client == key_; }),
                    watches.end());
      state_->drop_ephemerals(state_->sessions.at(key_).id, out);
      state_->sessions.erase(key_);
    }
    out.run();
  }

  Result<zk::Node> get(const std::string& path, zk::Watcher watch) override {
    std::lock_guard lock(state_->mu);
    if (auto e = state_->admit(FakeZkOp::get, {path})) return *e;
    if (!valid_path(path)) return zk_error(ErrorKind::invalid, quoted("get", path) + ": bad arguments", zbadarguments);
    auto it = state_->nodes.find(path);
    if (it == state_->nodes.end()) return zk_error(ErrorKind::not_found, quoted("get", path) + ": no node", znonode);
    if (!state_->allowed(it->second, key_, zk::acl_read)) {
      return zk_error(ErrorKind::unauthorized, quoted("get", path) + ": not authenticated", znoauth);
    }
    state_->arm(key_, State::WatchKind::data, path, std::move(watch));
    return zk::Node{it->second.data, it->second.stat};
  }

  Result<std::vector<std::string>> children(const std::string& path, zk::Watcher watch) override {
    std::lock_guard lock(state_->mu);
    if (auto e = state_->admit(FakeZkOp::children, {path})) return *e;
    if (!valid_path(path)) {
      return zk_error(ErrorKind::invalid, quoted("children", path) + ": bad arguments", zbadarguments);
    }
    auto it = state_->nodes.find(path);
    if (it == state_->nodes.end()) {
      return zk_error(ErrorKind::not_found, quoted("children", path) + ": no node", znonode);
    }
    if (!state_->allowed(it->second, key_, zk::acl_read)) {
      return zk_error(ErrorKind::unauthorized, quoted("children", path) + ": not authenticated", znoauth);
    }
    state_->arm(key_, State::WatchKind::child, path, std::move(watch));
    return state_->child_names(path);
  }

  Result<std::optional<zk::Stat>> exists(const std::string& path, zk::Watcher watch) override {
    std::lock_guard lock(state_->mu);
    if (auto e = state_->admit(FakeZkOp::exists, {path})) return *e;
    if (!valid_path(path)) {
      return zk_error(ErrorKind::invalid, quoted("exists", path) + ": bad arguments", zbadarguments);
    }
    state_->arm(key_, State::WatchKind::exists, path, std::move(watch));
    auto it = state_->nodes.find(path);
    if (it == state_->nodes.end()) return std::optional<zk::Stat>();
    return std::optional<zk::Stat>(it->second.stat);
  }

  Result<std::string> create(const std::string& path, const std::string& data, zk::CreateMode mode) override {
    Pending out;
    Result<std::string> r = [&]() -> Result<std::string> {
      std::lock_guard lock(state_->mu);
      if (auto e = state_->admit(FakeZkOp::create, {path})) return *e;
      return state_->do_create(key_, path, data, mode, out);
    }();
    out.run();
    return r;
  }

  Result<zk::Stat> set(const std::string& path, const std::string& data, std::int32_t version) override {
    Pending out;
    Result<zk::Stat> r = [&]() -> Result<zk::Stat> {
      std::lock_guard lock(state_->mu);
      if (auto e = state_->admit(FakeZkOp::set, {path})) return *e;
      return state_->do_set(key_, path, data, version, out);
    }();
    out.run();
    return r;
  }

  Result<void> remove(const std::string& path, std::int32_t version) override {
    Pending out;
    Result<void> r = [&]() -> Result<void> {
      std::lock_guard lock(state_->mu);
      if (auto e = state_->admit(FakeZkOp::remove, {path})) return *e;
      return state_->do_remove(key_, path, version, out);
    }();
    out.run();
    return r;
  }

  Result<void> multi(const std::vector<zk::Op>& ops) override {
    Pending out;
    Result<void> r = [&]() -> Result<void> {
      std::lock_guard lock(state_->mu);
      std::vector<std::string> paths;
      for (const auto& op : ops) std::visit([&](const auto& o) { paths.push_back(o.path); }, op);
      if (auto e = state_->admit(FakeZkOp::multi, paths)) return *e;
      // Apply to the live tree; on failure put everything back.
      const auto saved_nodes = state_->nodes;
      const auto saved_zxid = state_->zxid;
      const auto saved_watches = state_->watches;
      for (std::size_t i = 0; i < ops.size(); ++i) {
        std::string what;
        Result<void> step = std::visit(
            [&](const auto& o) -> Result<void> {
              using T = std::decay_t<decltype(o)>;
              if constexpr (std::is_same_v<T, zk::CreateOp>) {
                what = quoted("create", o.path);
                auto c = state_->do_create(key_, o.path, o.data, o.mode, out);
                if (!c) return c.error();
                return {};
              } else if constexpr (std::is_same_v<T, zk::SetOp>) {
                what = quoted("set", o.path);
                auto s = state_->do_set(key_, o.path, o.data, o.version, out);
                if (!s) return s.error();
                return {};
              } else if constexpr (std::is_same_v<T, zk::DeleteOp>) {
                what = quoted("remove", o.path);
                return state_->do_remove(key_, o.path, o.version, out);
              } else {
                what = quoted("check", o.path);
                auto it = state_->nodes.find(o.path);
                if (it == state_->nodes.end()) return zk_error(ErrorKind::not_found, "no node", znonode);
                if (o.version != -1 && o.version != it->second.stat.version) {
                  return zk_error(ErrorKind::conflict, "bad version", zbadversion);
                }
                return {};
              }
            },
            ops[i]);
        if (!step) {
          state_->nodes = saved_nodes;
          state_->zxid = saved_zxid;
          state_->watches = saved_watches;
          out.items.clear();
          Error e = step.error();
          e.message = "multi: op " + std::to_string(i) + " (" + what + ") failed: " + e.message +
                      "; nothing was applied";
          return e;
        }
      }
      return {};
    }();
    out.run();
    return r;
  }

  Result<void> ensure_path(const std::string& path) override {
    if (path.empty() || path.front() != '/') {
      return zk_error(ErrorKind::invalid, "ensure_path '" + path + "': a path must start with '/'", zbadarguments);
    }
    if (path == "/") return {};
    std::size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      auto made = create(path.substr(0, pos), "", zk::CreateMode::persistent);
      if (!made && made.error().code != znodeexists) return made.error();
    }
    return {};
  }

  Result<void> remove_recursive(const std::string& path) override {
    if (path.empty() || path == "/") {
      return zk_error(ErrorKind::invalid, "remove_recursive '" + path + "': refusing to remove the root", zbadarguments);
    }
    auto kids = children(path, {});
    if (!kids) return kids.error().kind == ErrorKind::not_found ? Result<void>() : kids.error();
    for (const auto& kid : *kids) {
      auto removed = remove_recursive(path + "/" + kid);
      if (!removed) return removed;
    }
    auto removed = remove(path, -1);
    if (!removed && removed.error().kind != ErrorKind::not_found) return removed;
    return {};
  }

  zk::SessionState state() const override {
    std::lock_guard lock(state_->mu);
    return state_->sessions.at(key_).state;
  }

  std::int64_t session_id() const override {
    std::lock_guard lock(state_->mu);
    return state_->sessions.at(key_).id;
  }

  void set_session_listener(zk::SessionListener listener) override {
    std::lock_guard lock(state_->mu);
    state_->sessions.at(key_).listener = std::move(listener);
  }

 private:
  std::shared_ptr<State> state_;
  std::uint64_t key_;
};

}  // namespace

FakeZooKeeper::FakeZooKeeper() : state_(std::make_shared<State>()) {}
FakeZooKeeper::~FakeZooKeeper() = default;

Result<std::unique_ptr<zk::ZkClient>> FakeZooKeeper::connect(const zk::ZkOptions& options) {
  if (!options.digest.empty() && options.digest.find(':') == std::string::npos) {
    return zk_error(ErrorKind::invalid, "ZooKeeper digest credentials must be 'user:password'");
  }
  if (!options.acl.empty() && options.digest.empty()) {
    return zk_error(ErrorKind::invalid, "a ZooKeeper ACL list needs digest credentials");
  }
  std::lock_guard lock(state_->mu);
  if (!state_->reachable) {
    return zk_error(ErrorKind::unavailable, "no ZooKeeper server answered at '" + options.connect + "'");
  }
  State::Session session;
  session.id = state_->next_session_id++;
  session.digest = options.digest;
  if (!options.digest.empty()) {
    session.digest_id = zk::digest_id(options.digest);
    session.node_acl = zk::creator_acl(options.digest, options.acl);
  }
  session.dispatch = options.dispatch ? options.dispatch : Dispatch([](std::function<void()> task) { task(); });
  const auto key = state_->next_client++;
  state_->sessions.emplace(key, std::move(session));
  return std::unique_ptr<zk::ZkClient>(std::make_unique<FakeZkClient>(state_, key));
}

std::unique_ptr<zk::ZkClient> FakeZooKeeper::client(const zk::ZkOptions& options) {
  auto c = connect(options);
  if (!c) throw std::runtime_error("FakeZooKeeper::client: " + c.error().message);
  return std::move(*c);
}

void FakeZooKeeper::inject_failure(FakeZkFailure failure) {
  std::lock_guard lock(state_->mu);
  state_->failures.push_back(std::move(failure));
}

void FakeZooKeeper::clear_failures() {
  std::lock_guard lock(state_->mu);
  state_->failures.clear();
}

std::size_t FakeZooKeeper::call_count(FakeZkOp op) const {
  std::lock_guard lock(state_->mu);
  if (op != FakeZkOp::any) {
    auto it = state_->calls.find(op);
    return it == state_->calls.end() ? 0 : it->second;
  }
  std::size_t total = 0;
  for (const auto& [_, n] : state_->calls) total += n;
  return total;
}

void FakeZooKeeper::expire_session(std::int64_t session_id) {
  Pending out;
  {
    std::lock_guard lock(state_->mu);
    for (auto& [key, session] : state_->sessions) {
      if (session.id == session_id) {
        state_->expire(key, out);
        break;
      }
    }
  }
  out.run();
}

void FakeZooKeeper::expire_all_sessions() {
  Pending out;
  {
    std::lock_guard lock(state_->mu);
    for (auto& [key, _] : state_->sessions) state_->expire(key, out);
  }
  out.run();
}

void FakeZooKeeper::set_reachable(bool reachable) {
  Pending out;
  {
    std::lock_guard lock(state_->mu);
    if (state_->reachable == reachable) return;
    state_->reachable = reachable;
    const auto next = reachable ? zk::SessionState::connected : zk::SessionState::connecting;
    for (auto& [_, s] : state_->sessions) {
      s.state = next;
      if (s.listener) out.add(s.dispatch, [l = s.listener, next] { l(next); });
    }
  }
  out.run();
}

std::optional<std::string> FakeZooKeeper::data(const std::string& path) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->nodes.find(path);
  if (it == state_->nodes.end()) return std::nullopt;
  return it->second.data;
}

std::optional<zk::Stat> FakeZooKeeper::stat(const std::string& path) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->nodes.find(path);
  if (it == state_->nodes.end()) return std::nullopt;
  return it->second.stat;
}

std::vector<std::string> FakeZooKeeper::paths() const {
  std::lock_guard lock(state_->mu);
  std::vector<std::string> out;
  for (const auto& [path, _] : state_->nodes) {
    if (path != "/") out.push_back(path);
  }
  return out;
}

std::size_t FakeZooKeeper::watch_count() const {
  std::lock_guard lock(state_->mu);
  return state_->watches.size();
}

}  // namespace hmc::testing
