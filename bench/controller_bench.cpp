// Benchmark of heron-marathon-controller against a real ZooKeeper and
// marathon-sim (docs/benchmarks.md, "Controller"):
//  1. floor: the group bodies the controller would build, POSTed straight to a
//     fresh marathon-sim over `--concurrency` keep-alive connections; time until
//     every app runs;
//  2. the real controller: N desired nodes written to ZooKeeper at once from
//     `--concurrency` threads (multis of `--write-batch` creates); time until
//     every app runs; Marathon requests per
//     kind (from the simulator's request log, by User-Agent); for this run
//     and the floor, POSTs per 250 ms and the CPU of each process per 250 ms;
//  3. idle cost once converged: CPU of the controller over `--idle-seconds`,
//     VmRSS per topology (minus the RSS of the same process with 0 topologies);
//  4. latency of single writes: ZooKeeper create returning -> the POST in the
//     simulator's request log (its `at`, millisecond resolution).
// "Every app runs" is read from GET /_sim/state: apps == tasks == 2N and no
// deployment left (a deployment ends when its instances are running).
//
// Usage: controller_bench [--topologies N] [--concurrency C] [--workers W]
//          [--observe-interval D] [--idle-seconds S] [--latency-samples K] [--no-floor]
//          [--write-batch B] (desired nodes per ZooKeeper multi, default 100; 1: one create each)
//          [--zk-warmup N] (nodes written and removed in ZooKeeper before measuring, default 20000)
//          [--zk-connection nio|nio-direct|netty] (ZooKeeper's client connections, default netty:
//                                                 bench/zookeeper_bench.cpp shows why)
//          [--log-level L] [--keep-log FILE]   (the controller's log level, and a copy of its log)
//          [--max-running-deployments N] (marathon-sim's, as Marathon's --max_running_deployments, for
//                                         the controller's run; default 100, Marathon's; 0: no limit.
//                                         The floor client does not retry, so its run has no limit)
//          [--deployment-limit-hold D] (the controller's flag)
#include "hmc/common/clock.hpp"
#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/reconcile.hpp"
#include "hmc/testing/marathon_sim.hpp"
#include "hmc/testing/process.hpp"
#include "hmc/testing/zookeeper_server.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using hmc::testing::MarathonSim;
using hmc::testing::MarathonSimOptions;

double ms(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// A blocking HTTP/1.1 keep-alive connection (the floor client).
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
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int post(const std::string& target, const std::string& payload) {
    const std::string req = "POST " + target +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: controller-bench-floor\r\n"
                            "Content-Type: application/json\r\nContent-Length: " +
                            std::to_string(payload.size()) + "\r\n\r\n" + payload;
    std::size_t sent = 0;
    while (sent < req.size()) {
      auto n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<std::size_t>(n);
    }
    std::size_t head_end;
    while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) fill();
    const int status = std::atoi(in_.c_str() + in_.find(' ') + 1);
    std::string head = in_.substr(0, head_end);
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    std::size_t length = 0;
    if (auto cl = head.find("content-length:"); cl != std::string::npos)
      length = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
    while (in_.size() < head_end + 4 + length) fill();
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

std::string spec_json(const std::string& name) {
  json::object o;
  o["schemaVersion"] = 1;
  o["name"] = name;
  o["cluster"] = "local";
  o["role"] = "bench";
  o["environ"] = "test";
  o["containers"] = 1;
  o["resources"] = json::object{{"cpus", 0.01}, {"mem", 16}, {"disk", 16}};
  o["image"] = "heron/heron:0.20.5";
  o["package"] = "http://repo.example.org/topologies/" + name + ".tar.gz";
  o["state"] = "running";
  return json::serialize(o);
}

std::string name_of(int i) { return "t" + std::to_string(i); }

// Agents for `topologies` x 2 tasks of 9 ports, 0.01 cpus, 16 MiB each.
MarathonSimOptions sim_options(int topologies, int max_running_deployments) {
  MarathonSimOptions so;
  so.offer_period = "100ms";
  const int tasks = 2 * topologies;
  const int agents = tasks / 5000 + 1;  // 50,001 ports = 5,555 tasks per agent
  for (int i = 0; i < agents; ++i) so.agents.push_back("cpus=100,mem=200000,disk=200000,ports=10000-60000");
  so.extra_args = {"--request-log-limit", "1000000", "--max-running-deployments",
                   std::to_string(max_running_deployments)};
  return so;
}

struct SimState {
  long apps = 0, tasks = 0, deployments = 0;
};

SimState sim_state(const MarathonSim& sim) {
  auto r = sim.get("/_sim/state");
  if (r.status != 200) throw std::runtime_error("/_sim/state: " + std::to_string(r.status));
  auto o = json::parse(r.body).as_object();
  return {o.at("apps").to_number<long>(), o.at("tasks").to_number<long>(), o.at("deployments").to_number<long>()};
}

// Waits until `apps` apps all run; returns the time since `t0` (ms), or -1.
double wait_all_running(const MarathonSim& sim, long apps, steady::time_point t0, std::chrono::seconds timeout) {
  while (steady::now() - t0 < timeout) {
    auto s = sim_state(sim);
    if (s.apps == apps && s.tasks == apps && s.deployments == 0) return ms(steady::now() - t0);
    std::this_thread::sleep_for(20ms);
  }
  auto s = sim_state(sim);
  std::fprintf(stderr, "timeout: apps=%ld tasks=%ld deployments=%ld\n", s.apps, s.tasks, s.deployments);
  return -1;
}

hmc::reconciler::ReconcilerConfig reconciler_config(const std::string& zk_connect) {
  hmc::reconciler::ReconcilerConfig rc;
  rc.state_manager_connection = zk_connect;
  return rc;
}

struct CpuMem {
  double cpu_seconds = 0;
  long rss_kib = 0;
};

CpuMem sample(pid_t pid) {
  CpuMem out;
  out.cpu_seconds = hmc::testing::cpu_seconds(pid);
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) out.rss_kib = std::atol(line.c_str() + 6);
  return out;
}

