#include "hmc/metrics/controller_metrics.hpp"

#include "hmc/testing/marathon_sim.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace hmc::metrics {
namespace {

// The value of the sample line `series` (name plus labels exactly as
// rendered), or nullopt when the series is absent.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

TEST(ControllerMetrics, EverySeriesWithKnownLabelsExistsFromTheStart) {
  ControllerMetrics m("1.2.3", "replica-a");
  const auto text = m.render_text();
  for (const char* r : {"success", "error", "requeue", "requeue_after"})
    EXPECT_EQ(sample(text, std::string("heron_marathon_reconcile_total{result=\"") + r + "\"}"), 0.0) << r;
  for (const auto& p : topology_phases())
    EXPECT_EQ(sample(text, "heron_marathon_topologies{phase=\"" + p + "\"}"), 0.0) << p;
  for (const char* s : {"reconcile_errors_total", "workqueue_depth", "workqueue_adds_total",
                        "workqueue_retries_total", "workqueue_unfinished_work_seconds",
                        "workqueue_longest_running_processor_seconds", "active_workers", "leader",
                        "zookeeper_session_state", "zookeeper_session_expirations_total",
                        "drift_repairs_total", "orphans_cleaned_total", "reconcile_time_seconds_count",
                        "workqueue_queue_duration_seconds_count", "workqueue_work_duration_seconds_count"})
    EXPECT_EQ(sample(text, std::string("heron_marathon_") + s), 0.0) << s;
  EXPECT_EQ(sample(text, "heron_marathon_build_info{identity=\"replica-a\",version=\"1.2.3\"}"), 1.0) << text;
  EXPECT_EQ(sample(text, "heron_marathon_marathon_request_duration_seconds_count{method=\"GET\",route=\"/v2/groups/{id}\"}"),
            0.0);
}

TEST(ControllerMetrics, ReconcileAndQueueHooksMoveTheirSeries) {
  ControllerMetrics m("v", "id");
  m.reconcile_done(ReconcileResult::success, 0.02);
  m.reconcile_done(ReconcileResult::success, 0.03);
  m.reconcile_done(ReconcileResult::requeue_after, 0.5);
  m.reconcile_done(ReconcileResult::error, 2);
  m.reconcile_error();
  m.queue_add();
  m.queue_add();
  m.queue_depth(7);
  m.queue_wait(0.001);
  m.work_time(0.2);
  m.retry();
  m.unfinished_work(3.5);
  m.longest_running(2.5);
  m.active_workers(4);
  m.set_leader(true);
  m.zk_session_state(kZkConnected);
  m.zk_session_expired();
  m.drift_repaired();
  m.orphan_cleaned();
  m.orphan_cleaned();
  const auto text = m.render_text();
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_total{result=\"success\"}"), 2.0);
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_total{result=\"requeue_after\"}"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_total{result=\"error\"}"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_total{result=\"requeue\"}"), 0.0);
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_errors_total"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_time_seconds_count"), 4.0);
  EXPECT_DOUBLE_EQ(*sample(text, "heron_marathon_reconcile_time_seconds_sum"), 2.55);
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_time_seconds_bucket{le=\"0.025\"}"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_time_seconds_bucket{le=\"+Inf\"}"), 4.0);
  EXPECT_EQ(sample(text, "heron_marathon_workqueue_adds_total"), 2.0);
  EXPECT_EQ(sample(text, "heron_marathon_workqueue_depth"), 7.0);
  EXPECT_EQ(sample(text, "heron_marathon_workqueue_queue_duration_seconds_count"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_workqueue_work_duration_seconds_count"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_workqueue_retries_total"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_workqueue_unfinished_work_seconds"), 3.5);
  EXPECT_EQ(sample(text, "heron_marathon_workqueue_longest_running_processor_seconds"), 2.5);
  EXPECT_EQ(sample(text, "heron_marathon_active_workers"), 4.0);
  EXPECT_EQ(sample(text, "heron_marathon_leader"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_zookeeper_session_state"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_zookeeper_session_expirations_total"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_drift_repairs_total"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_orphans_cleaned_total"), 2.0);
  m.set_leader(false);
  EXPECT_EQ(sample(m.render_text(), "heron_marathon_leader"), 0.0);
}

TEST(ControllerMetrics, MarathonRequestsUseRouteTemplatesNeverRawPaths) {
  ControllerMetrics m("v", "id");
  m.marathon_request("GET", "/v2/groups/heron/topologies/word-count?embed=group.apps", 200, 0.01);
  m.marathon_request("GET", "/v2/groups/{id}", 200, 0.02);
  m.marathon_request("PUT", "/v2/groups/heron/topologies/secret-name", 409, 0.03);
  m.marathon_request("DELETE", "/v2/deployments/5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43", 0, 3);
  m.marathon_request("BREW", "/coffee/pot-17", 418, 0.1);
  const auto text = m.render_text();
  EXPECT_EQ(sample(text, "heron_marathon_marathon_requests_total{code=\"200\",method=\"GET\",route=\"/v2/groups/{id}\"}"), 2.0)
      << text;
  EXPECT_EQ(sample(text, "heron_marathon_marathon_requests_total{code=\"409\",method=\"PUT\",route=\"/v2/groups/{id}\"}"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_marathon_requests_total{code=\"error\",method=\"DELETE\",route=\"/v2/deployments/{id}\"}"),
            1.0);
  EXPECT_EQ(sample(text, "heron_marathon_marathon_requests_total{code=\"418\",method=\"other\",route=\"other\"}"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_marathon_request_duration_seconds_count{method=\"GET\",route=\"/v2/groups/{id}\"}"), 2.0);
  EXPECT_EQ(text.find("word-count"), std::string::npos);
  EXPECT_EQ(text.find("secret-name"), std::string::npos);
  EXPECT_EQ(text.find("5ed4c0c5"), std::string::npos);
  EXPECT_EQ(text.find("coffee"), std::string::npos);
}

TEST(ControllerMetrics, LabelHelpersMapToBoundedValues) {
  EXPECT_EQ(route_label("/v2/groups"), "/v2/groups");
  EXPECT_EQ(route_label("/v2/groups/"), "/v2/groups");
  EXPECT_EQ(route_label("/v2/groups?force=true"), "/v2/groups");
  EXPECT_EQ(route_label("/v2/apps/heron/topologies/x/0"), "/v2/apps/{id}");
  EXPECT_EQ(route_label("/v2/queue?embed=lastUnusedOffers"), "/v2/queue");
  EXPECT_EQ(route_label("/ping"), "/ping");
  EXPECT_EQ(route_label("/service/marathon/v2/info"), "other");
  EXPECT_EQ(route_label(""), "other");
  EXPECT_EQ(method_label("get"), "other");
  EXPECT_EQ(method_label("PATCH"), "PATCH");
  EXPECT_EQ(code_label(0), "error");
  EXPECT_EQ(code_label(-5), "error");
  EXPECT_EQ(code_label(503), "503");
  EXPECT_EQ(code_label(1000), "other");
}

TEST(ControllerMetrics, PhasesNotReportedFallBackToZeroAndUnknownPhasesAreIgnored) {
  ControllerMetrics m("v", "id");
  m.set_topologies_by_phase({{"Running", 3}, {"Waiting", 1}});
  m.set_topologies_by_phase({{"Running", 2}, {"Exploded", 9}});
  const auto text = m.render_text();
  EXPECT_EQ(sample(text, "heron_marathon_topologies{phase=\"Running\"}"), 2.0);
  EXPECT_EQ(sample(text, "heron_marathon_topologies{phase=\"Waiting\"}"), 0.0);
  EXPECT_EQ(text.find("Exploded"), std::string::npos);
}

TEST(ControllerMetrics, WaitingSeriesLiveOnlyAsLongAsTheTopologyWaits) {
  ControllerMetrics m("v", "id");
  m.set_topology_waiting("word-count", 42);
  EXPECT_TRUE(m.set_declined_offers("word-count", "InsufficientMemory", 12));
  EXPECT_TRUE(m.set_declined_offers("word-count", "InsufficientCpus", 3));
  EXPECT_FALSE(m.set_declined_offers("word-count", "BadWeather", 1));
  m.set_topology_waiting("other", 5);
  auto text = m.render_text();
  EXPECT_EQ(sample(text, "heron_marathon_topology_waiting_seconds{topology=\"word-count\"}"), 42.0);
  EXPECT_EQ(sample(text, "heron_marathon_declined_offers{reason=\"InsufficientMemory\",topology=\"word-count\"}"), 12.0);
  EXPECT_EQ(sample(text, "heron_marathon_declined_offers{reason=\"InsufficientCpus\",topology=\"word-count\"}"), 3.0);
  EXPECT_EQ(text.find("BadWeather"), std::string::npos);

  m.clear_topology("word-count");
  m.clear_topology("never-seen");
  text = m.render_text();
  EXPECT_EQ(text.find("word-count"), std::string::npos) << text;
  EXPECT_EQ(sample(text, "heron_marathon_topology_waiting_seconds{topology=\"other\"}"), 5.0);

  // It may wait again later.
  m.set_topology_waiting("word-count", 1);
  EXPECT_EQ(sample(m.render_text(), "heron_marathon_topology_waiting_seconds{topology=\"word-count\"}"), 1.0);
}

TEST(ControllerMetrics, DcosLoginSeriesExistOnlyWhenTheControllerLogsIn) {
  ControllerMetrics m("v", "id");
  m.dcos_login("success", 100);  // not enabled: nothing
  EXPECT_EQ(m.render_text().find("dcos"), std::string::npos);

  m.enable_dcos_login();
  m.enable_dcos_login();  // twice is harmless
  auto text = m.render_text();
  for (const char* r : {"success", "refused", "unavailable", "error"})
    EXPECT_EQ(sample(text, std::string("heron_marathon_dcos_logins_total{result=\"") + r + "\"}"), 0.0) << r;
  EXPECT_EQ(sample(text, "heron_marathon_dcos_token_expiry_timestamp_seconds"), 0.0);

  m.dcos_login("success", 1.7e9);
  m.dcos_login("refused");
  m.dcos_login("refused");
  m.dcos_login("weather");  // not a result: counted as error
  text = m.render_text();
  EXPECT_EQ(sample(text, "heron_marathon_dcos_logins_total{result=\"success\"}"), 1.0);
  EXPECT_EQ(sample(text, "heron_marathon_dcos_logins_total{result=\"refused\"}"), 2.0);
  EXPECT_EQ(sample(text, "heron_marathon_dcos_logins_total{result=\"error\"}"), 1.0);
  EXPECT_EQ(text.find("weather"), std::string::npos);
  // A failed login leaves the expiry of the token still held.
  EXPECT_EQ(sample(text, "heron_marathon_dcos_token_expiry_timestamp_seconds"), 1.7e9);
}

TEST(ControllerMetrics, ConcurrentHooksLoseNoCounts) {
  ControllerMetrics m("v", "id");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i) {
        m.reconcile_done(ReconcileResult::success, 0.001);
        m.marathon_request("GET", "/v2/queue", 200 + (i % 2), 0.001);
        m.set_topology_waiting("t" + std::to_string(t), i);
        if (i % 10 == 0) m.clear_topology("t" + std::to_string(t));
      }
    });
  for (auto& th : threads) th.join();
  const auto text = m.render_text();
  EXPECT_EQ(sample(text, "heron_marathon_reconcile_total{result=\"success\"}"), 4000.0);
  EXPECT_EQ(sample(text, "heron_marathon_marathon_requests_total{code=\"200\",method=\"GET\",route=\"/v2/queue\"}"), 2000.0);
  EXPECT_EQ(sample(text, "heron_marathon_marathon_requests_total{code=\"201\",method=\"GET\",route=\"/v2/queue\"}"), 2000.0);
}

