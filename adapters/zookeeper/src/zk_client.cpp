// hmc::zk::ZkClient over the ZooKeeper C client (zookeeper_mt).
//
// Threads: the C library runs an IO thread and a completion thread per handle.
// Its callbacks (session_event_trampoline, watch_trampoline) only update state
// under mu_ and post the user's callbacks to ZkOptions::dispatch. A session
// thread replaces the handle after the server expired the session. mu_ is
// never held while a handle is closed: zookeeper_close joins the completion
// thread, which may be waiting for mu_.

#include "hmc/common/thread_name.hpp"
#include "hmc/zookeeper/zk_client.hpp"
#include "hmc/zookeeper/testing.hpp"

#include "hmc/common/log.hpp"
#include "serial_dispatcher.hpp"

#include <zookeeper/zookeeper.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace hmc::zk {

const char* to_string(SessionState s) noexcept {
  switch (s) {
    case SessionState::connecting: return "connecting";
    case SessionState::connected: return "connected";
    case SessionState::expired: return "expired";
    case SessionState::auth_failed: return "auth_failed";
    case SessionState::closed: return "closed";
  }
  return "unknown";
}

namespace {

constexpr std::size_t initial_get_buffer = 64 * 1024;

Error zk_error(ErrorKind kind, std::string message, int code = 0) {
  return make_error(ErrorSource::zookeeper, kind, std::move(message), code);
}

ErrorKind kind_of(int rc) {
  switch (rc) {
    case ZNONODE: return ErrorKind::not_found;
    case ZNODEEXISTS:
    case ZBADVERSION:
    case ZNOTEMPTY: return ErrorKind::conflict;
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
    case ZSESSIONMOVED:
    case ZTHROTTLEDOP:
    case ZCLOSING: return ErrorKind::unavailable;
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE: return ErrorKind::session_expired;
    case ZNOAUTH:
    case ZAUTHFAILED:
    case ZSESSIONCLOSEDREQUIRESASLAUTH: return ErrorKind::unauthorized;
    case ZBADARGUMENTS:
    case ZINVALIDACL:
    case ZNOCHILDRENFOREPHEMERALS: return ErrorKind::invalid;
    default: return ErrorKind::internal;
  }
}

std::string describe(int rc) {
  if (rc == ZBADARGUMENTS) {
    return "bad arguments (a path starts with '/', has no empty, '.' or '..' segment "
           "and does not end with '/')";
  }
  return zerror(rc);
}

Error error_from(int rc, std::string_view op, std::string_view path) {
  std::string message(op);
  message += " '";
  message += path;
  message += "': ";
  message += describe(rc);
  return zk_error(kind_of(rc), std::move(message), rc);
}

Stat to_stat(const ::Stat& s) {
  Stat out;
  out.version = s.version;
  out.cversion = s.cversion;
  out.ctime_ms = s.ctime;
  out.mtime_ms = s.mtime;
  out.ephemeral_owner = s.ephemeralOwner;
  out.num_children = s.numChildren;
  out.czxid = s.czxid;
  out.mzxid = s.mzxid;
  return out;
}

int mode_flags(CreateMode mode) {
  switch (mode) {
    case CreateMode::persistent: return ZOO_PERSISTENT;
    case CreateMode::ephemeral: return ZOO_EPHEMERAL;
    case CreateMode::persistent_sequential: return ZOO_PERSISTENT_SEQUENTIAL;
    case CreateMode::ephemeral_sequential: return ZOO_EPHEMERAL_SEQUENTIAL;
  }
  return ZOO_PERSISTENT;
}

// The C client's own log lines (warnings and errors only, see
// set_up_library_logging). While no server answers it logs every few
// milliseconds, so at most one line a second goes through.
void log_from_library(const char* message) {
  static std::mutex mu;
  static std::chrono::steady_clock::time_point last{};
  static std::size_t suppressed = 0;
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mu);
    const auto now = std::chrono::steady_clock::now();
    if (last != std::chrono::steady_clock::time_point{} && now - last < std::chrono::seconds{1}) {
      ++suppressed;
      return;
    }
    last = now;
    dropped = std::exchange(suppressed, 0);
  }
  std::string_view text(message ? message : "");
  const bool is_error = text.find("ZOO_ERROR") != std::string_view::npos;
  log::Fields fields{{"message", std::string(text)}};
  if (dropped > 0) fields.emplace_back("suppressed", std::to_string(dropped));
  log::write(is_error ? log::Level::error : log::Level::warn, "zookeeper_client_library", fields);
}

