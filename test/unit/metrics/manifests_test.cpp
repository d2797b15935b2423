// The shipped Grafana dashboard and alert rules only use series the
// controller exports.
#include "hmc/metrics/controller_metrics.hpp"

#include "hmc/testing/process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace hmc::metrics {
namespace {

const std::string kManifests = std::string(HMC_SOURCE_DIR) + "/manifests/";

// Every sample name of a ControllerMetrics whose late series (requests by
// code, waiting topologies, declined offers, container failures, the DC/OS
// login's) have been created once.
std::set<std::string> exported_names() {
  ControllerMetrics m("v", "id");
  m.marathon_request("GET", "/v2/queue", 200, 0.01);
  m.set_topology_waiting("t", 1);
  m.set_declined_offers("t", "InsufficientCpus", 1);
  m.add_container_failures("t", 1);
  m.enable_dcos_login();
  std::set<std::string> names;
  std::istringstream in(m.render_text());
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

std::vector<std::string> metric_refs(const std::string& expr) {
  static const std::regex re("heron_marathon_[a-zA-Z0-9_:]*");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back(it->str());
  return out;
}

void collect_panels(const boost::json::array& panels, std::vector<const boost::json::object*>& out) {
  for (const auto& p : panels) {
    const auto& o = p.as_object();
    out.push_back(&o);
    if (const auto* nested = o.if_contains("panels"); nested && nested->is_array())
      collect_panels(nested->as_array(), out);
  }
}

TEST(Manifests, GrafanaDashboardIsValidJsonUsingOnlyExportedSeries) {
  const auto text = hmc::testing::read_file(kManifests + "grafana-dashboard.json");
  ASSERT_FALSE(text.empty());
  boost::system::error_code ec;
  const auto doc = boost::json::parse(text, ec);
  ASSERT_FALSE(ec) << "grafana-dashboard.json: " << ec.message();
  const auto& dash = doc.as_object();
  ASSERT_TRUE(dash.at("title").is_string());
  ASSERT_TRUE(dash.at("schemaVersion").is_int64());

  std::vector<const boost::json::object*> panels;
  collect_panels(dash.at("panels").as_array(), panels);
  const auto exported = exported_names();
  std::set<std::string> used;
  std::set<long long> ids;
  for (const auto* p : panels) {
    const std::string title(p->at("title").as_string());
    EXPECT_TRUE(ids.insert(p->at("id").as_int64()).second) << "duplicate panel id in " << title;
    if (p->at("type") == "row") continue;
    const auto& targets = p->at("targets").as_array();
    ASSERT_FALSE(targets.empty()) << title;
    for (const auto& t : targets) {
      const std::string expr(t.at("expr").as_string());
      const auto refs = metric_refs(expr);
      EXPECT_FALSE(refs.empty()) << title << ": " << expr;
      for (const auto& r : refs) {
        EXPECT_TRUE(exported.count(r)) << title << " uses " << r << ", which is not exported";
        used.insert(r);
      }
    }
  }
  // What the dashboard promises to show.
  for (const char* needed :
       {"heron_marathon_topologies", "heron_marathon_reconcile_total", "heron_marathon_reconcile_errors_total",
        "heron_marathon_reconcile_time_seconds_bucket", "heron_marathon_workqueue_depth",
        "heron_marathon_marathon_request_duration_seconds_bucket", "heron_marathon_marathon_requests_total",
        "heron_marathon_topology_waiting_seconds", "heron_marathon_declined_offers"})
    EXPECT_TRUE(used.count(needed)) << "the dashboard does not show " << needed;
}

TEST(Manifests, AlertRulesUseOnlyExportedSeries) {
  const auto root = YAML::LoadFile(kManifests + "prometheus-rules.yaml");
  const auto exported = exported_names();
  std::set<std::string> alerts;
  for (const auto& group : root["groups"]) {
    for (const auto& rule : group["rules"]) {
      const auto name = rule["alert"].as<std::string>();
      alerts.insert(name);
      const auto expr = rule["expr"].as<std::string>();
      const auto refs = metric_refs(expr);
      EXPECT_FALSE(refs.empty()) << name;
      for (const auto& r : refs) EXPECT_TRUE(exported.count(r)) << name << " uses " << r;
      EXPECT_TRUE(rule["labels"]["severity"]) << name;
      EXPECT_TRUE(rule["annotations"]["summary"]) << name;
    }
  }
  for (const char* needed : {"HeronMarathonTopologyWaiting", "HeronMarathonReconcileErrors",
                             "HeronMarathonZooKeeperSessionLost", "HeronMarathonNoLeader"})
    EXPECT_TRUE(alerts.count(needed)) << needed;
}

}  // namespace
}  // namespace hmc::metrics
