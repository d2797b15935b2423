// Benchmark of a real ZooKeeper server (the test harness's, Debian's
// ZooKeeperServerMain) under the controller's bulk access: N nodes created in
// multis of 100, then read back from a fresh session as one pipelined batch
// (ZkClient::get_each, as the controller reads desired nodes), with a watch
// on each node and without. For each server connection setup it reports wall
// time and the server's CPU per node (/proc/<pid>/stat), and the client's CPU:
//   nio         the default NIO factory (requests handed to a pool of workers);
//   nio-direct  NIO with zookeeper.nio.numWorkerThreads=0 (requests handled on
//               the selector thread);
//   netty       zookeeper.serverCnxnFactory=NettyServerCnxnFactory.
//
// Usage: zookeeper_bench [--nodes N] [--rounds R] [--data-bytes B] [--factory nio,nio-direct,netty]
#include "hmc/testing/process.hpp"
#include "hmc/testing/zookeeper_server.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
namespace zk = hmc::zk;

double ms(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::unique_ptr<zk::ZkClient> connect(const std::string& to) {
  zk::ZkOptions o;
  o.connect = to;
  o.session_timeout = 10s;
  o.connect_timeout = 20s;
  auto c = zk::connect(o);
  if (!c) throw std::runtime_error("cannot connect to ZooKeeper: " + c.error().message);
  return std::move(*c);
}

void in_multis(zk::ZkClient& c, const std::vector<zk::Op>& ops) {
  for (std::size_t i = 0; i < ops.size(); i += 100) {
    std::vector<zk::Op> batch(ops.begin() + static_cast<std::ptrdiff_t>(i),
                              ops.begin() + static_cast<std::ptrdiff_t>(std::min(ops.size(), i + 100)));
    if (auto r = c.multi(batch); !r) throw std::runtime_error("multi: " + r.error().message);
  }
}

struct Sample {
  double wall_ms, server_cpu_s, client_cpu_s;
};

template <class F>
Sample measure(pid_t server, F&& f) {
  const double s0 = hmc::testing::cpu_seconds(server), c0 = hmc::testing::cpu_seconds(::getpid());
  const auto t0 = steady::now();
  f();
  const double wall = ms(steady::now() - t0);
  return {wall, hmc::testing::cpu_seconds(server) - s0, hmc::testing::cpu_seconds(::getpid()) - c0};
}

void print(const char* what, const Sample& s, int n) {
  std::printf("  %-22s %7.0f ms  server %5.2f CPU-s (%4.0f us per node)  client %5.2f CPU-s\n", what, s.wall_ms,
              s.server_cpu_s, 1e6 * s.server_cpu_s / n, s.client_cpu_s);
}

void run(const std::string& factory, int n, int rounds, std::size_t data_bytes) {
  hmc::testing::ZooKeeperServerOptions options;
  options.system_properties = hmc::testing::connection_properties(factory);
  hmc::testing::ZooKeeperServer server(options);
  auto writer = connect(server.connect_string());
  if (auto r = writer->ensure_path("/bench"); !r) throw std::runtime_error("ensure_path: " + r.error().message);
  const std::string data(data_bytes, 'x');
  std::vector<std::string> paths;
  std::vector<zk::Op> creates, deletes;
  for (int i = 0; i < n; ++i) {
    paths.push_back("/bench/n" + std::to_string(i));
    creates.push_back(zk::CreateOp{paths.back(), data});
    deletes.push_back(zk::DeleteOp{paths.back(), -1});
  }
  std::printf("%s, %d nodes of %zu bytes:\n", factory.c_str(), n, data_bytes);
  // Round 0 warms the JVM up (its hot paths compiled) and is not printed.
  for (int round = 0; round <= rounds; ++round) {
    const bool shown = round > 0;
    if (shown) std::printf(" round %d\n", round);
    auto create = measure(server.pid(), [&] { in_multis(*writer, creates); });
    for (bool watch : {true, false}) {
      auto reader = connect(server.connect_string());
      std::size_t failed = 0;
      auto read = measure(server.pid(), [&] {
        reader->get_each(
            paths, [&](const std::string&) { return watch ? zk::Watcher([](auto, auto&) {}) : zk::Watcher{}; },
            [&](std::size_t, hmc::Result<zk::Node> node) { failed += node ? 0 : 1; });
      });
      if (failed) throw std::runtime_error(std::to_string(failed) + " reads failed");
      if (shown) print(watch ? "pipelined get + watch" : "pipelined get", read, n);
    }
    if (shown) print("create (multis of 100)", create, n);
    in_multis(*writer, deletes);
    std::this_thread::sleep_for(300ms);
  }
}

}  // namespace

int main(int argc, char** argv) try {
  int n = 10000, rounds = 3;
  std::size_t data_bytes = 600;
  std::string factories = "nio,nio-direct,netty";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value for " + a);
      return argv[++i];
    };
    if (a == "--nodes") n = std::max(1, std::stoi(val()));
    else if (a == "--rounds") rounds = std::max(1, std::stoi(val()));
    else if (a == "--data-bytes") data_bytes = static_cast<std::size_t>(std::max(0, std::stoi(val())));
    else if (a == "--factory") factories = val();
    else throw std::runtime_error("unknown option " + a);
  }
  std::vector<std::string> chosen;
  for (std::size_t at = 0; at <= factories.size();) {
    const auto comma = std::min(factories.find(',', at), factories.size());
    chosen.push_back(factories.substr(at, comma - at));
    (void)hmc::testing::connection_properties(chosen.back());  // throws for an unknown name
    at = comma + 1;
  }
  for (const auto& factory : chosen) run(factory, n, rounds, data_bytes);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "zookeeper_bench: %s\n", e.what());
  return 1;
}
