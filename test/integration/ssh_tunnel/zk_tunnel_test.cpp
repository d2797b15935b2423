// ZooKeeper through an SSH tunnel against a real OpenSSH server.
//
// Every test builds its own network namespace: sshd listens on the
// namespace's veth address, the targets (ZooKeeper, an echo server) listen on
// the namespace's own 127.0.0.1. From the test process that 127.0.0.1:<port>
// is refused, so the only way there is the tunnel.

#include "hmc/heron_config/cluster_config.hpp"
#include "hmc/heron_config/zookeeper_endpoint.hpp"
#include "hmc/ssh_tunnel/zk_tunnel.hpp"
#include "hmc/testing/echo_server.hpp"
#include "hmc/testing/process.hpp"
#include "hmc/testing/marathon_sim.hpp"
#include "hmc/testing/sshd.hpp"
#include "hmc/testing/zookeeper_server.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

namespace hmc::ssh {
namespace {

using hmc::testing::connect_loopback;
using hmc::testing::echo_once;
using hmc::testing::EchoServer;
using hmc::testing::NetworkNamespace;
using hmc::testing::round_trip;
using hmc::testing::Sshd;
using hmc::testing::SshdOptions;
using namespace std::chrono_literals;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

int local_port(const std::string& connection_string) {
  return std::stoi(connection_string.substr(connection_string.rfind(':') + 1));
}

class ZkTunnelTest : public ::testing::Test {
 protected:
  ZkTunnelTest() : sshd_(sshd_options(ns_)), echo_(&ns_) {}

  static SshdOptions sshd_options(const NetworkNamespace& ns) {
    SshdOptions o;
    o.listen_address = ns.inner_address();
    o.command_prefix = ns.exec_prefix();
    return o;
  }

  TunnelOptions options() {
    TunnelOptions o;
    o.host = sshd_.tunnel_host();
    o.key_file = sshd_.client_key();
    o.known_hosts_file = sshd_.known_hosts();
    o.use_agent = false;
    o.connection_timeout = 300ms;
    o.connection_retry_count = 1;
    o.retry_interval = 100ms;
    o.verify_count = 3;
    o.keepalive_interval = 1s;
    o.ssh_timeout = 5s;
    o.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_ += line + "\n";
    };
    return o;
  }

  std::string echo_target() const { return "127.0.0.1:" + std::to_string(echo_.port()); }

  std::string tunnel_log() {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return log_;
  }

  NetworkNamespace ns_;
  Sshd sshd_;
  EchoServer echo_;
  std::mutex log_mutex_;
  std::string log_;
};

TEST_F(ZkTunnelTest, TargetIsRefusedDirectlyAndReachedThroughTheTunnel) {
  ASSERT_FALSE(tcp_reachable("127.0.0.1", echo_.port(), 300ms));
  auto tunnel = ZkTunnel::open(options(), echo_target());
  ASSERT_TRUE(tunnel) << tunnel.error().message << "\n" << sshd_.log();
  const std::string cs = (*tunnel)->connection_string();
  EXPECT_NE(cs, echo_target());
  EXPECT_TRUE(cs.rfind("127.0.0.1:", 0) == 0) << cs;
  EXPECT_EQ((*tunnel)->tunnelled_endpoints(), std::vector<std::string>{echo_target()});
  EXPECT_EQ(echo_once(local_port(cs), "ruok"), "ruok");
  EXPECT_TRUE(contains(tunnel_log(), "tunnelled through")) << tunnel_log();
}

TEST_F(ZkTunnelTest, DirectEndpointsAreKeptUnreachableOnesTunnelledChrootKept) {
  EchoServer host_side(nullptr);  // listens on the test process's own loopback
  const std::string direct = "127.0.0.1:" + std::to_string(host_side.port());
  auto tunnel = ZkTunnel::open(options(), direct + "," + echo_target() + "/heron/app");
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  const std::string cs = (*tunnel)->connection_string();
  auto parsed = parse_connection_string(cs);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->endpoints.size(), 2u) << cs;
  EXPECT_EQ(parsed->endpoints[0].port, host_side.port());
  EXPECT_NE(parsed->endpoints[1].port, echo_.port());
  EXPECT_EQ(parsed->chroot, "/heron/app");
  EXPECT_EQ(echo_once(parsed->endpoints[1].port, "through"), "through");
}

