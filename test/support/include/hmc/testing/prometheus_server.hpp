#pragma once
// A real Prometheus for integration tests: Debian's `prometheus` on a free
// 127.0.0.1 port, storage in a temporary directory, and a generated scrape
// config that scrapes the given targets every `scrape_interval`.
//
//   hmc::testing::PrometheusServer prom({{"controller", "127.0.0.1:9464"}});
//   auto samples = prom.wait_for("heron_marathon_leader == 1", std::chrono::seconds(30));
//
// The destructor always stops the server and removes its storage, also when a
// test fails. Errors starting the server throw std::runtime_error with the
// tail of the server's log. Plain HTTP to any loopback server (the exposer,
// the health endpoints) goes through http_request() of marathon_sim.hpp.

#include "hmc/testing/process.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hmc::testing {

// Percent-encodes a query parameter value.
std::string url_encode(const std::string& s);

struct ScrapeTarget {
  std::string job;
  std::string address;  // "127.0.0.1:<port>"
};

struct PrometheusServerOptions {
  std::chrono::milliseconds scrape_interval{1000};
  std::vector<std::string> rule_files;  // loaded with evaluation_interval = scrape_interval
  std::chrono::milliseconds start_timeout{60000};
};

// One series of an instant vector: its labels (with __name__) and value.
struct PromSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

class PrometheusServer {
 public:
  explicit PrometheusServer(std::vector<ScrapeTarget> targets, PrometheusServerOptions options = {});
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  int port() const { return port_; }
  // Stops the server; the destructor does it too.
  void stop();

  // Instant query through /api/v1/query. Throws std::runtime_error when
  // Prometheus answers with an error (bad PromQL) or not at all. A scalar
  // result comes back as one sample without labels.
  std::vector<PromSample> query(const std::string& promql);
  // Repeats query() until it returns at least one sample, or `timeout` passes
  // (then returns the last, empty, result).
  std::vector<PromSample> wait_for(const std::string& promql, std::chrono::milliseconds timeout);
  // Health of every target as Prometheus sees it (job -> "up"/"down"/"unknown").
  std::map<std::string, std::string> target_health();

  std::string log() const;

 private:
  std::unique_ptr<TempDir> dir_;
  std::string log_file_;
  int port_ = 0;
  ChildProcess process_;
};

}  // namespace hmc::testing
