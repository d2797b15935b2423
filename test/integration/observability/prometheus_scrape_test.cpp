// A real Prometheus scrapes ControllerMetrics' exposer and loads the shipped
// alert rules; the test asks Prometheus's HTTP API for the series.
#include "hmc/metrics/controller_metrics.hpp"

#include "hmc/testing/process.hpp"
#include "hmc/testing/prometheus_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace hmc::metrics {
namespace {

using namespace std::chrono_literals;
using hmc::testing::PrometheusServer;

constexpr auto kWait = std::chrono::milliseconds{30000};

hmc::testing::PrometheusServerOptions fast_scrape(std::vector<std::string> rule_files = {}) {
  hmc::testing::PrometheusServerOptions o;
  o.scrape_interval = 500ms;
  o.rule_files = std::move(rule_files);
  return o;
}

double single_value(PrometheusServer& prom, const std::string& promql) {
  const auto samples = prom.wait_for(promql, kWait);
  EXPECT_EQ(samples.size(), 1u) << promql << "\n" << prom.log();
  return samples.empty() ? -1 : samples.front().value;
}

TEST(PrometheusScrape, PrometheusSeesEveryControllerSeriesWithItsValue) {
  ControllerMetrics m("9.9.9-test", "replica-a");
  ASSERT_TRUE(m.start_exposer("127.0.0.1:0"));
  m.set_leader(true);
  m.zk_session_state(kZkConnected);
  m.set_topologies_by_phase({{"Running", 2}, {"Waiting", 1}});
  for (int i = 0; i < 3; ++i) m.reconcile_done(ReconcileResult::success, 0.05);
  m.reconcile_done(ReconcileResult::error, 0.5);
  m.reconcile_error();
  m.queue_depth(4);
  m.marathon_request("GET", "/v2/groups/heron/topologies/word-count?embed=group.apps", 200, 0.02);
  m.marathon_request("PUT", "/v2/groups/heron/topologies/word-count", 409, 0.03);
  m.set_topology_waiting("word-count", 120);
  m.set_declined_offers("word-count", "InsufficientMemory", 7);

  PrometheusServer prom({{"heron-marathon-controller", "127.0.0.1:" + std::to_string(m.exposer_port())}},
                        fast_scrape());

  EXPECT_EQ(single_value(prom, "heron_marathon_build_info{version=\"9.9.9-test\",identity=\"replica-a\"}"), 1);
  EXPECT_EQ(prom.target_health()["heron-marathon-controller"], "up");
  EXPECT_EQ(single_value(prom, "heron_marathon_topologies{phase=\"Running\"}"), 2);
  EXPECT_EQ(single_value(prom, "heron_marathon_topologies{phase=\"Waiting\"}"), 1);
  EXPECT_EQ(single_value(prom, "heron_marathon_topologies{phase=\"Failed\"}"), 0);
  EXPECT_EQ(prom.query("heron_marathon_topologies").size(), topology_phases().size());
  EXPECT_EQ(single_value(prom, "heron_marathon_reconcile_total{result=\"success\"}"), 3);
  EXPECT_EQ(single_value(prom, "heron_marathon_reconcile_total{result=\"requeue\"}"), 0);
  EXPECT_EQ(single_value(prom, "heron_marathon_reconcile_errors_total"), 1);
  EXPECT_EQ(single_value(prom, "heron_marathon_reconcile_time_seconds_count"), 4);
  EXPECT_EQ(single_value(prom, "heron_marathon_workqueue_depth"), 4);
  EXPECT_EQ(single_value(prom, "heron_marathon_leader"), 1);
  EXPECT_EQ(single_value(prom, "heron_marathon_zookeeper_session_state"), kZkConnected);
  EXPECT_EQ(single_value(prom, "heron_marathon_marathon_requests_total{method=\"GET\",route=\"/v2/groups/{id}\",code=\"200\"}"), 1);
  EXPECT_EQ(single_value(prom, "heron_marathon_marathon_requests_total{method=\"PUT\",route=\"/v2/groups/{id}\",code=\"409\"}"), 1);
  EXPECT_EQ(single_value(prom, "heron_marathon_topology_waiting_seconds{topology=\"word-count\"}"), 120);
  EXPECT_EQ(single_value(prom, "heron_marathon_declined_offers{topology=\"word-count\",reason=\"InsufficientMemory\"}"), 7);

  // Route labels are templates: no series carries a raw Marathon path.
  for (const auto& s : prom.query("{__name__=~\"heron_marathon_marathon_.*\"}")) {
    ASSERT_TRUE(s.labels.count("route"));
    EXPECT_EQ(s.labels.at("route").find("word-count"), std::string::npos);
  }

  // Values move between scrapes.
  m.set_topologies_by_phase({{"Running", 3}});
  EXPECT_EQ(prom.wait_for("heron_marathon_topologies{phase=\"Running\"} == 3", kWait).size(), 1u);
  EXPECT_EQ(single_value(prom, "heron_marathon_topologies{phase=\"Waiting\"}"), 0);

  // A topology that stops waiting disappears from Prometheus (stale after the next scrape).
  m.clear_topology("word-count");
  EXPECT_TRUE(hmc::testing::wait_until([&] { return prom.query("heron_marathon_topology_waiting_seconds").empty(); },
                                       kWait, 250ms));
  EXPECT_TRUE(prom.query("heron_marathon_declined_offers").empty());
}

TEST(PrometheusScrape, ShippedAlertRulesFireOnScrapedSeries) {
  ControllerMetrics m("9.9.9-test", "replica-a");
  ASSERT_TRUE(m.start_exposer("127.0.0.1:0"));
  m.set_leader(true);
  m.zk_session_state(kZkConnected);
  m.set_topology_waiting("word-count", 601);
  m.set_declined_offers("word-count", "InsufficientCpus", 12);

  PrometheusServer prom({{"heron-marathon-controller", "127.0.0.1:" + std::to_string(m.exposer_port())}},
                        fast_scrape({std::string(HMC_SOURCE_DIR) + "/manifests/prometheus-rules.yaml"}));

  const auto firing =
      prom.wait_for("ALERTS{alertname=\"HeronMarathonTopologyWaiting\",alertstate=\"firing\"}", kWait);
  ASSERT_EQ(firing.size(), 1u) << prom.log();
  EXPECT_EQ(firing.front().labels.at("topology"), "word-count");
  EXPECT_EQ(firing.front().labels.at("severity"), "warning");

  // A leader and a connected session: those alerts stay quiet.
  EXPECT_TRUE(prom.query("ALERTS{alertname=~\"HeronMarathonNoLeader|HeronMarathonZooKeeperSessionLost\"}").empty());

  // Losing the session makes the ZooKeeper alert pending (it fires after 1m).
  m.zk_session_state(kZkExpired);
  m.zk_session_expired();
  const auto pending =
      prom.wait_for("ALERTS{alertname=\"HeronMarathonZooKeeperSessionLost\",alertstate=\"pending\"}", kWait);
  EXPECT_EQ(pending.size(), 1u);
  EXPECT_EQ(prom.wait_for("ALERTS{alertname=\"HeronMarathonZooKeeperSessionExpired\"}", kWait).size(), 1u);
}

TEST(PrometheusScrape, BadQueriesAreReportedNotSwallowed) {
  PrometheusServer prom({});
  EXPECT_THROW(prom.query("sum(("), std::runtime_error);
  EXPECT_TRUE(prom.query("heron_marathon_leader").empty());
}

}  // namespace
}  // namespace hmc::metrics