TEST_F(ZkTunnelTest, EndpointsThatFailEverywhereAreDroppedAndNoneLeftIsAClearError) {
  const int nothing = hmc::testing::free_port();  // nothing listens there, inside or out
  const std::string dead = "127.0.0.1:" + std::to_string(nothing);
  auto partial = ZkTunnel::open(options(), dead + "," + echo_target());
  ASSERT_TRUE(partial) << partial.error().message;
  EXPECT_EQ((*partial)->tunnelled_endpoints(), std::vector<std::string>{echo_target()});
  EXPECT_TRUE(contains(tunnel_log(), "dropping ZooKeeper endpoint " + dead)) << tunnel_log();

  auto none = ZkTunnel::open(options(), dead);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::unavailable);
  EXPECT_TRUE(contains(none.error().message, dead)) << none.error().message;
  EXPECT_TRUE(contains(none.error().message, sshd_.address())) << none.error().message;
}

TEST_F(ZkTunnelTest, ChangedHostKeyIsRefused) {
  auto o = options();
  o.known_hosts_file = sshd_.known_hosts_with_other_key();
  o.accept_unknown_host_key = true;  // does not cover a changed key
  auto tunnel = ZkTunnel::open(o, echo_target());
  ASSERT_FALSE(tunnel);
  EXPECT_EQ(tunnel.error().kind, ErrorKind::unauthorized);
  EXPECT_TRUE(contains(tunnel.error().message, "does not match")) << tunnel.error().message;
  EXPECT_TRUE(contains(tunnel.error().message, "SHA256:")) << tunnel.error().message;
}

TEST_F(ZkTunnelTest, UnknownHostKeyIsRefusedUnlessAllowed) {
  auto o = options();
  o.known_hosts_file = sshd_.dir() + "/empty_known_hosts";
  hmc::testing::write_file(o.known_hosts_file, "");
  auto refused = ZkTunnel::open(o, echo_target());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::unauthorized);
  EXPECT_TRUE(contains(refused.error().message, "is not in")) << refused.error().message;

  o.accept_unknown_host_key = true;
  auto allowed = ZkTunnel::open(o, echo_target());
  ASSERT_TRUE(allowed) << allowed.error().message;
  EXPECT_EQ(echo_once(local_port((*allowed)->connection_string()), "hello"), "hello");
}

TEST_F(ZkTunnelTest, KeyThatIsNotAuthorizedIsRefused) {
  auto o = options();
  o.key_file = sshd_.unauthorized_key();
  auto tunnel = ZkTunnel::open(o, echo_target());
  ASSERT_FALSE(tunnel);
  EXPECT_EQ(tunnel.error().kind, ErrorKind::unauthorized);
  EXPECT_TRUE(contains(tunnel.error().message, "authentication")) << tunnel.error().message;
}

TEST_F(ZkTunnelTest, ManyConnectionsShareOneSession) {
  auto tunnel = ZkTunnel::open(options(), echo_target());
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  const int port = local_port((*tunnel)->connection_string());
  constexpr int kConnections = 24;
  std::vector<std::future<bool>> results;
  for (int i = 0; i < kConnections; ++i) {
    results.push_back(std::async(std::launch::async, [port, i] {
      // Some small, some larger than the channel buffers.
      std::string payload(i % 3 == 0 ? 300 * 1024 : 100 + i, static_cast<char>('a' + i % 26));
      const std::string got = echo_once(port, payload);
      if (got != payload) ADD_FAILURE() << "connection " << i << ": sent " << payload.size() << " bytes, got " << got.size();
      return got == payload;
    }));
  }
  int ok = 0;
  for (auto& r : results) ok += r.get() ? 1 : 0;
  EXPECT_EQ(ok, kConnections) << tunnel_log();
  const auto stats = (*tunnel)->stats();
  EXPECT_EQ(stats.sessions_opened, 1u);
  EXPECT_GE(stats.channels_opened, static_cast<std::uint64_t>(kConnections));
  EXPECT_TRUE(hmc::testing::wait_until([&] { return (*tunnel)->stats().channels_active == 0; }, 5s));
}

TEST_F(ZkTunnelTest, SurvivesAnSshdRestart) {
  auto tunnel = ZkTunnel::open(options(), echo_target());
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  const int port = local_port((*tunnel)->connection_string());
  const int fd = connect_loopback(port);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(round_trip(fd, "before"), "before");

  sshd_.restart();

  // The connection open during the restart ends (as a ZooKeeper client would
  // see a dropped connection)...
  char c;
  EXPECT_LE(::recv(fd, &c, 1, 0), 0);
  ::close(fd);
  // ...and new ones on the same local port work again.
  EXPECT_TRUE(hmc::testing::wait_until([&] { return echo_once(port, "after") == "after"; }, 20s, 200ms))
      << tunnel_log();
  EXPECT_GE((*tunnel)->stats().sessions_opened, 2u);
  EXPECT_GE((*tunnel)->stats().drops, 1u);
}