TEST(ControllerMetrics, EveryExportedNameCarriesThePrefix) {
  ControllerMetrics m("v", "id");
  const auto text = m.render_text();
  std::istringstream in(text);
  int families = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    ++families;
    EXPECT_EQ(line.rfind("# TYPE heron_marathon_", 0), 0u) << line;
  }
  // 22 families; the three whose labels are only known later (requests by
  // code, per-topology waiting and declined offers) have no series yet.
  EXPECT_EQ(families, 19);
}

TEST(ControllerMetrics, ExposerServesMetricsAndNamesAMalformedOrBusyAddress) {
  ControllerMetrics m("v", "id");
  auto bad = m.start_exposer("127.0.0.1");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("127.0.0.1"), std::string::npos);
  EXPECT_NE(bad.error().message.find("HOST:PORT"), std::string::npos);
  bad = m.start_exposer("127.0.0.1:http");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'http'"), std::string::npos);

  ASSERT_TRUE(m.start_exposer("127.0.0.1:0"));
  const int port = m.exposer_port();
  EXPECT_GT(port, 0);
  m.set_leader(true);
  const auto scraped = hmc::testing::http_request(port, "GET", "/metrics");
  EXPECT_EQ(scraped.status, 200);
  EXPECT_NE(scraped.body.find("heron_marathon_leader 1"), std::string::npos) << scraped.body;

  ControllerMetrics other("v", "id");
  const std::string taken = "127.0.0.1:" + std::to_string(port);
  auto busy = other.start_exposer(taken);
  ASSERT_FALSE(busy);
  EXPECT_NE(busy.error().message.find(taken), std::string::npos) << busy.error().message;
  EXPECT_EQ(busy.error().kind, ErrorKind::unavailable);

  auto twice = m.start_exposer("127.0.0.1:0");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().kind, ErrorKind::invalid);
}

}  // namespace
}  // namespace hmc::metrics
