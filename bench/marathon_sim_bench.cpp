// Benchmark of marathon-sim over loopback: POSTs per second while loading
// 10,000 apps in 5,000 groups, the time of one offer cycle that places them,
// and the time of GET of the root group with app embeds (the controller's
// bulk observation), unchanged between GETs and with one app added before
// each. GETs report the time to the first byte of the answer (the simulator
// renders the whole body before it sends any of it, so this is how long its
// only thread was busy) and to the last byte.
//
// Usage: marathon_sim_bench [--groups N] [--apps-per-group N] [--connections N] [--gets N]
#include "hmc/testing/marathon_sim.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// A blocking HTTP/1.1 keep-alive connection.
class Connection {
 public:
  explicit Connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect: " + std::string(std::strerror(errno)));
  }
  ~Connection() { ::close(fd_); }

  // Returns the status; the body in `body`. `first_byte`, when given, gets the
  // time from the request sent to the first byte of the answer.
  int request(const std::string& method, const std::string& target, const std::string& payload, std::string& body,
              clock_type::duration* first_byte = nullptr) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: marathon-sim-bench\r\n" +
                      "Content-Type: application/json\r\nContent-Length: " + std::to_string(payload.size()) +
                      "\r\n\r\n" + payload;
    std::size_t sent = 0;
    while (sent < req.size()) {
      auto n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<std::size_t>(n);
    }
    const auto sent_at = clock_type::now();
    if (in_.empty()) fill();
    if (first_byte) *first_byte = clock_type::now() - sent_at;
    std::size_t head_end;
    while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) fill();
    const int status = std::atoi(in_.c_str() + in_.find(' ') + 1);
    std::size_t length = 0;
    const std::string head = in_.substr(0, head_end);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    auto cl = lower.find("content-length:");
    if (cl != std::string::npos) length = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
    while (in_.size() < head_end + 4 + length) fill();
    body.assign(in_, head_end + 4, length);
    in_.erase(0, head_end + 4 + length);
    return status;
  }

 private:
  void fill() {
    char buf[1 << 16];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) throw std::runtime_error("connection closed");
    in_.append(buf, static_cast<std::size_t>(n));
  }
  int fd_ = -1;
  std::string in_;
};

std::string group_body(int g, int apps) {
  std::string s = "{\"id\":\"/heron/topologies/t" + std::to_string(g) + "\",\"apps\":[";
  for (int i = 0; i < apps; ++i) {
    if (i) s += ',';
    s += "{\"id\":\"" + std::to_string(i) +
         "\",\"cmd\":\"cd $MESOS_SANDBOX && ./heron-executor --shard=" + std::to_string(i) +
         "\",\"cpus\":0.1,\"mem\":64,\"disk\":64,\"instances\":1,"
         "\"labels\":{\"heron-marathon/managed-by\":\"heron-marathon-controller\",\"heron-marathon/topology\":\"t" +
         std::to_string(g) + "\",\"heron-marathon/container\":\"" + std::to_string(i) +
         "\"},\"container\":{\"type\":\"DOCKER\",\"docker\":{\"image\":\"heron/heron:0.20.5\",\"network\":\"BRIDGE\","
         "\"portMappings\":[{\"containerPort\":0,\"hostPort\":0,\"protocol\":\"tcp\",\"name\":\"server\"},"
         "{\"containerPort\":0,\"hostPort\":0,\"protocol\":\"tcp\",\"name\":\"tmanager-ctl\"}]}}}";
  }
  return s + "]}";
}

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
  double min, median, p95, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 95 / 100)], v.back()};
}

}  // namespace

