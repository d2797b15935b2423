#pragma once
// A TCP echo server on 127.0.0.1 (of the test process, or of a network
// namespace) for tunnel tests: every byte received is sent back.
// The destructor stops it and joins every connection thread.

#include "hmc/testing/sshd.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace hmc::testing {

class EchoServer {
 public:
  // `ns`: listen on the namespace's loopback instead of ours (may be null).
  explicit EchoServer(const NetworkNamespace* ns = nullptr);
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  int port() const { return port_; }

 private:
  void serve();
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;
};

// Client side helpers on 127.0.0.1 (10 s receive timeout).
int connect_loopback(int port);  // -1 if refused
// Sends `payload` while reading the echo; returns what came back.
std::string round_trip(int fd, const std::string& payload);
// connect_loopback + round_trip + close; "" if refused.
std::string echo_once(int port, const std::string& payload);

}  // namespace hmc::testing