// CPU of a few processes per 250 ms (percent of a core), sampled on a thread
// from construction until stop().
class CpuTimeline {
 public:
  explicit CpuTimeline(std::vector<std::pair<std::string, pid_t>> procs) : procs_(std::move(procs)) {
    rows_.resize(procs_.size());
    thread_ = std::thread([this] {
      std::vector<double> last;
      for (auto& [_, pid] : procs_) last.push_back(sample(pid).cpu_seconds);
      auto next = steady::now();
      while (!stop_) {
        next += 250ms;
        std::this_thread::sleep_until(next);
        for (std::size_t i = 0; i < procs_.size(); ++i) {
          const double now = sample(procs_[i].second).cpu_seconds;
          rows_[i].push_back(100.0 * (now - last[i]) / 0.25);
          last[i] = now;
        }
      }
    });
  }
  ~CpuTimeline() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void print() {
    stop();
    for (std::size_t i = 0; i < procs_.size(); ++i) {
      std::printf("%s CPU %% per 250 ms:", procs_[i].first.c_str());
      for (double v : rows_[i]) std::printf(" %.0f", v);
      std::printf("\n");
    }
  }

 private:
  std::vector<std::pair<std::string, pid_t>> procs_;
  std::vector<std::vector<double>> rows_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// POSTs that reached the simulator per 250 ms after `t0`, from its request log;
// `floor` picks the floor client's requests, else the controller's.
void print_post_timeline(const MarathonSim& sim, hmc::TimePoint t0, bool floor) {
  const json::value v = json::parse(sim.get("/_sim/requests").body);
  std::vector<int> buckets;
  for (auto& e : v.at("requests").as_array()) {
    const auto& o = e.as_object();
    const std::string agent(o.at("userAgent").as_string());
    const bool from_floor = agent.find("controller-bench-floor") != std::string::npos;
    if (from_floor != floor || o.at("method").as_string() != "POST") continue;
    auto at = hmc::parse_time(std::string(o.at("at").as_string()));
    if (!at) continue;
    const long since = std::chrono::duration_cast<std::chrono::milliseconds>(*at - t0).count();
    const auto b = static_cast<std::size_t>(std::max<long>(0, since / 250));
    if (buckets.size() <= b) buckets.resize(b + 1);
    ++buckets[b];
  }
  std::printf("%s POSTs per 250 ms:", floor ? "floor" : "controller");
  for (int c : buckets) std::printf(" %d", c);
  std::printf("\n");
}

double run_floor(int n, int concurrency) {
  MarathonSim sim(sim_options(n, 0));
  const auto rc = reconciler_config("127.0.0.1:2181");
  std::vector<std::string> bodies;
  bodies.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto t = hmc::reconciler::parse_desired(spec_json(name_of(i)));
    if (!t) throw std::runtime_error("spec does not parse");
    bodies.push_back(hmc::reconciler::build_group_json(rc, *t, 1));
  }
  std::atomic<int> next{0}, failed{0};
  const CpuMem sim0 = sample(sim.pid());
  CpuTimeline timeline({{"floor: marathon-sim", sim.pid()}});
  const auto t0_wall = hmc::Clock::now();
  const auto t0 = steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < concurrency; ++c)
    threads.emplace_back([&] {
      Connection conn(sim.port());
      for (int i; (i = next++) < n;)
        if (conn.post("/v2/groups", bodies[static_cast<std::size_t>(i)]) / 100 != 2) ++failed;
    });
  for (auto& t : threads) t.join();
  const double posted = ms(steady::now() - t0);
  const double all = wait_all_running(sim, 2L * n, t0, std::chrono::seconds{600});
  timeline.stop();
  const CpuMem sim1 = sample(sim.pid());
  std::printf("floor: %d POSTs over %d connections in %.0f ms (%d failed); all running after %.0f ms; "
              "marathon-sim CPU %.2f s\n",
              n, concurrency, posted, failed.load(), all, sim1.cpu_seconds - sim0.cpu_seconds);
  print_post_timeline(sim, t0_wall, true);
  timeline.print();
  return all;
}


