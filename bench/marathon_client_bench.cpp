// Throughput of the Marathon client (keep-alive pool, requests on the callers'
// threads, JSON parsing) against the in-process Beast test server.
//   marathon_client_bench [seconds per scenario, default 3]
// Each observation is three requests (groups, deployments, queue).
#include "hmc/marathon/marathon_client.hpp"
#include "test_server.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using hmc::marathon::testing::RecordedRequest;
using hmc::marathon::testing::Reply;

std::string groups_body(int topologies, int containers) {
  std::string body = R"({"id":"/heron/topologies","groups":[)";
  for (int t = 0; t < topologies; ++t) {
    if (t) body += ',';
    const std::string g = "/heron/topologies/t" + std::to_string(t);
    body += R"({"id":")" + g + R"(","version":"2024-01-01T00:00:00.000Z","apps":[)";
    for (int c = 0; c < containers; ++c) {
      if (c) body += ',';
      body += R"({"id":")" + g + "/" + std::to_string(c) +
              R"(","instances":1,"cpus":1,"mem":2048,"disk":1024,"cmd":"heron-executor --shard=)" +
              std::to_string(c) +
              R"(","container":{"type":"DOCKER","docker":{"image":"heron/heron:0.20"}},)"
              R"("labels":{"heron-marathon/managed-by":"heron-marathon-controller","heron-marathon/container":")" +
              std::to_string(c) + R"("},"tasksRunning":1,"tasksHealthy":1,"deployments":[]})";
    }
    body += "]}";
  }
  return body + "]}";
}

struct Scenario {
  const char* name;
  int topologies;
  int threads;
  int max_connections;
};

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 3;
  const std::vector<Scenario> scenarios = {
      {"observe, 1 topology, 1 thread", 1, 1, 8},
      {"observe, 1 topology, 4 threads", 1, 4, 8},
      {"observe, 1 topology, 8 threads, pool of 2", 1, 8, 2},
      {"observe, 100 topologies x 5 apps, 1 thread", 100, 1, 8},
      {"observe, 100 topologies x 5 apps, 4 threads", 100, 4, 8},
  };
  {
    // The parser alone, on the same 100 x 5 body.
    const std::string body = groups_body(100, 5);
    const int n = 200;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      if (!hmc::marathon::parse_groups(body, "/heron/topologies")) return 1;
    }
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
    std::printf("parse_groups, 100 topologies x 5 apps (%zu bytes): %.0f us per parse\n\n", body.size(), us);
  }
  std::printf("| scenario | observations/s | requests/s | connections |\n|---|---|---|---|\n");
  for (const auto& s : scenarios) {
    const std::string groups = groups_body(s.topologies, 5);
    hmc::marathon::testing::TestServer server([&](const RecordedRequest& r) {
      if (r.target.starts_with("/v2/groups")) return Reply{200, groups};
      if (r.target.starts_with("/v2/deployments")) return Reply{200, "[]"};
      return Reply{200, R"({"queue":[]})"};
    });
    hmc::marathon::MarathonOptions options;
    options.base_url = server.url();
    options.max_connections = s.max_connections;
    auto client = std::move(hmc::marathon::make_client(options).value());
    std::atomic<long> done{0};
    std::atomic<long> failed{0};
    std::atomic<bool> stop{false};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < s.threads; ++t) {
      threads.emplace_back([&] {
        while (!stop.load()) {
          if (client->observe("/heron/topologies")) {
            ++done;
          } else {
            ++failed;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds{seconds});
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("| %s | %.0f | %.0f | %d |%s\n", s.name, done / elapsed, 3 * done / elapsed, server.accepted(),
                failed ? " (failures!)" : "");
  }
}
