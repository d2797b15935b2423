#include "hmc/testing/zookeeper_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

namespace {

using hmc::testing::ZooKeeperServer;
using namespace std::chrono_literals;

TEST(ZooKeeperServerHarness, StartsOnLoopbackAndAnswers) {
  ZooKeeperServer zk;
  EXPECT_EQ(zk.connect_string(), "127.0.0.1:" + std::to_string(zk.port()));
  EXPECT_EQ(zk.four_letter("ruok"), "imok");
  EXPECT_NE(zk.four_letter("srvr").find("Mode: standalone"), std::string::npos);
}

TEST(ZooKeeperServerHarness, RestartKeepsPortAndData) {
  ZooKeeperServer zk;
  const int port = zk.port();
  zk.stop();
  EXPECT_FALSE(hmc::testing::port_open(port));
  EXPECT_TRUE(std::filesystem::exists(zk.data_dir() + "/version-2"));
  zk.start();
  EXPECT_EQ(zk.port(), port);
  EXPECT_EQ(zk.four_letter("ruok"), "imok");
}

TEST(ZooKeeperServerHarness, PausedServerDoesNotAnswerUntilResumed) {
  ZooKeeperServer zk;
  zk.pause();
  EXPECT_TRUE(zk.paused());
  EXPECT_EQ(zk.four_letter("ruok", 300ms), "");
  zk.resume();
  EXPECT_EQ(zk.four_letter("ruok"), "imok");
}

TEST(ZooKeeperServerHarness, DestructorStopsServerAndRemovesData) {
  std::string data_dir;
  int port = 0;
  {
    ZooKeeperServer zk;
    data_dir = zk.data_dir();
    port = zk.port();
    zk.pause();  // even a frozen server is stopped
  }
  EXPECT_FALSE(std::filesystem::exists(data_dir));
  EXPECT_FALSE(hmc::testing::port_open(port));
}

TEST(ZooKeeperServerHarness, ConfiguredTickBoundsSessionTimeouts) {
  hmc::testing::ZooKeeperServerOptions options;
  options.tick_time = 100ms;
  ZooKeeperServer zk(options);
  EXPECT_EQ(zk.min_session_timeout(), 200ms);
  const auto conf = zk.four_letter("conf");
  EXPECT_NE(conf.find("minSessionTimeout=200"), std::string::npos) << conf;
  EXPECT_NE(conf.find("maxSessionTimeout=2000"), std::string::npos) << conf;
}

TEST(ZooKeeperServerHarness, ServerCpuIsReadFromProc) {
  ZooKeeperServer zk;
  const double started = hmc::testing::cpu_seconds(zk.pid());
  EXPECT_GT(started, 0.1);  // a JVM does not start on less
  zk.stop();
  EXPECT_EQ(hmc::testing::cpu_seconds(zk.pid()), 0.0);
}

TEST(ZooKeeperServerHarness, ConnectionSetupsAreNamedAndApplied) {
  EXPECT_TRUE(hmc::testing::connection_properties("nio").empty());
  try {
    (void)hmc::testing::connection_properties("epoll");
    ADD_FAILURE() << "an unknown setup was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'epoll'"), std::string::npos) << e.what();
  }
  hmc::testing::ZooKeeperServerOptions options;
  options.system_properties = hmc::testing::connection_properties("nio-direct");
  ZooKeeperServer zk(options);
  EXPECT_EQ(zk.four_letter("ruok"), "imok");
  EXPECT_NE(zk.log().find("no worker threads"), std::string::npos) << zk.log();
}

}  // namespace

namespace {

TEST(ZooKeeperServerHarness, DroppedNetworkRefusesClientsButServerRuns) {
  hmc::testing::ZooKeeperServerOptions options;
  options.network_control = true;
  ZooKeeperServer zk(options);
  EXPECT_NE(zk.port(), zk.server_port());
  EXPECT_TRUE(hmc::testing::port_open(zk.port()));
  zk.drop_network();
  EXPECT_EQ(zk.four_letter("ruok"), "imok");  // the server itself still answers
  zk.restore_network();
  EXPECT_TRUE(hmc::testing::port_open(zk.port()));
}

TEST(ZooKeeperServerHarness, NetworkControlIsOptIn) {
  ZooKeeperServer zk;
  EXPECT_EQ(zk.port(), zk.server_port());
  EXPECT_THROW(zk.drop_network(), std::logic_error);
}

}  // namespace
