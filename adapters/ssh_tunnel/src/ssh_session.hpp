#pragma once
// One authenticated SSH session (libssh2) over one TCP socket. Private to
// hmc_ssh_tunnel. Not thread-safe: the tunnel's thread owns it.

#include "hmc/ssh_tunnel/zk_tunnel.hpp"

#include <libssh2.h>

#include <memory>
#include <string>

namespace hmc::ssh::detail {

struct HostSpec {
  std::string user;
  std::string host;
  int port = 22;
};
// "user@host[:port]", "[v6addr]:port". Errors: invalid.
Result<HostSpec> parse_host_spec(const std::string& text);
std::string to_string(const HostSpec& h);  // user@host:port

// A TCP connection to host:port within `timeout`; returns the connected
// (non-blocking) socket or -1, with the reason in `why`.
int tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout, std::string* why);

class SshSession {
 public:
  // Connects, checks the host key, authenticates, and leaves the session in
  // non-blocking mode. Errors: unavailable (network, handshake),
  // unauthorized (host key, authentication).
  static Result<std::unique_ptr<SshSession>> connect(const TunnelOptions& options, const HostSpec& host);
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  LIBSSH2_SESSION* raw() const { return session_; }
  int socket() const { return fd_; }

  // Opens a direct-tcpip channel to host:port, waiting up to the session
  // timeout. On failure returns null and sets `session_broken` when the
  // session itself failed (as opposed to the server refusing the target).
  LIBSSH2_CHANNEL* open_channel(const std::string& host, int port, std::string* why, bool* session_broken);

  // True when libssh2 waits to write to the socket.
  bool wants_write() const;
  // The last libssh2 error as text.
  std::string last_error() const;

 private:
  SshSession() = default;
  int fd_ = -1;
  LIBSSH2_SESSION* session_ = nullptr;
  std::chrono::milliseconds timeout_{10000};
};

// libssh2 error codes that mean the session is gone rather than one channel.
bool is_session_error(int rc);

}  // namespace hmc::ssh::detail
