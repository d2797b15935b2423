// The real controller binary, scraped by a real Prometheus while it runs a
// topology on marathon-sim with desired state in a real ZooKeeper.
#include "hmc/metrics/controller_metrics.hpp"

#include "hmc/testing/marathon_sim.hpp"
#include "hmc/testing/process.hpp"
#include "hmc/testing/prometheus_server.hpp"
#include "hmc/testing/zookeeper_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using hmc::testing::ChildProcess;
using hmc::testing::MarathonSim;
using hmc::testing::PrometheusServer;
using hmc::testing::ZooKeeperServer;
using hmc::testing::http_request;
using hmc::testing::wait_until;

constexpr auto kWait = std::chrono::milliseconds{60000};
const std::string kToken = "tok-7f3e9a51c2d84b6e";

// ZooKeeper, marathon-sim (requiring a token) and the controller with its
// metrics and health endpoints on free loopback ports.
struct ControllerStack {
  ZooKeeperServer zk;
  MarathonSim sim{sim_options()};
  hmc::testing::TempDir tmp;
  int metrics_port = hmc::testing::free_port();
  int health_port = hmc::testing::free_port();
  ChildProcess controller;

  static hmc::testing::MarathonSimOptions sim_options() {
    hmc::testing::MarathonSimOptions o;
    o.agents = {"cpus=8,mem=32768,disk=200000,ports=31000-32000", "cpus=8,mem=32768,disk=200000,ports=31000-32000"};
    o.offer_period = "100ms";
    o.token = kToken;
    return o;
  }

  ControllerStack() {
    controller = ChildProcess(
        {std::string(HMC_BINARY_DIR) + "/controller/heron-marathon-controller", "--zk", zk.connect_string(),
         "--marathon", sim.url(), "--metrics-address", "127.0.0.1:" + std::to_string(metrics_port),
         "--health-address", "127.0.0.1:" + std::to_string(health_port), "--identity", "obs-controller",
         "--observe-interval", "50ms", "--resync-period", "10s", "--waiting-threshold", "1s",
         "--log-level", "debug"},
        tmp.path() + "/controller.log", {{"HMC_MARATHON_TOKEN", kToken}});
  }

  std::string metrics_target() const { return "127.0.0.1:" + std::to_string(metrics_port); }

  hmc::testing::CommandResult submit(const std::string& name, int containers, double cpus) {
    const std::string spec = tmp.path() + "/" + name + ".json";
    hmc::testing::write_file(
        spec, R"({"schemaVersion":1,"name":")" + name +
                  R"(","cluster":"local","role":"tester","environ":"test","containers":)" +
                  std::to_string(containers) + R"(,"resources":{"cpus":)" + std::to_string(cpus) +
                  R"(,"mem":1024,"disk":2048},"image":"heron/heron:0.20.5",)" +
                  R"("package":"http://repo.example.org/topologies/)" + name + R"(.tar.gz","state":"running"})");
    return cli({"submit", spec});
  }

  hmc::testing::CommandResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {std::string(HMC_BINARY_DIR) + "/cli/heron-marathon", "--zk", zk.connect_string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return hmc::testing::run_command(argv, {}, 120s);
  }
};

double value_of(PrometheusServer& prom, const std::string& promql) {
  const auto s = prom.wait_for(promql, kWait);
  return s.size() == 1 ? s.front().value : -1;
}