int main(int argc, char** argv) {
  int groups = 5000, apps_per_group = 2, connections = 4, gets = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--groups") groups = v;
    else if (a == "--apps-per-group") apps_per_group = v;
    else if (a == "--connections") connections = v;
    else if (a == "--gets") gets = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  hmc::testing::MarathonSimOptions o;
  o.deterministic = true;
  o.extra_args = {"--quiet"};
  for (int i = 0; i < 50; ++i) o.agents.push_back("cpus=64,mem=262144,disk=1000000,ports=10000-30000");
  hmc::testing::MarathonSim sim(o);
  std::printf("marathon-sim bench: %d groups x %d apps = %d apps, 50 agents, %d connections\n", groups,
              apps_per_group, groups * apps_per_group, connections);

  // 1. POSTs per second, `connections` keep-alive clients in parallel.
  std::atomic<int> next{0}, failures{0};
  std::vector<double> post_ms(static_cast<std::size_t>(groups));
  const auto t0 = clock_type::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      Connection conn(sim.port());
      std::string body;
      for (int g = next++; g < groups; g = next++) {
        const auto payload = group_body(g, apps_per_group);
        const auto s = clock_type::now();
        if (conn.request("POST", "/v2/groups", payload, body) != 201) ++failures;
        post_ms[static_cast<std::size_t>(g)] = ms(clock_type::now() - s);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double post_total = ms(clock_type::now() - t0);
  auto ps = stats(post_ms);
  std::printf("POST /v2/groups: %d in %.0f ms = %.0f/s (latency ms: median %.2f, p95 %.2f, max %.2f), %d failed\n",
              groups, post_total, groups * 1000.0 / post_total, ps.median, ps.p95, ps.max, failures.load());

  // 2. Offer cycles that stage then run every task.
  for (int i = 0; i < 2; ++i) {
    const auto s = clock_type::now();
    sim.tick(1);
    std::printf("offer cycle %d (POST /_sim/tick): %.1f ms\n", i + 1, ms(clock_type::now() - s));
  }

  // 3. GET of the root group with app embeds, and of the controller's group root.
  Connection conn(sim.port());
  std::string body;
  const std::string observe =
      "/v2/groups/heron/topologies?embed=group.groups&embed=group.apps&embed=group.apps.counts"
      "&embed=group.apps.deployments&embed=group.apps.lastTaskFailure";
  auto report = [&](const std::string& what, const std::vector<double>& first, const std::vector<double>& total) {
    auto f = stats(first);
    auto t = stats(total);
    std::printf("%s: %zu bytes, first byte ms: min %.1f, median %.1f, p95 %.1f, max %.1f; "
                "last byte ms: median %.1f, p95 %.1f\n",
                what.c_str(), body.size(), f.min, f.median, f.p95, f.max, t.median, t.p95);
  };
  auto timed_get = [&](const std::string& target, std::vector<double>& first, std::vector<double>& total) {
    clock_type::duration fb{};
    const auto s = clock_type::now();
    if (conn.request("GET", target, {}, body, &fb) != 200) throw std::runtime_error("GET " + target + " failed");
    total.push_back(ms(clock_type::now() - s));
    first.push_back(ms(fb));
  };
  for (const std::string& target :
       {std::string("/v2/groups?embed=group.groups&embed=group.apps&embed=group.apps.counts"
                    "&embed=group.apps.deployments&embed=group.apps.lastTaskFailure"),
        observe, std::string("/v2/deployments"), std::string("/v2/queue?embed=lastUnusedOffers")}) {
    std::vector<double> first, total;
    for (int i = 0; i < gets; ++i) timed_get(target, first, total);
    report("GET " + target, first, total);
  }

  // 4. The controller's observation with one new app (a new topology) created before each GET.
  {
    std::vector<double> first, total;
    std::string answer;
    for (int i = 0; i < gets; ++i) {
      const auto payload = "{\"id\":\"/heron/topologies/added" + std::to_string(i) +
                           "/0\",\"cmd\":\"sleep 1\",\"cpus\":0.1,\"mem\":64,\"instances\":1}";
      if (conn.request("POST", "/v2/apps", payload, answer) != 201) throw std::runtime_error("POST /v2/apps failed");
      timed_get(observe, first, total);
    }
    report("GET " + observe + " (one app added before each)", first, total);
  }
  return failures.load() == 0 ? 0 : 1;
}