TEST_F(ZkTunnelTest, KeepalivesNoticeASilentNetworkCutAndTheTunnelComesBack) {
  auto tunnel = ZkTunnel::open(options(), echo_target());  // keepalive every 1 s
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  const int port = local_port((*tunnel)->connection_string());
  ASSERT_EQ(echo_once(port, "before"), "before");

  ns_.set_link_up(false);  // no reset reaches anyone: only keepalives can tell
  EXPECT_TRUE(hmc::testing::wait_until([&] { return (*tunnel)->stats().drops >= 1; }, 30s, 100ms))
      << tunnel_log();
  ns_.set_link_up(true);

  EXPECT_TRUE(hmc::testing::wait_until([&] { return echo_once(port, "after") == "after"; }, 40s, 250ms))
      << tunnel_log();
  EXPECT_GE((*tunnel)->stats().sessions_opened, 2u);
}

// Restores an environment variable when the test ends.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1); else ::unsetenv(name_);
  }
 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_F(ZkTunnelTest, KeyFromSshAgentWhenNoKeyFileIsGiven) {
  hmc::testing::TempDir home;  // no ~/.ssh/id_* to fall back on
  const std::string socket = home.path() + "/agent.sock";
  hmc::testing::ChildProcess agent({"/usr/bin/ssh-agent", "-D", "-a", socket}, home.path() + "/agent.log");
  ASSERT_TRUE(hmc::testing::wait_until([&] { return std::filesystem::exists(socket); }, 10s)) << agent.log();
  const auto added = hmc::testing::run_command({"/usr/bin/ssh-add", sshd_.client_key()}, "", 10000ms,
                                               {{"SSH_AUTH_SOCK", socket}});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  ScopedEnv auth_sock("SSH_AUTH_SOCK", socket);
  ScopedEnv home_env("HOME", home.path());

  auto o = options();
  o.key_file.clear();
  o.use_agent = true;
  auto tunnel = ZkTunnel::open(o, echo_target());
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  EXPECT_EQ(echo_once(local_port((*tunnel)->connection_string()), "agent"), "agent");

  o.use_agent = false;
  auto refused = ZkTunnel::open(o, echo_target());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::unauthorized);
  EXPECT_TRUE(contains(refused.error().message, "no key file")) << refused.error().message;
}

TEST(ZkTunnelPassphrase, KeyWithPassphraseFromFile) {
  NetworkNamespace ns;
  SshdOptions so;
  so.listen_address = ns.inner_address();
  so.command_prefix = ns.exec_prefix();
  so.client_key_passphrase = "correct horse";
  Sshd sshd(so);
  EchoServer echo(&ns);
  TunnelOptions o;
  o.host = sshd.tunnel_host();
  o.key_file = sshd.client_key();
  o.known_hosts_file = sshd.known_hosts();
  o.use_agent = false;
  o.connection_retry_count = 0;
  o.connection_timeout = 300ms;
  o.passphrase_file = sshd.dir() + "/pass";
  const std::string target = "127.0.0.1:" + std::to_string(echo.port());

  hmc::testing::write_file(o.passphrase_file, "wrong\n");
  auto refused = ZkTunnel::open(o, target);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::unauthorized);

  hmc::testing::write_file(o.passphrase_file, "correct horse\n");
  auto tunnel = ZkTunnel::open(o, target);
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  EXPECT_EQ(echo_once(local_port((*tunnel)->connection_string()), "x"), "x");
}

TEST(ConnectionString, ParsesAndPrints) {
  auto c = parse_connection_string("zk1:2181, zk2:2182,[::1]:2183/heron");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->endpoints.size(), 3u);
  EXPECT_EQ(c->endpoints[1].host, "zk2");
  EXPECT_EQ(c->endpoints[2].host, "::1");
  EXPECT_EQ(c->chroot, "/heron");
  EXPECT_EQ(to_string(*c), "zk1:2181,zk2:2182,[::1]:2183/heron");
  for (const char* bad : {"", "zk1:2181,,zk2:2181", "zk1:port", "zk1:70000", ":2181"}) {
    auto r = parse_connection_string(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  }
  TunnelOptions o;
  o.host = "centos@";
  auto t = ZkTunnel::open(o, "127.0.0.1:1");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::invalid);
}