void set_up_library_logging() {
  static std::once_flag once;
  std::call_once(once, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
}

void ignore_auth_completion(int, const void*) {}

constexpr int kResolutionDelayMs = 60'000;
constexpr std::chrono::seconds kAsyncDrain{5};  // at most, when the client is destroyed
void ignore_session_event(zhandle_t*, int, int, const char*, void*) {}

class RealZkClient;

// What the C library hands back to our callbacks: which client, which handle.
struct HandleContext {
  RealZkClient* client = nullptr;
  std::uint64_t generation = 0;
};

// One zhandle_t. Closed when the last user lets go (never on the completion
// thread: the library's callbacks hold no Handle).
struct Handle {
  zhandle_t* zh = nullptr;
  std::unique_ptr<HandleContext> context;
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (zh) zookeeper_close(zh);
  }
};

struct WatchEntry {
  std::uint64_t generation = 0;
  std::string path;
  Watcher watcher;
};

void session_event_trampoline(zhandle_t* zh, int type, int state, const char* path, void* ctx);
void watch_trampoline(zhandle_t* zh, int type, int state, const char* path, void* ctx);

class RealZkClient final : public ZkClient {
 public:
  explicit RealZkClient(ZkOptions options) : options_(std::move(options)) {
    if (!options_.dispatch) {
      dispatcher_ = std::make_unique<SerialDispatcher>();
      options_.dispatch = [d = dispatcher_.get()](std::function<void()> task) { d->post(std::move(task)); };
    }
    if (!options_.digest.empty() && !options_.acl.empty()) {
      // The C structs point into acl_entries_, which stays as it is from here on.
      acl_entries_ = creator_acl(options_.digest, options_.acl);
      for (auto& e : acl_entries_) {
        acl_storage_.push_back(::ACL{e.perms, ::Id{e.scheme.data(), e.id.data()}});
      }
      acl_vector_ = ACL_vector{static_cast<std::int32_t>(acl_storage_.size()), acl_storage_.data()};
    }
  }