std::string request_kind(const std::string& method, const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  if (p.rfind("/v2/groups/heron/topologies/", 0) == 0) p = "/v2/groups/heron/topologies/<name>";
  if (p.rfind("/v2/apps/heron/topologies/", 0) == 0) p = "/v2/apps/heron/topologies/<name>/..";
  return method + " " + p;
}

// When the controller's requests reached the simulator, relative to `t0`
// (wall clock, the request log's `at` has millisecond resolution).
void print_request_times(const MarathonSim& sim, hmc::TimePoint t0) {
  const json::value v = json::parse(sim.get("/_sim/requests").body);
  double first_post = -1, last_post = -1;
  std::vector<std::pair<double, std::string>> others;
  for (auto& e : v.at("requests").as_array()) {
    const auto& o = e.as_object();
    if (std::string(o.at("userAgent").as_string()).find("controller-bench") != std::string::npos) continue;
    auto at = hmc::parse_time(std::string(o.at("at").as_string()));
    if (!at) continue;
    const double rel = std::chrono::duration<double, std::milli>(*at - t0).count();
    if (o.at("method").as_string() == "POST") {
      if (first_post < 0) first_post = rel;
      last_post = rel;
    } else if (rel >= 0) {
      others.emplace_back(rel, request_kind(std::string(o.at("method").as_string()),
                                            std::string(o.at("path").as_string())));
    }
  }
  std::printf("controller POSTs reached marathon-sim from %.0f ms to %.0f ms; other requests:", first_post, last_post);
  for (auto& [at, kind] : others) std::printf(" %s at %.0f;", kind.c_str(), at);
  std::printf("\n");
}

void print_requests(const MarathonSim& sim, const char* what) {
  std::map<std::string, int> kinds;
  for (auto& r : sim.requests())
    if (r.user_agent.find("controller-bench") == std::string::npos) ++kinds[request_kind(r.method, r.path)];
  std::printf("controller requests %s:\n", what);
  for (auto& [k, v] : kinds) std::printf("  %6d  %s\n", v, k.c_str());
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::unique_ptr<hmc::zk::ZkClient> zk_client(const std::string& connect) {
  hmc::zk::ZkOptions zo;
  zo.connect = connect;
  zo.session_timeout = 10s;
  zo.connect_timeout = 20s;
  auto c = hmc::zk::connect(zo);
  if (!c) throw std::runtime_error("cannot connect to ZooKeeper: " + c.error().message);
  return std::move(*c);
}

}  // namespace