// ZooKeeper itself, only reachable through the tunnel.
class ZooKeeperThroughTunnel : public ZkTunnelTest {
 protected:
  ZooKeeperThroughTunnel() : zookeeper_(zk_options(ns_)) {}
  static hmc::testing::ZooKeeperServerOptions zk_options(const NetworkNamespace& ns) {
    hmc::testing::ZooKeeperServerOptions o;
    o.network_namespace = ns.name();
    return o;
  }
  // A Heron conf dir whose statemgr.yaml reaches this ZooKeeper through the tunnel.
  void write_tunnel_conf(const std::string& dir) {
    hmc::testing::write_file(dir + "/scheduler.yaml", "heron.marathon.scheduler.uri: http://127.0.0.1:8080\n");
    hmc::testing::write_file(dir + "/statemgr.yaml",
                             "heron.statemgr.connection.string: \"" + zookeeper_.connect_string() + "\"\n" +
                                 "heron.statemgr.is.tunnel.needed: True\n" +
                                 "heron.statemgr.tunnel.host: \"" + sshd_.tunnel_host() + "\"\n" +
                                 "heron.statemgr.tunnel.connection.retry.count: 0\n" +
                                 "heron.statemgr.tunnel.connection.timeout.ms: 300\n" +
                                 "heron.statemgr.tunnel.key.file: " + sshd_.client_key() + "\n" +
                                 "heron.statemgr.tunnel.known.hosts.file: " + sshd_.known_hosts() + "\n" +
                                 "heron.statemgr.tunnel.use.agent: False\n");
  }
  hmc::testing::ZooKeeperServer zookeeper_;
};

TEST_F(ZooKeeperThroughTunnel, ClientCreatesAndReadsNodes) {
  ASSERT_FALSE(tcp_reachable("127.0.0.1", zookeeper_.port(), 300ms));
  auto tunnel = ZkTunnel::open(options(), zookeeper_.connect_string());
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  hmc::zk::ZkOptions zo;
  zo.connect = (*tunnel)->connection_string();
  zo.session_timeout = 4000ms;
  zo.connect_timeout = 15000ms;
  auto client = hmc::zk::connect(zo);
  ASSERT_TRUE(client) << client.error().message;
  ASSERT_TRUE((*client)->create("/through-tunnel", "hello"));
  auto node = (*client)->get("/through-tunnel");
  ASSERT_TRUE(node) << node.error().message;
  EXPECT_EQ(node->data, "hello");
}

TEST_F(ZooKeeperThroughTunnel, ClientRecoversAfterSshdRestart) {
  auto tunnel = ZkTunnel::open(options(), zookeeper_.connect_string());
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  hmc::zk::ZkOptions zo;
  zo.connect = (*tunnel)->connection_string();
  zo.session_timeout = 8000ms;
  zo.connect_timeout = 15000ms;
  auto client = hmc::zk::connect(zo);
  ASSERT_TRUE(client) << client.error().message;
  ASSERT_TRUE((*client)->create("/before-restart", "1"));

  sshd_.restart();

  auto node_exists = [&](const std::string& path) {
    auto r = (*client)->exists(path);
    return r && r->has_value();
  };
  EXPECT_TRUE(hmc::testing::wait_until(
      [&] { return static_cast<bool>((*client)->create("/after-restart", "2")) || node_exists("/after-restart"); },
      30s, 250ms))
      << tunnel_log();
  auto node = (*client)->get("/before-restart");
  ASSERT_TRUE(node) << node.error().message;
  EXPECT_EQ(node->data, "1");
  EXPECT_GE((*tunnel)->stats().sessions_opened, 2u);
}

// The one call the controller and the CLI make, from a Heron conf dir.
TEST_F(ZooKeeperThroughTunnel, ResolveZookeeperFromStatemgrYaml) {
  hmc::testing::TempDir conf;
  write_tunnel_conf(conf.path());
  std::vector<std::string> warnings;
  const auto cluster = hmc::config::load_cluster_config(conf.path(), &warnings);
  EXPECT_TRUE(warnings.empty());
  auto resolved = hmc::config::resolve_zookeeper(cluster.statemgr);
  ASSERT_TRUE(resolved) << resolved.error().message;
  ASSERT_NE(resolved->tunnel, nullptr);
  EXPECT_NE(resolved->connection_string, zookeeper_.connect_string());
  hmc::zk::ZkOptions zo;
  zo.connect = resolved->connection_string;
  zo.connect_timeout = 15000ms;
  auto client = hmc::zk::connect(zo);
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_TRUE((*client)->ensure_path("/heron/topologies"));
  auto exists = (*client)->exists("/heron/topologies");
  ASSERT_TRUE(exists);
  EXPECT_TRUE(exists->has_value());

  // Without the tunnel, the connection string is passed on unchanged.
  auto plain = cluster.statemgr;
  plain.tunnel.needed = false;
  auto direct = hmc::config::resolve_zookeeper(plain, "zk9:2181");
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->connection_string, "zk9:2181");
  EXPECT_EQ(direct->tunnel, nullptr);
}