  ~RealZkClient() override {
    {
      // Closing the handle drops answers still on their way (the library
      // stops its threads first): give multi_async requests in flight a
      // moment to be answered.
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kAsyncDrain, [this] { return async_in_flight_ == 0; });
    }
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      state_ = SessionState::closed;
      watches_.clear();
    }
    cv_.notify_all();
    if (session_thread_.joinable()) session_thread_.join();
    std::shared_ptr<Handle> handle;
    {
      std::lock_guard lock(mu_);
      handle = std::move(handle_);
    }
    handle.reset();
    dispatcher_.reset();  // runs callbacks already posted
  }

  // Opens the first session and waits for it (connect()).
  Result<void> start() {
    std::unique_lock lock(mu_);
    const auto generation = ++generation_;
    auto handle = open_handle(generation, nullptr);
    if (!handle) {
      return zk_error(ErrorKind::invalid,
                      "cannot use ZooKeeper connect string '" + options_.connect + "': " +
                          std::strerror(errno));
    }
    handle_ = std::move(handle);
    const bool answered = cv_.wait_for(lock, options_.connect_timeout, [this] {
      return state_ == SessionState::connected || state_ == SessionState::auth_failed;
    });
    if (!answered) {
      return zk_error(ErrorKind::unavailable,
                      "no ZooKeeper server answered at '" + options_.connect + "' within " +
                          std::to_string(options_.connect_timeout.count()) + "ms");
    }
    if (state_ == SessionState::auth_failed) {
      return zk_error(ErrorKind::unauthorized,
                      "ZooKeeper at '" + options_.connect + "' refused the digest credentials", ZAUTHFAILED);
    }
    session_thread_ = std::thread([this] {
      name_this_thread("hmc-zk-session");
      renew_sessions();
    });
    return {};
  }

  Result<Node> get(const std::string& path, Watcher watch) override {
    auto handle = current();
    if (!handle) return no_handle("get", path);
    const auto id = watch ? add_watch(std::move(watch), path, handle->context->generation) : 0;
    std::string buffer(initial_get_buffer, '\0');
    int length = static_cast<int>(buffer.size());
    ::Stat stat{};
    int rc = zoo_wget(handle->zh, path.c_str(), id ? watch_trampoline : nullptr, as_context(id),
                      buffer.data(), &length, &stat);
    if (rc != ZOK) {
      drop_watch(id);
      return error_from(rc, "get", path);
    }
    // The first read was cut at the buffer's size; read again (the watch,
    // if any, is armed already and fires on any change in between).
    while (stat.dataLength > length) {
      buffer.assign(static_cast<std::size_t>(stat.dataLength), '\0');
      length = stat.dataLength;
      rc = zoo_wget(handle->zh, path.c_str(), nullptr, nullptr, buffer.data(), &length, &stat);
      if (rc != ZOK) return error_from(rc, "get", path);
    }
    buffer.resize(length > 0 ? static_cast<std::size_t>(length) : 0);
    // Callers keep node data (the controller caches every desired node): do
    // not hand them the 64 KiB read buffer's capacity with it.
    buffer.shrink_to_fit();
    return Node{std::move(buffer), to_stat(stat)};
  }

  std::vector<Result<Node>> get_many(const std::vector<std::string>& paths,
                                     const std::function<Watcher(const std::string&)>& watch_for) override {
    std::vector<Result<Node>> out;
    out.reserve(paths.size());
    get_each(paths, watch_for, [&](std::size_t, Result<Node> r) { out.push_back(std::move(r)); });
    return out;
  }

  void get_each(const std::vector<std::string>& paths, const std::function<Watcher(const std::string&)>& watch_for,
                const std::function<void(std::size_t, Result<Node>)>& each) override {
    auto handle = current();
    if (!handle) {
      for (std::size_t i = 0; i < paths.size(); ++i) each(i, no_handle("get", paths[i]));
      return;
    }
    // zoo_awget answers with the whole node (no buffer size to guess); the
    // completions run on the library's completion thread.
    struct Batch {
      std::mutex mu;
      std::condition_variable cv;
      std::vector<char> answered;
      std::vector<int> rc;
      std::vector<std::string> data;
      std::vector<::Stat> stat;
    };
    struct Slot {
      Batch* batch;
      std::size_t index;
    };
    Batch batch;
    batch.answered.assign(paths.size(), 0);
    batch.rc.assign(paths.size(), ZOK);
    batch.data.resize(paths.size());
    batch.stat.resize(paths.size());
    std::vector<Slot> slots(paths.size());
    std::vector<std::uint64_t> ids(paths.size(), 0);
    auto completion = [](int rc, const char* value, int length, const ::Stat* stat, const void* data) {
      const auto* slot = static_cast<const Slot*>(data);
      Batch& b = *slot->batch;
      // Notified under the lock: once the last answer is seen the caller
      // returns and the batch (this condition variable) is gone.
      std::lock_guard lock(b.mu);
      b.rc[slot->index] = rc;
      if (rc == ZOK) {
        if (value && length > 0) b.data[slot->index].assign(value, static_cast<std::size_t>(length));
        if (stat) b.stat[slot->index] = *stat;
      }
      b.answered[slot->index] = 1;
      b.cv.notify_all();
    };
    for (std::size_t i = 0; i < paths.size(); ++i) {
      Watcher w = watch_for ? watch_for(paths[i]) : Watcher{};
      ids[i] = w ? add_watch(std::move(w), paths[i], handle->context->generation) : 0;
      slots[i] = Slot{&batch, i};
      const int rc = zoo_awget(handle->zh, paths[i].c_str(), ids[i] ? watch_trampoline : nullptr,
                               as_context(ids[i]), completion, &slots[i]);
      if (rc != ZOK) {
        std::lock_guard lock(batch.mu);
        batch.rc[i] = rc;
        batch.answered[i] = 1;
      }
    }
    // Every submitted request completes: answered, or failed by the library
    // on connection loss, session expiry or close.
    for (std::size_t i = 0; i < paths.size(); ++i) {
      int rc;
      std::string data;
      ::Stat stat{};
      {
        std::unique_lock lock(batch.mu);
        batch.cv.wait(lock, [&] { return batch.answered[i] != 0; });
        rc = batch.rc[i];
        data = std::move(batch.data[i]);
        stat = batch.stat[i];
      }
      if (rc != ZOK) {
        drop_watch(ids[i]);
        each(i, error_from(rc, "get", paths[i]));
      } else {
        each(i, Node{std::move(data), to_stat(stat)});
      }
    }
  }

  Result<std::vector<std::string>> children(const std::string& path, Watcher watch) override {
    auto handle = current();
    if (!handle) return no_handle("children", path);
    const auto id = watch ? add_watch(std::move(watch), path, handle->context->generation) : 0;
    String_vector strings{};
    ::Stat stat{};
    const int rc = zoo_wget_children2(handle->zh, path.c_str(), id ? watch_trampoline : nullptr,
                                      as_context(id), &strings, &stat);
    if (rc != ZOK) {
      drop_watch(id);
      return error_from(rc, "children", path);
    }
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(strings.count));
    for (int i = 0; i < strings.count; ++i) out.emplace_back(strings.data[i]);
    deallocate_String_vector(&strings);
    return out;
  }

  Result<std::optional<Stat>> exists(const std::string& path, Watcher watch) override {
    auto handle = current();
    if (!handle) return no_handle("exists", path);
    const auto id = watch ? add_watch(std::move(watch), path, handle->context->generation) : 0;
    ::Stat stat{};
    const int rc = zoo_wexists(handle->zh, path.c_str(), id ? watch_trampoline : nullptr, as_context(id), &stat);
    if (rc == ZOK) return std::optional<Stat>(to_stat(stat));
    if (rc == ZNONODE) return std::optional<Stat>();
    drop_watch(id);
    return error_from(rc, "exists", path);
  }

  Result<std::string> create(const std::string& path, const std::string& data, CreateMode mode) override {
    auto handle = current();
    if (!handle) return no_handle("create", path);
    std::string created(path.size() + 64, '\0');
    const int rc = zoo_create(handle->zh, path.c_str(), data.data(), static_cast<int>(data.size()), acl(),
                              mode_flags(mode), created.data(), static_cast<int>(created.size()));
    if (rc != ZOK) return error_from(rc, "create", path);
    created.resize(std::strlen(created.c_str()));
    return created;
  }

  Result<Stat> set(const std::string& path, const std::string& data, std::int32_t version) override {
    auto handle = current();
    if (!handle) return no_handle("set", path);
    ::Stat stat{};
    const int rc = zoo_set2(handle->zh, path.c_str(), data.data(), static_cast<int>(data.size()), version, &stat);
    if (rc != ZOK) return error_from(rc, "set", path);
    return to_stat(stat);
  }

  Result<void> remove(const std::string& path, std::int32_t version) override {
    auto handle = current();
    if (!handle) return no_handle("remove", path);
    const int rc = zoo_delete(handle->zh, path.c_str(), version);
    if (rc != ZOK) return error_from(rc, "remove", path);
    return {};
  }

  // The C form of a multi: the library writes results, created paths and
  // stats into these buffers when the answer comes, so they live as long as
  // the request.
  struct MultiRequest {
    std::vector<Op> ops;
    std::vector<zoo_op_t> c_ops;
    std::vector<zoo_op_result_t> results;
    std::vector<std::string> created;
    std::vector<::Stat> stats;
    std::vector<std::string> descriptions;
    std::function<void(Result<void>)> done;  // async only
    RealZkClient* client = nullptr;

    MultiRequest(std::vector<Op> o, const ACL_vector* acl)
        : ops(std::move(o)), c_ops(ops.size()), results(ops.size()), created(ops.size()), stats(ops.size()),
          descriptions(ops.size()) {
      for (std::size_t i = 0; i < ops.size(); ++i) {
        std::visit(
            [&](const auto& op) {
              using T = std::decay_t<decltype(op)>;
              if constexpr (std::is_same_v<T, CreateOp>) {
                created[i].assign(op.path.size() + 64, '\0');
                zoo_create_op_init(&c_ops[i], op.path.c_str(), op.data.data(), static_cast<int>(op.data.size()),
                                   acl, mode_flags(op.mode), created[i].data(), static_cast<int>(created[i].size()));
                descriptions[i] = "create '" + op.path + "'";
              } else if constexpr (std::is_same_v<T, SetOp>) {
                zoo_set_op_init(&c_ops[i], op.path.c_str(), op.data.data(), static_cast<int>(op.data.size()),
                                op.version, &stats[i]);
                descriptions[i] = "set '" + op.path + "'";
              } else if constexpr (std::is_same_v<T, DeleteOp>) {
                zoo_delete_op_init(&c_ops[i], op.path.c_str(), op.version);
                descriptions[i] = "remove '" + op.path + "'";
              } else {
                zoo_check_op_init(&c_ops[i], op.path.c_str(), op.version);
                descriptions[i] = "check '" + op.path + "'";
              }
            },
            ops[i]);
      }
    }

    Result<void> outcome(int rc) const {
      if (rc == ZOK) return {};
      for (std::size_t i = 0; i < ops.size(); ++i) {
        const int err = results[i].err;
        if (err != ZOK && err != ZRUNTIMEINCONSISTENCY) {
          return zk_error(kind_of(err),
                          "multi: op " + std::to_string(i) + " (" + descriptions[i] + ") failed: " + describe(err) +
                              "; nothing was applied",
                          err);
        }
      }
      return zk_error(kind_of(rc), "multi of " + std::to_string(ops.size()) + " ops failed: " + describe(rc), rc);
    }
  };

  Result<void> multi(const std::vector<Op>& ops) override {
    if (ops.empty()) return {};
    auto handle = current();
    if (!handle) return no_handle("multi", "");
    MultiRequest req(ops, acl());
    const int rc = zoo_multi(handle->zh, static_cast<int>(req.ops.size()), req.c_ops.data(), req.results.data());
    return req.outcome(rc);
  }

  void multi_async(std::vector<Op> ops, std::function<void(Result<void>)> done) override {
    if (ops.empty()) {
      options_.dispatch([done = std::move(done)] { done({}); });
      return;
    }
    auto handle = current();
    if (!handle) {
      auto error = no_handle("multi", "");
      options_.dispatch([done = std::move(done), error] { done(error); });
      return;
    }
    auto req = std::make_unique<MultiRequest>(std::move(ops), acl());
    req->done = std::move(done);
    req->client = this;
    // Completion thread: hand the outcome to the dispatcher, never block here.
    auto completion = [](int rc, const void* data) {
      std::unique_ptr<MultiRequest> r(static_cast<MultiRequest*>(const_cast<void*>(data)));
      auto result = r->outcome(rc);
      RealZkClient* client = r->client;
      client->options_.dispatch([done = std::move(r->done), result = std::move(result)] { done(result); });
      {
        std::lock_guard lock(client->mu_);
        --client->async_in_flight_;
      }
      client->cv_.notify_all();
    };
    {
      std::lock_guard lock(mu_);
      ++async_in_flight_;
    }
    const int rc = zoo_amulti(handle->zh, static_cast<int>(req->ops.size()), req->c_ops.data(), req->results.data(),
                              completion, req.get());
    if (rc != ZOK) {
      {
        std::lock_guard lock(mu_);
        --async_in_flight_;
      }
      auto error = req->outcome(rc);
      options_.dispatch([done = std::move(req->done), error] { done(error); });
      return;
    }
    req.release();  // owned by the completion now
  }

  Result<void> ensure_path(const std::string& path) override {
    if (path.empty() || path.front() != '/') {
      return zk_error(ErrorKind::invalid, "ensure_path '" + path + "': a path must start with '/'", ZBADARGUMENTS);
    }
    if (path == "/") return {};
    auto present = exists(path, {});
    if (!present) return present.error();
    if (*present) return {};
    std::size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      const std::string prefix = path.substr(0, pos);
      auto made = create(prefix, "", CreateMode::persistent);
      if (!made && made.error().code != ZNODEEXISTS) return made.error();
    }
    return {};
  }

  Result<void> remove_recursive(const std::string& path) override {
    if (path == "/" || path.empty()) {
      return zk_error(ErrorKind::invalid, "remove_recursive '" + path + "': refusing to remove the root",
                      ZBADARGUMENTS);
    }
    // Someone may add children while we delete; try a few rounds.
    for (int round = 0; round < 10; ++round) {
      auto kids = children(path, {});
      if (!kids) return kids.error().kind == ErrorKind::not_found ? Result<void>() : kids.error();
      for (const auto& kid : *kids) {
        auto removed = remove_recursive(path + "/" + kid);
        if (!removed) return removed;
      }
      auto removed = remove(path, -1);
      if (removed || removed.error().kind == ErrorKind::not_found) return {};
      if (removed.error().code != ZNOTEMPTY) return removed;
    }
    return zk_error(ErrorKind::conflict, "remove_recursive '" + path + "': children keep appearing", ZNOTEMPTY);
  }

  SessionState state() const override {
    std::lock_guard lock(mu_);
    return state_;
  }

  std::int64_t session_id() const override {
    std::lock_guard lock(mu_);
    return session_id_;
  }

  void set_session_listener(SessionListener listener) override {
    std::lock_guard lock(mu_);
    listener_ = std::move(listener);
  }

  Result<void> expire_session() {
    auto handle = current();
    if (!handle) return zk_error(ErrorKind::unavailable, "expire_session: no session");
    const clientid_t id = *zoo_client_id(handle->zh);
    zhandle_t* other = zookeeper_init2(options_.connect.c_str(), ignore_session_event,
                                       static_cast<int>(options_.session_timeout.count()), &id, nullptr, 0,
                                       log_from_library);
    if (!other) return zk_error(ErrorKind::invalid, "expire_session: cannot open a second handle");
    const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
    while (zoo_state(other) != ZOO_CONNECTED_STATE && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    const bool connected = zoo_state(other) == ZOO_CONNECTED_STATE;
    zookeeper_close(other);
    if (!connected) return zk_error(ErrorKind::unavailable, "expire_session: second handle did not connect");
    return {};
  }

  // Completion thread: session state changes of handle `generation`.
  void on_session_event(std::uint64_t generation, zhandle_t* zh, int state) {
    SessionState next;
    if (state == ZOO_CONNECTED_STATE) {
      next = SessionState::connected;
    } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
      next = SessionState::connecting;
    } else if (state == ZOO_EXPIRED_SESSION_STATE) {
      next = SessionState::expired;
    } else if (state == ZOO_AUTH_FAILED_STATE) {
      next = SessionState::auth_failed;
    } else {
      return;
    }
    std::unique_lock lock(mu_);
    if (stopping_ || generation != generation_ || next == state_) return;
    state_ = next;
    if (next == SessionState::connected) session_id_ = zoo_client_id(zh)->client_id;
    if (listener_) options_.dispatch([listener = listener_, next] { listener(next); });
    if (next == SessionState::expired) {
      // These watches will never fire: tell their owners to re-read.
      for (auto it = watches_.begin(); it != watches_.end();) {
        if (it->second.generation != generation) {
          ++it;
          continue;
        }
        options_.dispatch([w = std::move(it->second.watcher), p = std::move(it->second.path)] {
          w(WatchEventType::session_lost, p);
        });
        it = watches_.erase(it);
      }
      renew_requested_ = true;
      log::warn("zookeeper_session_expired", {{"connect", options_.connect}});
    }
    lock.unlock();
    cv_.notify_all();
  }

  // Completion thread: a watch of handle `generation` fired.
  void on_watch_event(std::uint64_t id, int type) {
    if (type == ZOO_SESSION_EVENT) return;  // session changes arrive via on_session_event
    WatchEventType event;
    if (type == ZOO_CREATED_EVENT) {
      event = WatchEventType::created;
    } else if (type == ZOO_DELETED_EVENT) {
      event = WatchEventType::deleted;
    } else if (type == ZOO_CHANGED_EVENT) {
      event = WatchEventType::changed;
    } else if (type == ZOO_CHILD_EVENT) {
      event = WatchEventType::child;
    } else {
      event = WatchEventType::session_lost;  // ZOO_NOTWATCHING_EVENT: the watch was removed
    }
    std::lock_guard lock(mu_);
    if (stopping_) return;
    auto it = watches_.find(id);
    if (it == watches_.end()) return;
    options_.dispatch([w = std::move(it->second.watcher), p = std::move(it->second.path), event] { w(event, p); });
    watches_.erase(it);
  }

 private:
  static void* as_context(std::uint64_t id) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)); }

  // Caller holds mu_. zookeeper_init2 starts the library's threads and
  // returns without waiting for callbacks, so holding mu_ here is safe.
  std::shared_ptr<Handle> open_handle(std::uint64_t generation, const clientid_t* id) {
    set_up_library_logging();
    auto handle = std::make_shared<Handle>();
    handle->context = std::make_unique<HandleContext>(HandleContext{this, generation});
    handle->zh = zookeeper_init2(options_.connect.c_str(), session_event_trampoline,
                                 static_cast<int>(options_.session_timeout.count()), id, handle->context.get(), 0,
                                 log_from_library);
    if (!handle->zh) return nullptr;
    // By default the library resolves the server list again on every turn of
    // its I/O loop (getaddrinfo: a netlink socket, /etc/hosts, /dev/urandom),
    // which adds a resolver round to every request under load. Once a minute
    // follows DNS changes well enough; a lost connection still re-resolves.
    zoo_set_servers_resolution_delay(handle->zh, kResolutionDelayMs);
    if (!options_.digest.empty()) {
      zoo_add_auth(handle->zh, "digest", options_.digest.data(), static_cast<int>(options_.digest.size()),
                   ignore_auth_completion, nullptr);
    }
    return handle;
  }

  std::shared_ptr<Handle> current() const {
    std::lock_guard lock(mu_);
    return handle_;
  }

  Error no_handle(std::string_view op, std::string_view path) const {
    std::lock_guard lock(mu_);
    const std::string what = std::string(op) + " '" + std::string(path) + "': ";
    if (stopping_) return zk_error(ErrorKind::cancelled, what + "client is closing");
    return zk_error(ErrorKind::session_expired, what + "session expired, opening a new one", ZSESSIONEXPIRED);
  }

  std::uint64_t add_watch(Watcher watcher, const std::string& path, std::uint64_t generation) {
    std::lock_guard lock(mu_);
    const auto id = next_watch_id_++;
    watches_.emplace(id, WatchEntry{generation, path, std::move(watcher)});
    return id;
  }

  // For watches the library did not take (the call failed).
  void drop_watch(std::uint64_t id) {
    if (id == 0) return;
    std::lock_guard lock(mu_);
    watches_.erase(id);
  }

  // Without credentials: open. With credentials only: the creator's
  // (ZOO_CREATOR_ALL_ACL). With an ACL list too: the creator's digest and the
  // list (creator_acl), so other identities the operator names get access.
  const ACL_vector* acl() const {
    if (options_.digest.empty()) return &ZOO_OPEN_ACL_UNSAFE;
    if (!acl_storage_.empty()) return &acl_vector_;
    return &ZOO_CREATOR_ALL_ACL;
  }

  // Session thread: after the server expired the session, close the dead
  // handle and open a new session (digest auth is added again).
  void renew_sessions() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || renew_requested_; });
      if (stopping_) return;
      renew_requested_ = false;
      const auto generation = ++generation_;  // callbacks of the old handle are ignored from now on
      auto old = std::move(handle_);
      lock.unlock();
      old.reset();  // closes it unless a call still holds it; that call closes it then
      lock.lock();
      if (stopping_) return;
      handle_ = open_handle(generation, nullptr);
      if (!handle_) {
        log::error("zookeeper_reconnect_failed", {{"connect", options_.connect}, {"error", std::strerror(errno)}});
        renew_requested_ = true;
        cv_.wait_for(lock, std::chrono::seconds{1}, [this] { return stopping_; });
        continue;
      }
      state_ = SessionState::connecting;
    }
  }

  ZkOptions options_;
  std::vector<AclEntry> acl_entries_;
  std::vector<::ACL> acl_storage_;
  ACL_vector acl_vector_{0, nullptr};
  std::unique_ptr<SerialDispatcher> dispatcher_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Handle> handle_;
  std::uint64_t generation_ = 0;
  SessionState state_ = SessionState::connecting;
  std::int64_t session_id_ = 0;
  bool renew_requested_ = false;
  bool stopping_ = false;
  SessionListener listener_;
  std::uint64_t next_watch_id_ = 1;
  std::map<std::uint64_t, WatchEntry> watches_;
  int async_in_flight_ = 0;  // multi_async requests sent, not answered (under mu_)
  std::thread session_thread_;
};

