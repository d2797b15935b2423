#include "hmc/metrics/health_server.hpp"

#include "hmc/testing/marathon_sim.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace hmc::metrics {
namespace {

using hmc::testing::http_request;

TEST(HealthServer, AnswersOkWhileProbesPassAnd503WithTheReasonOtherwise) {
  std::mutex mu;
  ProbeResult live{true, {}};
  ProbeResult ready{false, "zookeeper not connected"};
  auto server = HealthServer::start(
      "127.0.0.1:0",
      [&] {
        std::lock_guard l(mu);
        return live;
      },
      [&] {
        std::lock_guard l(mu);
        return ready;
      });
  ASSERT_TRUE(server) << server.error().message;
  const int port = (*server)->port();
  ASSERT_GT(port, 0);

  auto h = http_request(port, "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  auto r = http_request(port, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "zookeeper not connected\n");

  {
    std::lock_guard l(mu);
    ready = {true, {}};
    live = {false, "reconcile loop stuck for 120s"};
  }
  EXPECT_EQ(http_request(port, "GET", "/readyz").status, 200);
  h = http_request(port, "GET", "/healthz?verbose");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(h.body, "reconcile loop stuck for 120s\n");
}

TEST(HealthServer, UnknownPathsAre404AndAThrowingProbeFails) {
  auto server = HealthServer::start(
      "127.0.0.1:0", [] { return ProbeResult{true, {}}; },
      []() -> ProbeResult { throw std::runtime_error("leader unknown"); });
  ASSERT_TRUE(server);
  const int port = (*server)->port();
  EXPECT_EQ(http_request(port, "GET", "/metrics").status, 404);
  EXPECT_EQ(http_request(port, "GET", "/").status, 404);
  const auto r = http_request(port, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("leader unknown"), std::string::npos);
}

TEST(HealthServer, BadOrBusyAddressesAreNamedInTheError) {
  auto probe = [] { return ProbeResult{true, {}}; };
  auto bad = HealthServer::start("nonsense", probe, probe);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("nonsense"), std::string::npos);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid);

  bad = HealthServer::start("example.org:8080", probe, probe);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("example.org"), std::string::npos);

  bad = HealthServer::start("127.0.0.1:70000", probe, probe);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("70000"), std::string::npos);

  auto first = HealthServer::start("127.0.0.1:0", probe, probe);
  ASSERT_TRUE(first);
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  auto busy = HealthServer::start(taken, probe, probe);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().kind, ErrorKind::unavailable);
  EXPECT_NE(busy.error().message.find(taken), std::string::npos) << busy.error().message;
}

TEST(HealthServer, StopsCleanlyWithAnIdleConnectionOpen) {
  std::atomic<int> calls{0};
  int port = 0;
  int idle = -1;
  {
    auto server = HealthServer::start(
        "127.0.0.1:0",
        [&] {
          ++calls;
          return ProbeResult{true, {}};
        },
        [] { return ProbeResult{true, {}}; });
    ASSERT_TRUE(server);
    port = (*server)->port();
    EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
    idle = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ASSERT_EQ(::connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }  // destructor must return although a client holds a connection open
  ::close(idle);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_FALSE(hmc::testing::port_open(port));
}

}  // namespace
}  // namespace hmc::metrics
