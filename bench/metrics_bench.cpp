// Cost of the ControllerMetrics hooks on the controller's hot paths, and of
// rendering the exposition with many waiting topologies.
//   metrics_bench [iterations]
#include "hmc/metrics/controller_metrics.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double ns_per_op(long n, const std::function<void(long)>& op) {
  const auto t0 = clock_type::now();
  for (long i = 0; i < n; ++i) op(i);
  return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  hmc::metrics::ControllerMetrics m("bench", "bench");
  std::printf("hook                                   ns/op (%ld iterations)\n", n);
  std::printf("reconcile_done                         %8.1f\n",
              ns_per_op(n, [&](long i) { m.reconcile_done(hmc::metrics::ReconcileResult::success, 0.001 * (i % 100)); }));
  std::printf("queue_add + queue_depth                %8.1f\n", ns_per_op(n, [&](long i) {
                m.queue_add();
                m.queue_depth(i % 50);
              }));
  std::printf("marathon_request (template route)      %8.1f\n",
              ns_per_op(n, [&](long) { m.marathon_request("GET", "/v2/groups/{id}", 200, 0.01); }));
  std::printf("marathon_request (raw path + query)    %8.1f\n", ns_per_op(n, [&](long) {
                m.marathon_request("PUT", "/v2/groups/heron/topologies/word-count?force=false", 200, 0.01);
              }));
  std::printf("set_topology_waiting (existing)        %8.1f\n",
              ns_per_op(n, [&](long i) { m.set_topology_waiting("word-count", static_cast<double>(i)); }));

  // Two threads reporting Marathon requests at once (the client's pool).
  const auto t0 = clock_type::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      for (long i = 0; i < n; ++i) m.marathon_request("GET", "/v2/queue", 200, 0.01);
    });
  for (auto& th : threads) th.join();
  std::printf("marathon_request, 2 threads (per op)   %8.1f\n",
              std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() / static_cast<double>(2 * n));

  for (int k = 0; k < 1000; ++k) {
    const std::string name = "topology-" + std::to_string(k);
    m.set_topology_waiting(name, k);
    m.set_declined_offers(name, "InsufficientCpus", k);
    m.set_declined_offers(name, "InsufficientMemory", k);
  }
  std::string text;
  const auto r0 = clock_type::now();
  const int renders = 20;
  for (int i = 0; i < renders; ++i) text = m.render_text();
  std::printf("render_text, 1000 waiting topologies   %8.2f ms (%zu bytes)\n",
              std::chrono::duration<double, std::milli>(clock_type::now() - r0).count() / renders, text.size());
  return 0;
}
