#pragma once
// ZooKeeper reached through an SSH tunnel, in process (libssh2), the way
// Heron's state manager does it with `ssh -NL`:
//
//   for each host:port of the connection string, try a direct TCP connect
//   (retry count x interval); if it fails, forward a local port through a
//   direct-tcpip channel on user@host and verify it; drop endpoints that fail;
//   an error if none is left.
//
// One SSH session carries every forwarded connection (one channel per
// accepted local connection). The session is checked against known_hosts,
// authenticated with a key (file, ssh-agent or ~/.ssh/id_*), kept alive, and
// reopened after a drop; the local ports stay the same, so the rewritten
// connection string stays valid for the ZooKeeper client's own reconnects.

#include "hmc/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hmc::ssh {

struct TunnelOptions {
  std::string host;                                    // user@host[:port] (user: $USER, port: 22)
  std::chrono::milliseconds connection_timeout{1000};  // per direct probe
  int connection_retry_count = 2;                      // direct probes after the first
  std::chrono::milliseconds retry_interval{1000};      // between probes and verify attempts
  int verify_count = 10;                               // attempts to reach an endpoint through the tunnel
  std::string key_file;        // private key; "": ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa
  std::string passphrase_file; // first line is the key's passphrase
  bool use_agent = true;
  std::string known_hosts_file;          // "": ~/.ssh/known_hosts
  bool accept_unknown_host_key = false;  // a changed key is refused regardless
  std::chrono::milliseconds keepalive_interval{15000};
  std::chrono::milliseconds ssh_timeout{10000};  // connect, handshake, auth, channel open
  // Progress and problems (tunnel decisions, drops, reconnects). Called from
  // open()'s thread and from the tunnel's thread; must be thread-safe.
  std::function<void(const std::string&)> log;
};

struct Endpoint {
  std::string host;
  int port = 0;
};

// "h1:2181,h2:2182/chroot". Errors: invalid (names the bad part).
struct ZkConnectionString {
  std::vector<Endpoint> endpoints;
  std::string chroot;  // "" or "/path"
};
Result<ZkConnectionString> parse_connection_string(const std::string& text);
std::string to_string(const ZkConnectionString& c);

// True if a TCP connection to host:port succeeds within `timeout`.
bool tcp_reachable(const std::string& host, int port, std::chrono::milliseconds timeout);

struct TunnelStats {
  std::uint64_t sessions_opened = 0;  // SSH sessions established (1 + reconnects)
  std::uint64_t channels_opened = 0;  // forwarded connections so far
  std::uint64_t channels_active = 0;  // forwarded connections now
  std::uint64_t drops = 0;            // sessions found dead
};

class ZkTunnel {
 public:
  // Decides per endpoint (see above) and starts forwarding. Blocks for the
  // probes and the first SSH session. Errors: invalid (bad connection string
  // or tunnel host), unauthorized (host key unknown or changed, key refused),
  // unavailable (no endpoint reachable either way); the message names the
  // endpoints and the tunnel host.
  static Result<std::unique_ptr<ZkTunnel>> open(const TunnelOptions& options,
                                                const std::string& connection_string);
  ~ZkTunnel();  // stops forwarding, closes the session, joins the thread
  ZkTunnel(const ZkTunnel&) = delete;
  ZkTunnel& operator=(const ZkTunnel&) = delete;

  // The connection string to give the ZooKeeper client: direct endpoints as
  // they were, tunnelled ones replaced by 127.0.0.1:<local port>, chroot kept.
  std::string connection_string() const;
  // The original endpoints that go through the tunnel ("host:port").
  std::vector<std::string> tunnelled_endpoints() const;
  TunnelStats stats() const;

  struct Impl;

 private:
  explicit ZkTunnel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hmc::ssh
