#pragma once
// A real OpenSSH server for integration tests: `/usr/sbin/sshd -D -e -f <cfg>`
// with a temporary host key and an authorized client key, both made by
// ssh-keygen in a TempDir, listening on one address and a free port.
//
//   hmc::testing::Sshd sshd;                 // 127.0.0.1:<free port>, started
//   options.key_file = sshd.client_key();
//   options.known_hosts_file = sshd.known_hosts();
//   options.host = sshd.tunnel_host();       // "<user>@127.0.0.1:<port>"
//   sshd.restart();                          // also ends every open connection
//
// The destructor always stops the server and its connection processes.
// Errors starting it throw std::runtime_error with the tail of its log.

#include "hmc/testing/process.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hmc::testing {

struct SshdOptions {
  std::string listen_address = "127.0.0.1";
  int port = 0;  // 0: a free port
  // Run sshd through this, e.g. {"ip", "netns", "exec", "<ns>"}.
  std::vector<std::string> command_prefix;
  // Passphrase of the generated client key ("" = none).
  std::string client_key_passphrase;
  bool start = true;
};

class Sshd {
 public:
  explicit Sshd(SshdOptions options = {});
  ~Sshd();
  Sshd(const Sshd&) = delete;
  Sshd& operator=(const Sshd&) = delete;

  void start();    // waits until the port accepts connections; no-op if running
  void stop();     // the server and every connection it serves
  void restart();  // stop() then start(): same port, same host key
  bool running();

  const std::string& address() const { return options_.listen_address; }
  int port() const { return port_; }
  const std::string& user() const { return user_; }
  // "<user>@<address>:<port>", for TunnelOptions::host.
  std::string tunnel_host() const;
  // The private key whose public half is authorized.
  const std::string& client_key() const { return client_key_; }
  // A known_hosts file with this server's host key for [address]:port.
  const std::string& known_hosts() const { return known_hosts_; }
  // A known_hosts file listing [address]:port with a different key.
  std::string known_hosts_with_other_key();
  // A client key that is not authorized.
  std::string unauthorized_key();
  const std::string& dir() const { return dir_->path(); }
  std::string log() const;

 private:
  bool accepting();

  SshdOptions options_;
  std::unique_ptr<TempDir> dir_;
  int port_ = 0;
  std::string user_;
  std::string config_file_;
  std::string client_key_;
  std::string known_hosts_;
  std::string log_file_;
  ChildProcess process_;
};

// A network namespace with a veth pair, for "reachable only through the
// tunnel" tests. The host side gets <prefix>.1/30, the namespace side
// <prefix>.2/30 and its own loopback; nothing else. Needs root and iproute2.
// The destructor deletes the pair and the namespace.
class NetworkNamespace {
 public:
  NetworkNamespace();
  ~NetworkNamespace();
  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;

  const std::string& name() const { return name_; }
  const std::string& host_address() const { return host_address_; }  // host side of the veth
  const std::string& inner_address() const { return inner_address_; }  // namespace side
  // {"ip", "netns", "exec", name()}
  std::vector<std::string> exec_prefix() const;
  // Takes the host side of the veth down (a silent network cut: packets are
  // lost, no reset is sent) or back up.
  void set_link_up(bool up) const;
  // Runs `fn` on a thread that entered the namespace: sockets it creates
  // belong to the namespace (and stay there when used from other threads).
  void run_inside(const std::function<void()>& fn) const;

 private:
  std::string name_;
  std::string host_if_;
  std::string host_address_;
  std::string inner_address_;
};

}  // namespace hmc::testing