TEST(ControllerScrape, PrometheusSeesARunningTopologyAndTheControllersWork) {
  ControllerStack stack;
  PrometheusServer prom({{"heron-marathon-controller", stack.metrics_target()}});

  ASSERT_TRUE(wait_until([&] { return http_request(stack.health_port, "GET", "/readyz").status == 200; }, kWait))
      << http_request(stack.health_port, "GET", "/readyz").body << stack.controller.log();
  EXPECT_EQ(http_request(stack.health_port, "GET", "/healthz").status, 200);

  const auto r = stack.submit("word-count", 2, 1.0);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  ASSERT_EQ(prom.wait_for("heron_marathon_topologies{phase=\"Running\"} == 1", kWait).size(), 1u)
      << prom.query("heron_marathon_topologies").size() << "\n" << stack.controller.log();
  EXPECT_GT(value_of(prom, "sum(heron_marathon_reconcile_total)"), 0);
  EXPECT_GT(value_of(prom, "heron_marathon_reconcile_total{result=\"success\"}"), 0);
  EXPECT_EQ(value_of(prom, "heron_marathon_build_info{identity=\"obs-controller\"}"), 1);
  EXPECT_EQ(value_of(prom, "heron_marathon_leader"), 1);
  EXPECT_EQ(value_of(prom, "heron_marathon_zookeeper_session_state"), hmc::metrics::kZkConnected);
  EXPECT_GT(value_of(prom, "heron_marathon_workqueue_adds_total"), 0);
  EXPECT_GT(value_of(prom, "heron_marathon_reconcile_time_seconds_count"), 0);

  // The group was created once, observed by its template route, and every
  // route label is a template.
  EXPECT_GE(value_of(prom, "sum(heron_marathon_marathon_requests_total{method=\"POST\",route=\"/v2/groups\"})"), 1);
  EXPECT_GT(value_of(prom, "sum(heron_marathon_marathon_requests_total{method=\"GET\",route=\"/v2/groups/{id}\"})"), 0);
  EXPECT_GT(value_of(prom, "sum(heron_marathon_marathon_requests_total{route=\"/v2/queue\",code=\"200\"})"), 0);
  const auto& routes = hmc::metrics::marathon_routes();
  for (const auto& s : prom.query("count by (route) (heron_marathon_marathon_requests_total)"))
    EXPECT_NE(std::find(routes.begin(), routes.end(), s.labels.at("route")), routes.end()) << s.labels.at("route");
  EXPECT_EQ(value_of(prom, "count(heron_marathon_marathon_requests_total{code=~\"401|403\"}) or vector(0)"), 0);

  // The token reaches Marathon but never the metrics or the logs.
  const auto exposition = http_request(stack.metrics_port, "GET", "/metrics");
  ASSERT_EQ(exposition.status, 200);
  EXPECT_EQ(exposition.body.find(kToken), std::string::npos);
  EXPECT_EQ(stack.controller.log().find(kToken), std::string::npos);
  // Every log line about the topology names it.
  std::istringstream log(stack.controller.log());
  for (std::string line; std::getline(log, line);) {
    if (line.find("word-count") == std::string::npos) continue;
    EXPECT_TRUE(line.find("topology=word-count") != std::string::npos ||
                line.find("\"topology\":\"word-count\"") != std::string::npos)
        << line;
  }
}

TEST(ControllerScrape, AWaitingTopologyIsExportedWithItsDeclineReasonsUntilKilled) {
  ControllerStack stack;
  PrometheusServer prom({{"heron-marathon-controller", stack.metrics_target()}});
  // 64 cpus per container: no agent offers that much.
  const auto r = stack.submit("too-big", 1, 64.0);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  ASSERT_EQ(prom.wait_for("heron_marathon_topologies{phase=\"Waiting\"} == 1", kWait).size(), 1u)
      << stack.controller.log();
  EXPECT_EQ(prom.wait_for("heron_marathon_topology_waiting_seconds{topology=\"too-big\"}", kWait).size(), 1u);
  const auto declined =
      prom.wait_for("heron_marathon_declined_offers{topology=\"too-big\",reason=\"InsufficientCpus\"} > 0", kWait);
  EXPECT_EQ(declined.size(), 1u) << stack.cli({"status", "too-big"}).out;

  const auto k = stack.cli({"kill", "too-big"});
  ASSERT_EQ(k.exit_code, 0) << k.out << k.err;
  EXPECT_TRUE(wait_until(
      [&] {
        return prom.query("heron_marathon_topology_waiting_seconds").empty() &&
               prom.query("heron_marathon_declined_offers").empty();
      },
      kWait, 250ms))
      << stack.controller.log();
  EXPECT_EQ(prom.wait_for("heron_marathon_topologies{phase=\"Waiting\"} == 0", kWait).size(), 1u);
}

}  // namespace
