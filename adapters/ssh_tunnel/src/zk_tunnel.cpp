#include "hmc/ssh_tunnel/zk_tunnel.hpp"

#include "ssh_session.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

namespace hmc::ssh {

namespace {

using Clock = std::chrono::steady_clock;
using detail::SshSession;

Error tunnel_error(ErrorKind kind, std::string message) {
  return make_error(ErrorSource::ssh, kind, std::move(message));
}

std::string endpoint_text(const Endpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

// A local listener on 127.0.0.1:<ephemeral> for one tunnelled endpoint.
int listen_loopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

constexpr std::size_t kBufferSize = 32 * 1024;

}  // namespace

Result<ZkConnectionString> parse_connection_string(const std::string& text) {
  ZkConnectionString out;
  std::string hosts = text;
  if (const auto slash = text.find('/'); slash != std::string::npos) {
    hosts = text.substr(0, slash);
    out.chroot = text.substr(slash);
    if (out.chroot == "/") out.chroot.clear();
  }
  std::size_t start = 0;
  while (start <= hosts.size()) {
    const auto comma = hosts.find(',', start);
    std::string part = hosts.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? hosts.size() + 1 : comma + 1;
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (part.empty()) {
      return tunnel_error(ErrorKind::invalid, "ZooKeeper connection string '" + text + "': empty host");
    }
    Endpoint e;
    std::string port;
    if (part[0] == '[') {
      const auto close = part.find(']');
      if (close == std::string::npos || close + 1 >= part.size() || part[close + 1] != ':') {
        return tunnel_error(ErrorKind::invalid, "ZooKeeper connection string '" + text + "': bad endpoint '" + part + "'");
      }
      e.host = part.substr(1, close - 1);
      port = part.substr(close + 2);
    } else {
      const auto colon = part.rfind(':');
      e.host = colon == std::string::npos ? part : part.substr(0, colon);
      port = colon == std::string::npos ? "2181" : part.substr(colon + 1);
    }
    if (e.host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return tunnel_error(ErrorKind::invalid,
                          "ZooKeeper connection string '" + text + "': bad endpoint '" + part + "' (expected host:port)");
    }
    e.port = std::stoi(port);
    out.endpoints.push_back(std::move(e));
  }
  return out;
}

std::string to_string(const ZkConnectionString& c) {
  std::string out;
  for (const auto& e : c.endpoints) out += (out.empty() ? "" : ",") + endpoint_text(e);
  return out + c.chroot;
}

bool tcp_reachable(const std::string& host, int port, std::chrono::milliseconds timeout) {
  const int fd = detail::tcp_connect(host, port, timeout, nullptr);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// The tunnel's state. Everything below `thread` is touched only by the
// tunnel's thread once it runs; stats are atomics.
struct ZkTunnel::Impl {
  struct Listener {
    Endpoint target;
    int fd = -1;
    int port = 0;
  };
  // One accepted local connection and its channel.
  struct Forward {
    int fd = -1;
    LIBSSH2_CHANNEL* channel = nullptr;
    std::string to_local;    // read from the channel, not yet sent locally
    std::string to_channel;  // read locally, not yet written to the channel
    bool local_eof = false;    // the local side will send no more
    bool eof_sent = false;     // ... and the channel was told so
    bool channel_eof = false;  // the remote side will send no more
    bool failed = false;       // an error on either side: close at once
    bool local_shut = false;   // channel EOF passed on with shutdown(SHUT_WR)
    bool finished() const {
      return failed || (local_eof && eof_sent && channel_eof && to_local.empty());
    }
  };

  TunnelOptions options;
  detail::HostSpec host;
  std::string connection_string;
  std::vector<std::string> tunnelled;
  std::vector<Listener> listeners;
  std::unique_ptr<SshSession> session;
  std::list<Forward> forwards;
  std::list<LIBSSH2_CHANNEL*> closing;  // channels being freed (non-blocking)
  Clock::time_point next_reconnect{};
  std::chrono::milliseconds reconnect_backoff{0};
  Clock::time_point next_keepalive{};
  // An idle session with unread bytes (a global request from the server):
  // libssh2 reads them with the next channel; until then the socket is not
  // watched for reading, or poll() would return at once forever.
  bool idle_data_pending = false;
  // libssh2 sends one packet at a time per session: when a call returns
  // EAGAIN with its packet half sent, that same call must be repeated before
  // any other call may send (else LIBSSH2_ERROR_BAD_USE). `pending` names it.
  enum class Op { write, read, send_eof, free, keepalive };
  struct PendingCall {
    const void* object = nullptr;
    Op op = Op::write;
  };
  std::optional<PendingCall> pending;
  int wake[2] = {-1, -1};
  std::atomic<bool> stop{false};
  std::thread thread;

  std::atomic<std::uint64_t> sessions_opened{0}, channels_opened{0}, channels_active{0}, drops{0};

  ~Impl() {
    if (thread.joinable()) {
      stop = true;
      const char c = 0;
      (void)!::write(wake[1], &c, 1);
      thread.join();
    }
    // Channels are freed with the session.
    for (auto& f : forwards) {
      if (f.fd >= 0) ::close(f.fd);
    }
    session.reset();
    for (auto& l : listeners) if (l.fd >= 0) ::close(l.fd);
    for (int fd : wake) if (fd >= 0) ::close(fd);
  }

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  Result<void> connect_session() {
    auto s = SshSession::connect(options, host);
    if (!s) return s.error();
    session = std::move(*s);
    ++sessions_opened;
    reconnect_backoff = std::chrono::milliseconds{0};
    pending.reset();
    next_keepalive = Clock::now();
    return {};
  }

  // The session is gone: every forwarded connection ends (the ZooKeeper
  // client reconnects to the same local port and gets a new session).
  void drop_session(const std::string& why) {
    if (!session) return;
    ++drops;
    log("SSH session to " + detail::to_string(host) + " lost (" + why + "); reconnecting");
    for (auto& f : forwards) {
      if (f.fd >= 0) ::close(f.fd);
      --channels_active;
    }
    forwards.clear();
    closing.clear();  // freed with the session
    pending.reset();
    session.reset();
    next_reconnect = Clock::now();
  }

  void try_reconnect() {
    if (session || Clock::now() < next_reconnect) return;
    auto r = connect_session();
    if (r) {
      log("SSH session to " + detail::to_string(host) + " reopened");
      return;
    }
    reconnect_backoff = std::min<std::chrono::milliseconds>(
        std::chrono::seconds{30},
        std::max(options.retry_interval, reconnect_backoff * 2));
    next_reconnect = Clock::now() + reconnect_backoff;
    log("SSH reconnect to " + detail::to_string(host) + " failed: " + r.error().message);
  }

  void accept_on(Listener& l) {
    while (true) {
      const int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (!session) {
        next_reconnect = std::min(next_reconnect, Clock::now());
        try_reconnect();
      }
      LIBSSH2_CHANNEL* ch = nullptr;
      for (int attempt = 0; session && !ch && attempt < 2; ++attempt) {
        std::string why;
        bool broken = false;
        ch = session->open_channel(l.target.host, l.target.port, &why, &broken);
        if (ch) break;
        if (!broken) {
          log("tunnel to " + endpoint_text(l.target) + " refused by " + detail::to_string(host) + ": " + why);
          break;
        }
        drop_session(why);
        try_reconnect();
      }
      if (!ch) {
        ::close(fd);
        continue;
      }
      Forward f;
      f.fd = fd;
      f.channel = ch;
      forwards.push_back(std::move(f));
      ++channels_opened;
      ++channels_active;
    }
  }

  // Runs a libssh2 call that may send, unless another call's packet is half
  // sent. Returns nullopt when it may not run now.
  template <class Call>
  std::optional<long long> guarded(const void* object, Op op, Call call) {
    if (pending && (pending->object != object || pending->op != op)) return std::nullopt;
    const long long rc = call();
    if (rc == LIBSSH2_ERROR_EAGAIN && session->wants_write()) {
      pending = PendingCall{object, op};
    } else if (pending) {
      pending.reset();
    }
    return rc;
  }

  bool blocks_pending(const Forward& f) const { return pending && pending->object == &f; }

  // Moves bytes both ways; half-closes are passed on. Returns false if the
  // session broke.
  bool pump(Forward& f, bool* progress) {
    char buf[kBufferSize];
    // local -> channel
    if (f.to_channel.empty() && !f.local_eof && !f.failed) {
      const ssize_t n = ::recv(f.fd, buf, sizeof buf, 0);
      if (n > 0) {
        f.to_channel.assign(buf, static_cast<std::size_t>(n));
        *progress = true;
      } else if (n == 0) {
        f.local_eof = true;
        *progress = true;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        f.failed = true;
      }
    }
    while (!f.to_channel.empty() && (!f.failed || blocks_pending(f))) {
      auto n = guarded(&f, Op::write, [&] {
        return static_cast<long long>(libssh2_channel_write(f.channel, f.to_channel.data(), f.to_channel.size()));
      });
      if (!n || *n == LIBSSH2_ERROR_EAGAIN) break;
      if (*n < 0) {
        f.failed = true;
        f.to_channel.clear();
        log("forwarded connection failed writing to the channel: " + session->last_error());
        if (detail::is_session_error(static_cast<int>(*n))) return false;
        break;
      }
      f.to_channel.erase(0, static_cast<std::size_t>(*n));
      *progress = true;
    }
    if (f.local_eof && !f.eof_sent && f.to_channel.empty() && !f.failed) {
      auto rc = guarded(&f, Op::send_eof, [&] { return static_cast<long long>(libssh2_channel_send_eof(f.channel)); });
      if (rc && *rc == 0) {
        f.eof_sent = true;
        *progress = true;
      } else if (rc && *rc != LIBSSH2_ERROR_EAGAIN) {
        f.failed = true;
        if (detail::is_session_error(static_cast<int>(*rc))) return false;
      }
    }
    // channel -> local
    if ((f.to_local.empty() && !f.channel_eof && !f.failed) || (pending && pending->object == &f && pending->op == Op::read)) {
      auto n = guarded(&f, Op::read, [&] {
        return static_cast<long long>(libssh2_channel_read(f.channel, buf, sizeof buf));
      });
      if (n && *n > 0) {
        f.to_local.append(buf, static_cast<std::size_t>(*n));
        *progress = true;
      } else if (n && *n == 0 && libssh2_channel_eof(f.channel)) {
        f.channel_eof = true;
        *progress = true;
      } else if (n && *n < 0 && *n != LIBSSH2_ERROR_EAGAIN) {
        f.failed = true;
        log("forwarded connection failed reading from the channel: " + session->last_error());
        if (detail::is_session_error(static_cast<int>(*n))) return false;
      }
    }
    while (!f.to_local.empty() && !f.failed) {
      const ssize_t n = ::send(f.fd, f.to_local.data(), f.to_local.size(), MSG_NOSIGNAL);
      if (n > 0) {
        f.to_local.erase(0, static_cast<std::size_t>(n));
        *progress = true;
      } else {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) f.failed = true;
        break;
      }
    }
    if (f.channel_eof && f.to_local.empty() && !f.failed && !f.local_shut) {
      // The remote side is done; tell the local client, keep reading from it.
      ::shutdown(f.fd, SHUT_WR);
      f.local_shut = true;
    }
    return true;
  }

  void run() {
    std::vector<pollfd> fds;
    while (!stop) {
      try_reconnect();
      // Move data until nothing moves, then wait for the sockets.
      if (session) {
        bool progress = true;
        for (int rounds = 0; progress && rounds < 64 && session; ++rounds) {
          progress = false;
          for (auto it = forwards.begin(); session && it != forwards.end();) {
            if (!pump(*it, &progress)) {
              drop_session(session->last_error());
              break;
            }
            if (it->finished() && !blocks_pending(*it)) {
              ::close(it->fd);
              closing.push_back(it->channel);
              --channels_active;
              it = forwards.erase(it);
            } else {
              ++it;
            }
          }
        }
        for (auto it = closing.begin(); session && it != closing.end();) {
          LIBSSH2_CHANNEL* ch = *it;
          auto rc = guarded(ch, Op::free, [&] { return static_cast<long long>(libssh2_channel_free(ch)); });
          if (!rc || *rc == LIBSSH2_ERROR_EAGAIN) {
            ++it;
          } else {
            it = closing.erase(it);
          }
        }
        if (session && Clock::now() >= next_keepalive) {
          int next = 0;
          auto rc = guarded(nullptr, Op::keepalive, [&] {
            return static_cast<long long>(libssh2_keepalive_send(session->raw(), &next));
          });
          if (rc && *rc != 0 && *rc != LIBSSH2_ERROR_EAGAIN) {
            drop_session("keepalive failed: " + session->last_error());
          } else if (rc && *rc == 0) {
            next_keepalive = Clock::now() + std::chrono::seconds(std::max(next, 1));
            idle_data_pending = false;
          }
        }
      }

      fds.clear();
      fds.push_back({wake[0], POLLIN, 0});
      for (auto& l : listeners) fds.push_back({l.fd, POLLIN, 0});
      bool want_session_read = !closing.empty();
      for (auto& f : forwards) {
        short ev = 0;
        if (f.to_channel.empty() && !f.local_eof) ev |= POLLIN;
        if (!f.to_local.empty()) ev |= POLLOUT;
        fds.push_back({f.fd, ev, 0});
        if (f.to_local.empty() && !f.channel_eof) want_session_read = true;
        if (!f.to_channel.empty() || (f.local_eof && !f.eof_sent)) want_session_read = true;  // window adjust
      }
      const std::size_t session_index = fds.size();
      const bool idle = forwards.empty() && closing.empty();
      if (!idle) idle_data_pending = false;
      if (session) {
        short ev = 0;
        if (want_session_read || (idle && !idle_data_pending)) ev |= POLLIN;
        if (session->wants_write()) ev |= POLLOUT;
        fds.push_back({session->socket(), ev, 0});
      }
      ::poll(fds.data(), fds.size(), 200);
      if (fds[0].revents & POLLIN) {
        char drain[16];
        (void)!::read(wake[0], drain, sizeof drain);
      }
      if (stop) break;
      // An idle session that the server closed (restart, crash) is noticed here.
      if (session && idle && session_index < fds.size() &&
          (fds[session_index].revents & (POLLIN | POLLHUP | POLLERR))) {
        char peek;
        const ssize_t n = ::recv(session->socket(), &peek, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          drop_session("the server closed the connection");
        } else if (n > 0) {
          idle_data_pending = true;
        }
      }
      // Opening a channel sends: not while another packet is half sent
      // (the connection waits in the listen backlog meanwhile).
      for (std::size_t i = 0; i < listeners.size() && !pending; ++i) {
        if (fds[1 + i].revents & POLLIN) accept_on(listeners[i]);
      }
    }
  }
};

ZkTunnel::ZkTunnel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZkTunnel::~ZkTunnel() = default;

std::string ZkTunnel::connection_string() const { return impl_->connection_string; }
std::vector<std::string> ZkTunnel::tunnelled_endpoints() const { return impl_->tunnelled; }

TunnelStats ZkTunnel::stats() const {
  TunnelStats s;
  s.sessions_opened = impl_->sessions_opened;
  s.channels_opened = impl_->channels_opened;
  s.channels_active = impl_->channels_active;
  s.drops = impl_->drops;
  return s;
}

Result<std::unique_ptr<ZkTunnel>> ZkTunnel::open(const TunnelOptions& options, const std::string& connection_string) {
  auto parsed = parse_connection_string(connection_string);
  if (!parsed) return parsed.error();
  auto host = detail::parse_host_spec(options.host);
  if (!host) return host.error();

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->host = *host;

  // Direct first, as Heron does: retry count x interval per endpoint.
  ZkConnectionString result;
  result.chroot = parsed->chroot;
  std::vector<Endpoint> unreachable;
  for (const auto& e : parsed->endpoints) {
    bool direct = false;
    for (int attempt = 0; attempt <= options.connection_retry_count && !direct; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(options.retry_interval);
      direct = tcp_reachable(e.host, e.port, options.connection_timeout);
    }
    if (direct) {
      result.endpoints.push_back(e);
    } else {
      unreachable.push_back(e);
    }
  }

  std::string problems;
  if (!unreachable.empty()) {
    auto connected = impl->connect_session();
    if (!connected) {
      if (result.endpoints.empty()) {
        std::string list;
        for (const auto& e : unreachable) list += (list.empty() ? "" : ",") + endpoint_text(e);
        Error err = connected.error();
        err.message = "no ZooKeeper endpoint of '" + connection_string + "' is reachable: " + list +
                      " refused directly, and the tunnel failed: " + err.message;
        return err;
      }
      impl->log("tunnel via " + detail::to_string(impl->host) + " failed (" + connected.error().message +
                "); using only the directly reachable endpoints");
    } else {
      for (const auto& e : unreachable) {
        bool verified = false;
        std::string why;
        for (int attempt = 0; attempt < std::max(1, options.verify_count) && !verified; ++attempt) {
          if (attempt > 0) std::this_thread::sleep_for(options.retry_interval);
          bool broken = false;
          if (!impl->session) {
            if (!impl->connect_session()) continue;
          }
          LIBSSH2_CHANNEL* ch = impl->session->open_channel(e.host, e.port, &why, &broken);
          if (ch) {
            libssh2_session_set_blocking(impl->session->raw(), 1);
            libssh2_channel_free(ch);
            libssh2_session_set_blocking(impl->session->raw(), 0);
            verified = true;
          } else if (broken) {
            impl->session.reset();
          }
        }
        if (!verified) {
          problems += (problems.empty() ? "" : "; ") + endpoint_text(e) + ": " + why;
          impl->log("dropping ZooKeeper endpoint " + endpoint_text(e) + ": not reachable directly nor through " +
                    detail::to_string(impl->host) + " (" + why + ")");
          continue;
        }
        Impl::Listener l;
        l.target = e;
        l.fd = listen_loopback(&l.port);
        if (l.fd < 0) return tunnel_error(ErrorKind::internal, std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno));
        impl->listeners.push_back(l);
        impl->tunnelled.push_back(endpoint_text(e));
        result.endpoints.push_back({"127.0.0.1", l.port});
        impl->log("ZooKeeper endpoint " + endpoint_text(e) + " tunnelled through " + detail::to_string(impl->host) +
                  " at 127.0.0.1:" + std::to_string(l.port));
      }
    }
  }
  if (result.endpoints.empty()) {
    return tunnel_error(ErrorKind::unavailable, "no ZooKeeper endpoint of '" + connection_string +
                                                    "' is reachable directly or through " +
                                                    detail::to_string(impl->host) + ": " + problems);
  }
  impl->connection_string = to_string(result);
  if (!impl->listeners.empty()) {
    if (::pipe2(impl->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
      return tunnel_error(ErrorKind::internal, std::string("pipe: ") + std::strerror(errno));
    }
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->run(); });
  } else {
    impl->session.reset();  // nothing to forward
  }
  return std::unique_ptr<ZkTunnel>(new ZkTunnel(std::move(impl)));
}

}  // namespace hmc::ssh
