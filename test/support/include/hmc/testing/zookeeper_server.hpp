#pragma once
// A real ZooKeeper server for integration tests: Debian's ZooKeeperServerMain
// (standalone) on a free 127.0.0.1 port with its data in a temporary directory.
//
//   hmc::testing::ZooKeeperServer zk;          // started and answering
//   connect(zk.connect_string());
//   zk.stop(); zk.start();                      // restart: same port, same data
//   zk.pause(); ...; zk.resume();               // frozen server: SIGSTOP/SIGCONT
//   zk.drop_network(); ...; zk.restore_network(); // cut clients off (network_control)
//
// The destructor always stops the server and removes its data, also when a
// test fails. Errors starting the server throw std::runtime_error with the
// tail of the server's log.

#include "hmc/testing/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace hmc::testing {

// The server's Netty connection factory (zookeeper.serverCnxnFactory). The
// default, NIO, hands every request to a worker thread on its own; Netty
// decodes every request one read brought in, so a pipelined batch of reads
// costs the server a fraction of the CPU (bench/zookeeper_bench.cpp).
inline constexpr const char* kNettyServerCnxnFactory = "org.apache.zookeeper.server.NettyServerCnxnFactory";

// The system properties of a named client connection setup: "nio" (the
// server's default: none), "nio-direct" (NIO with requests handled on the
// selector thread, zookeeper.nio.numWorkerThreads=0) or "netty". Throws
// std::invalid_argument naming the setup for any other name.
std::map<std::string, std::string> connection_properties(const std::string& setup);

struct ZooKeeperServerOptions {
  // Short ticks keep session expiry tests quick: the server accepts session
  // timeouts between 2 and 20 ticks (minSessionTimeout/maxSessionTimeout).
  std::chrono::milliseconds tick_time{200};
  // Upper bound for negotiated session timeouts (default 20 ticks).
  std::chrono::milliseconds max_session_timeout{0};
  // How long start() waits for the server to answer `srvr`.
  std::chrono::milliseconds start_timeout{60000};
  // Start in the constructor.
  bool start = true;
  // Run the server inside this network namespace (`ip netns exec <ns>`): its
  // 127.0.0.1 is then the namespace's own loopback, refused from the host.
  // Readiness checks and four_letter() connect from inside the namespace.
  std::string network_namespace;
  // Clients connect through a loopback relay that drop_network() cuts while
  // the server keeps running, so sessions expire exactly as on a network
  // partition (a paused server instead races expiry against reconnection).
  bool network_control = false;
  // Extra Java system properties for the server (-Dkey=value), e.g.
  // {"zookeeper.serverCnxnFactory", kNettyServerCnxnFactory}.
  std::map<std::string, std::string> system_properties;
};

class ZooKeeperServer {
 public:
  explicit ZooKeeperServer(ZooKeeperServerOptions options = {});
  ~ZooKeeperServer();
  ZooKeeperServer(const ZooKeeperServer&) = delete;
  ZooKeeperServer& operator=(const ZooKeeperServer&) = delete;

  // "127.0.0.1:<port>", suitable for ZkOptions::connect.
  std::string connect_string() const;
  // The port clients connect to (the relay's with network_control).
  int port() const;
  // The port the server itself listens on.
  int server_port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  const std::string& data_dir() const { return data_dir_; }
  std::chrono::milliseconds tick_time() const { return options_.tick_time; }
  // Smallest session timeout the server grants (2 ticks).
  std::chrono::milliseconds min_session_timeout() const { return 2 * options_.tick_time; }

  // Starts the server (again) on the same port and data dir and waits until it
  // serves requests. No-op if it is running. Throws std::runtime_error.
  void start();
  // Stops the server (SIGTERM, then SIGKILL). Data stays for a later start().
  void stop();
  // Freezes the server process (SIGSTOP): clients see no answers, sessions
  // that outlive their timeout while paused are expired on resume().
  void pause();
  void resume();
  bool running();
  bool paused() const { return paused_; }

  // With network_control only (else std::logic_error): closes every client
  // connection and refuses new ones until restore_network().
  void drop_network();
  void restore_network();

  // Sends a four-letter-word command (ruok, srvr, stat, mntr, cons) and
  // returns the answer; empty if the server does not answer.
  std::string four_letter(const std::string& command,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds{2000}) const;
  // The server's log so far.
  std::string log() const;

 private:
  void write_config();
  class Relay;

  ZooKeeperServerOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::string data_dir_;
  std::string config_file_;
  std::string log_file_;
  int port_ = 0;
  bool paused_ = false;
  ChildProcess process_;
  std::unique_ptr<Relay> relay_;
};

// One server shared by all tests of a binary:
//   ::testing::AddGlobalTestEnvironment(new hmc::testing::ZooKeeperEnvironment);
//   ... hmc::testing::ZooKeeperEnvironment::server().connect_string() ...
// or call hmc::testing::shared_zookeeper() which registers it on first use.
class ZooKeeperEnvironment : public ::testing::Environment {
 public:
  explicit ZooKeeperEnvironment(ZooKeeperServerOptions options = {});
  void SetUp() override;
  void TearDown() override;
  // The running server; throws std::logic_error if no environment is set up.
  static ZooKeeperServer& server();

 private:
  ZooKeeperServerOptions options_;
};

// A server started on first use and stopped at process exit.
ZooKeeperServer& shared_zookeeper();

}  // namespace hmc::testing
