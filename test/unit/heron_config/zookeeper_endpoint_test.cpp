#include "hmc/heron_config/zookeeper_endpoint.hpp"

#include <gtest/gtest.h>

namespace hmc::config {
namespace {

TEST(ResolveZookeeper, WithoutTunnelTheStringIsUsedAsItIs) {
  StateManagerConfig sm;
  sm.connection_string = "zk1:2181,zk2:2181/heron";
  auto r = resolve_zookeeper(sm);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->connection_string, "zk1:2181,zk2:2181/heron");
  EXPECT_EQ(r->tunnel, nullptr);
  auto flag = resolve_zookeeper(sm, "127.0.0.1:2181");
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->connection_string, "127.0.0.1:2181");
}

TEST(ResolveZookeeper, MissingConnectionStringIsAnErrorSayingWhereToSetIt) {
  StateManagerConfig sm;
  auto r = resolve_zookeeper(sm);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_NE(r.error().message.find("heron.statemgr.connection.string"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("--zk"), std::string::npos) << r.error().message;
}

TEST(ResolveZookeeper, BadTunnelSettingsAreInvalidNotUnavailable) {
  StateManagerConfig sm;
  sm.connection_string = "127.0.0.1:1";
  sm.tunnel.needed = true;
  sm.tunnel.host = "centos@bastion:99999";
  auto r = resolve_zookeeper(sm);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_NE(r.error().message.find("port"), std::string::npos) << r.error().message;

  sm.tunnel.host = "centos@bastion";
  sm.connection_string = "zk1:notaport";
  r = resolve_zookeeper(sm);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_NE(r.error().message.find("zk1:notaport"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace hmc::config