void session_event_trampoline(zhandle_t* zh, int type, int state, const char*, void*) {
  if (type != ZOO_SESSION_EVENT) return;
  const auto* context = static_cast<const HandleContext*>(zoo_get_context(zh));
  if (context) context->client->on_session_event(context->generation, zh, state);
}

void watch_trampoline(zhandle_t* zh, int type, int, const char*, void* ctx) {
  const auto* context = static_cast<const HandleContext*>(zoo_get_context(zh));
  if (context) context->client->on_watch_event(reinterpret_cast<std::uintptr_t>(ctx), type);
}

}  // namespace

std::vector<Result<Node>> ZkClient::get_many(const std::vector<std::string>& paths,
                                             const std::function<Watcher(const std::string&)>& watch_for) {
  std::vector<Result<Node>> out;
  out.reserve(paths.size());
  get_each(paths, watch_for, [&](std::size_t, Result<Node> r) { out.push_back(std::move(r)); });
  return out;
}

void ZkClient::get_each(const std::vector<std::string>& paths,
                        const std::function<Watcher(const std::string&)>& watch_for,
                        const std::function<void(std::size_t, Result<Node>)>& each) {
  for (std::size_t i = 0; i < paths.size(); ++i) each(i, get(paths[i], watch_for ? watch_for(paths[i]) : Watcher{}));
}