int main(int argc, char** argv) try {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  int n = 1000, concurrency = 4, workers = 4, idle_seconds = 60, latency_samples = 200, write_batch = 100, zk_warmup = 20000;
  std::string observe_interval = "200ms", log_level = "warn", keep_log, zk_connection = "netty";
  std::string deployment_limit_hold;  // the controller's default unless given
  bool floor = true;
  int max_running_deployments = 100;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--topologies") n = std::stoi(val());
    else if (a == "--concurrency") concurrency = std::stoi(val());
    else if (a == "--workers") workers = std::stoi(val());
    else if (a == "--observe-interval") observe_interval = val();
    else if (a == "--idle-seconds") idle_seconds = std::stoi(val());
    else if (a == "--latency-samples") latency_samples = std::stoi(val());
    else if (a == "--no-floor") floor = false;
    else if (a == "--write-batch") write_batch = std::max(1, std::stoi(val()));
    else if (a == "--zk-warmup") zk_warmup = std::max(0, std::stoi(val()));
    else if (a == "--zk-connection") zk_connection = val();
    else if (a == "--log-level") log_level = val();
    else if (a == "--keep-log") keep_log = val();
    else if (a == "--deployment-limit-hold") deployment_limit_hold = val();
    else if (a == "--max-running-deployments") max_running_deployments = std::max(0, std::stoi(val()));
    else throw std::runtime_error("unknown option " + a);
  }
  hmc::testing::ZooKeeperServerOptions zk_options;
  zk_options.system_properties = hmc::testing::connection_properties(zk_connection);
  std::printf("topologies=%d concurrency=%d workers=%d observe-interval=%s zk-connection=%s "
              "max-running-deployments=%d\n",
              n, concurrency, workers, observe_interval.c_str(), zk_connection.c_str(), max_running_deployments);
  const double floor_ms = floor ? run_floor(n, concurrency) : -1;

  hmc::testing::ZooKeeperServer zk(zk_options);
  MarathonSim sim(sim_options(n + latency_samples, max_running_deployments));
  hmc::testing::TempDir tmp;
  std::vector<std::string> args = {std::string(HMC_BINARY_DIR) + "/controller/heron-marathon-controller",
                                   "--zk", zk.connect_string(), "--marathon", sim.url(),
                                   "--metrics-address", "127.0.0.1:" + std::to_string(hmc::testing::free_port()),
                                   "--health-address", "127.0.0.1:" + std::to_string(hmc::testing::free_port()),
                                   "--workers", std::to_string(workers), "--observe-interval", observe_interval,
                                   "--log-level", log_level};
  if (!deployment_limit_hold.empty()) args.insert(args.end(), {"--deployment-limit-hold", deployment_limit_hold});
  std::printf("controller:");
  for (std::size_t i = 1; i < args.size(); ++i) std::printf(" %s", args[i].c_str());
  std::printf("\n");
  hmc::testing::ChildProcess controller(args, tmp.path() + "/controller.log");
  auto client = zk_client(zk.connect_string());
  if (auto r = client->ensure_path("/heron-marathon/topologies"); !r)
    throw std::runtime_error("ensure_path: " + r.error().message);
  if (zk_warmup > 0) {
    // A production ZooKeeper has run for a while; a fresh JVM spends its first
    // seconds compiling its own hot paths. Warm them up (creates, reads with
    // watches, sets, deletes, in multis and alone) before measuring.
    const auto w0 = steady::now();
    if (auto r = client->ensure_path("/bench-warmup"); !r) throw std::runtime_error("warm-up: " + r.error().message);
    for (int round = 0; round < zk_warmup / 100; ++round) {
      std::vector<hmc::zk::Op> create, set, remove;
      std::vector<std::string> paths;
      for (int i = 0; i < 100; ++i) {
        paths.push_back("/bench-warmup/n" + std::to_string(i));
        create.push_back(hmc::zk::CreateOp{paths.back(), spec_json(name_of(i))});
        set.push_back(hmc::zk::SetOp{paths.back(), "x", -1});
        remove.push_back(hmc::zk::DeleteOp{paths.back(), -1});
      }
      if (!client->multi(create)) throw std::runtime_error("warm-up multi failed");
      client->get_many(paths, [](const std::string&) { return hmc::zk::Watcher([](auto, auto&) {}); });
      if (!client->multi(set)) throw std::runtime_error("warm-up multi failed");
      for (int i = 0; i < 5; ++i) (void)client->set(paths[static_cast<std::size_t>(i)], "y");
      (void)client->children("/bench-warmup");
      if (!client->multi(remove)) throw std::runtime_error("warm-up multi failed");
    }
    std::printf("ZooKeeper warm-up: %d nodes created, read, set and deleted in %.0f ms\n", zk_warmup,
                ms(steady::now() - w0));
  }
  std::this_thread::sleep_for(3s);
  const CpuMem empty0 = sample(controller.pid());
  std::this_thread::sleep_for(5s);
  const CpuMem empty1 = sample(controller.pid());
  std::printf("empty controller: VmRSS %ld KiB, CPU %.2f%% of a core over 5 s\n", empty1.rss_kib,
              100.0 * (empty1.cpu_seconds - empty0.cpu_seconds) / 5.0);
  sim.clear_requests();

  // All at once.
  std::atomic<int> next{0}, failed{0};
  const CpuMem zk0 = sample(zk.pid()), sim0 = sample(sim.pid()), ctl0 = sample(controller.pid());
  CpuTimeline timeline({{"marathon-sim", sim.pid()}, {"controller", controller.pid()}, {"ZooKeeper", zk.pid()}});
  const auto t0_wall = hmc::Clock::now();
  const auto t0 = steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < concurrency; ++c)
    threads.emplace_back([&] {
      // Each thread takes the next `write_batch` names and creates them in one multi.
      for (int first; (first = next.fetch_add(write_batch)) < n;) {
        std::vector<hmc::zk::Op> ops;
        for (int i = first; i < std::min(n, first + write_batch); ++i)
          ops.push_back(hmc::zk::CreateOp{"/heron-marathon/topologies/" + name_of(i), spec_json(name_of(i))});
        if (!client->multi(ops)) failed += static_cast<int>(ops.size());
      }
    });
  for (auto& t : threads) t.join();
  const double written = ms(steady::now() - t0);
  const double all = wait_all_running(sim, 2L * n, t0, std::chrono::seconds{1200});
  timeline.stop();
  std::printf("controller: %d creates (multis of %d) from %d threads in %.0f ms (%d failed); all running after %.0f ms\n",
              n, write_batch, concurrency, written, failed.load(), all);
  if (floor) std::printf("ratio to floor: %.2f (target <= 1.25)\n", all / floor_ms);
  {
    const CpuMem zk1 = sample(zk.pid()), sim1 = sample(sim.pid()), ctl1 = sample(controller.pid());
    std::printf("CPU seconds while converging: controller %.2f, marathon-sim %.2f, ZooKeeper %.2f\n",
                ctl1.cpu_seconds - ctl0.cpu_seconds, sim1.cpu_seconds - sim0.cpu_seconds,
                zk1.cpu_seconds - zk0.cpu_seconds);
    print_request_times(sim, t0_wall);
    print_post_timeline(sim, t0_wall, false);
    timeline.print();
  }
  // Converged means every status says Running, not only Marathon.
  {
    int running = 0;
    double at = -1;
    while (steady::now() - t0 < std::chrono::seconds{1200}) {
      auto names = client->children("/heron-marathon/status");
      running = 0;
      if (names) {
        std::vector<std::string> paths;
        for (auto& nm : *names) paths.push_back("/heron-marathon/status/" + nm);
        for (auto& node : client->get_many(paths))
          if (node && node->data.find("\"phase\":\"Running\"") != std::string::npos) ++running;
      }
      if (running >= n) {
        at = ms(steady::now() - t0);
        break;
      }
      std::this_thread::sleep_for(200ms);
    }
    std::printf("every status says Running after %.0f ms (%d of %d)\n", at, running, n);
  }
  // The last Marathon events of the rollout still ask for an observation
  // (at 10,000 topologies a 48 MB read): idle starts once the controller
  // used under 1% of a core for 5 s in a row (at most 120 s after).
  {
    const auto s0 = steady::now();
    CpuMem last = sample(controller.pid());
    int quiet = 0;
    while (quiet < 5 && steady::now() - s0 < 120s) {
      std::this_thread::sleep_for(1s);
      const CpuMem now = sample(controller.pid());
      quiet = (now.cpu_seconds - last.cpu_seconds) < 0.01 ? quiet + 1 : 0;
      last = now;
    }
    std::printf("controller settled %.0f ms after every status said Running\n", ms(steady::now() - s0));
  }
  print_requests(sim, "while converging (until the controller settled)");

  // Idle.
  sim.clear_requests();
  const CpuMem idle0 = sample(controller.pid());
  std::this_thread::sleep_for(std::chrono::seconds{idle_seconds});
  const CpuMem idle1 = sample(controller.pid());
  const double cpu = 100.0 * (idle1.cpu_seconds - idle0.cpu_seconds) / idle_seconds;
  std::printf("idle over %d s: CPU %.2f%% of a core (target < 1%%); VmRSS %ld KiB, %.2f KiB per topology "
              "above the empty controller (%.2f KiB total per topology; target < 8)\n",
              idle_seconds, cpu, idle1.rss_kib, static_cast<double>(idle1.rss_kib - empty1.rss_kib) / n,
              static_cast<double>(idle1.rss_kib) / n);
  print_requests(sim, "while idle");

  // Single writes, one at a time.
  std::vector<double> lat;
  std::uint64_t seq = 0;
  {
    const json::value v = json::parse(sim.get("/_sim/requests").body);
    for (auto& e : v.at("requests").as_array())
      seq = std::max(seq, e.at("seq").to_number<std::uint64_t>());
  }
  // Every request logged meanwhile (method, route, when), to say what the
  // slowest writes waited behind.
  std::vector<std::tuple<hmc::TimePoint, std::string, std::string>> logged;
  std::vector<hmc::TimePoint> written_at_of;
  for (int k = 0; k < latency_samples; ++k) {
    const std::string name = "l" + std::to_string(k);
    if (!client->create("/heron-marathon/topologies/" + name, spec_json(name)))
      throw std::runtime_error("create " + name + " failed");
    const auto written_at = hmc::Clock::now();
    const auto deadline = steady::now() + 30s;
    std::optional<double> found;
    while (!found && steady::now() < deadline) {
      const json::value v = json::parse(sim.get("/_sim/requests?since=" + std::to_string(seq)).body);
      for (auto& e : v.at("requests").as_array()) {
        seq = std::max(seq, e.at("seq").to_number<std::uint64_t>());
        const auto& o = e.as_object();
        auto at = hmc::parse_time(std::string(o.at("at").as_string()));
        if (at) logged.emplace_back(*at, std::string(o.at("method").as_string()), std::string(o.at("path").as_string()));
        if (!found && o.at("method").as_string() == "POST" && at)
          found = std::chrono::duration<double, std::milli>(*at - written_at).count();
      }
      if (!found) std::this_thread::sleep_for(2ms);
    }
    if (!found) throw std::runtime_error("no POST for " + name + " within 30 s");
    lat.push_back(*found);
    written_at_of.push_back(written_at);
    std::this_thread::sleep_for(50ms);
  }
  if (!lat.empty()) {
    // The slowest 2%: the controller's own requests in the window from write to POST.
    std::vector<std::size_t> order(lat.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return lat[a] > lat[b]; });
    for (std::size_t r = 0; r < std::max<std::size_t>(1, lat.size() / 50); ++r) {
      const std::size_t i = order[r];
      std::string before;
      for (auto& [at, method, path] : logged) {
        const double d = std::chrono::duration<double, std::milli>(at - written_at_of[i]).count();
        if (d > -300 && d < lat[i] && method != "POST" && path.rfind("/_sim", 0) != 0)
          before += " " + method + " " + path + " at " + std::to_string(static_cast<int>(d)) + " ms;";
      }
      std::printf("slow write %zu (written %s): %.0f ms; controller reads from 300 ms before:%s\n", i,
                  hmc::format_time(written_at_of[i]).c_str(), lat[i], before.empty() ? " none" : before.c_str());
    }
  }
  if (!lat.empty())
    std::printf("write -> POST latency over %zu writes: p50 %.0f ms, p99 %.0f ms, max %.0f ms (target p99 < 50)\n",
                lat.size(), pct(lat, 0.5), pct(lat, 0.99), *std::max_element(lat.begin(), lat.end()));
  controller.stop(std::chrono::milliseconds{5000});
  if (!keep_log.empty()) {
    std::ifstream in(tmp.path() + "/controller.log", std::ios::binary);
    std::ofstream out(keep_log, std::ios::binary);
    out << in.rdbuf();
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "controller_bench: %s\n", e.what());
  return 1;
}