// The operators' CLI, pointed at the conf dir, works through the tunnel.
TEST_F(ZooKeeperThroughTunnel, CliSubmitsAndListsThroughTheTunnel) {
  hmc::testing::TempDir conf;
  write_tunnel_conf(conf.path());
  const std::string cli = std::string(HMC_BINARY_DIR) + "/cli/heron-marathon";
  const std::string spec = std::string(HMC_SOURCE_DIR) + "/conf/examples/word-count.yaml";
  auto submitted = hmc::testing::run_command({cli, "submit", spec, "--config", conf.path()});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.out << submitted.err;
  auto listed = hmc::testing::run_command({cli, "list", "-o", "name", "--config", conf.path()});
  ASSERT_EQ(listed.exit_code, 0) << listed.out << listed.err;
  EXPECT_TRUE(contains(listed.out, "word-count")) << listed.out;

  // The node is really in the ZooKeeper behind the tunnel.
  auto tunnel = ZkTunnel::open(options(), zookeeper_.connect_string());
  ASSERT_TRUE(tunnel) << tunnel.error().message;
  hmc::zk::ZkOptions zo;
  zo.connect = (*tunnel)->connection_string();
  zo.connect_timeout = 15000ms;
  auto client = hmc::zk::connect(zo);
  ASSERT_TRUE(client) << client.error().message;
  auto node = (*client)->get("/heron-marathon/topologies/word-count");
  ASSERT_TRUE(node) << node.error().message;
  EXPECT_TRUE(contains(node->data, "word-count"));

  // Without the tunnel the same ZooKeeper is out of reach: a clear error, exit 3.
  hmc::testing::write_file(conf.path() + "/statemgr.yaml",
                           "heron.statemgr.connection.string: \"" + zookeeper_.connect_string() + "\"\n");
  auto direct = hmc::testing::run_command({cli, "list", "--config", conf.path(), "--zk-timeout", "2s"});
  EXPECT_EQ(direct.exit_code, 3) << direct.out << direct.err;
}

// The controller, pointed at the same conf dir, reconciles through the tunnel:
// it reads desired state from the ZooKeeper behind it and writes status back.
TEST_F(ZooKeeperThroughTunnel, ControllerReconcilesThroughTheTunnel) {
  hmc::testing::MarathonSimOptions so;
  so.agents = {"cpus=8,mem=32768,disk=200000,ports=31000-32000"};
  hmc::testing::MarathonSim sim(so);
  hmc::testing::TempDir conf;
  write_tunnel_conf(conf.path());
  hmc::testing::write_file(conf.path() + "/scheduler.yaml", "heron.marathon.scheduler.uri: " + sim.url() + "\n");
  hmc::testing::ChildProcess controller(
      {std::string(HMC_BINARY_DIR) + "/controller/heron-marathon-controller", "--config", conf.path(),
       "--metrics-address", "127.0.0.1:" + std::to_string(hmc::testing::free_port()),
       "--health-address", "127.0.0.1:" + std::to_string(hmc::testing::free_port()),
       "--observe-interval", "50ms", "--zk-session-timeout", "8s"},
      conf.path() + "/controller.log");
  const std::string cli = std::string(HMC_BINARY_DIR) + "/cli/heron-marathon";
  const std::string spec = std::string(HMC_SOURCE_DIR) + "/conf/examples/word-count.yaml";
  auto submitted = hmc::testing::run_command({cli, "submit", spec, "--config", conf.path()});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.out << submitted.err;
  // The group runs in Marathon, and the status came back through the tunnel.
  EXPECT_TRUE(hmc::testing::wait_until(
      [&] {
        auto r = hmc::testing::run_command({cli, "status", "word-count", "-o", "json", "--config", conf.path()});
        return r.exit_code == 0 && contains(r.out, "\"Running\"");
      },
      60s, 500ms))
      << controller.log();
  EXPECT_EQ(sim.get("/v2/groups/heron/topologies/word-count").status, 200);
}

}  // namespace
}  // namespace hmc::ssh