void ZkClient::multi_async(std::vector<Op> ops, std::function<void(Result<void>)> done) { done(multi(ops)); }

Result<std::unique_ptr<ZkClient>> connect(const ZkOptions& options) {
  if (options.connect.empty()) {
    return zk_error(ErrorKind::invalid, "ZooKeeper connect string is empty (expected host:port[,host:port][/chroot])");
  }
  if (!options.digest.empty()) {
    const auto colon = options.digest.find(':');
    if (colon == std::string::npos || colon == 0) {
      return zk_error(ErrorKind::invalid, "ZooKeeper digest credentials must be 'user:password'");
    }
  }
  if (!options.acl.empty() && options.digest.empty()) {
    return zk_error(ErrorKind::invalid,
                    "a ZooKeeper ACL list (" + to_string(options.acl) +
                        ") needs digest credentials: the creator must keep access to what it creates");
  }
  if (options.session_timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    return zk_error(ErrorKind::invalid, "ZooKeeper session and connect timeouts must be positive");
  }
  auto client = std::make_unique<RealZkClient>(options);
  auto started = client->start();
  if (!started) return started.error();
  return std::unique_ptr<ZkClient>(std::move(client));
}

Result<void> expire_session_for_testing(ZkClient& client) {
  auto* real = dynamic_cast<RealZkClient*>(&client);
  if (!real) return zk_error(ErrorKind::invalid, "expire_session_for_testing needs a client made by hmc::zk::connect");
  return real->expire_session();
}

}  // namespace hmc::zk
