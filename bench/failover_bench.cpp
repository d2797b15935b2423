// Leader failover: how long a standby controller takes to act after the
// leader is stopped (SIGTERM: it resigns at once) or dies (SIGKILL: the
// standby waits for the leader's ZooKeeper session to expire).
//
//   failover_bench [RUNS] [SESSION_TIMEOUT]     e.g. failover_bench 10 2s
//
// One real ZooKeeper, one marathon-sim, two real controller replicas. Each
// run: signal the leader, submit a topology at once, and measure until
//   leader: the standby's heron_marathon_leader metric says 1;
//   post:   the simulator receives the standby's POST /v2/groups for it.
// The stopped replica is started again (as the new standby) before the next run.

#include "../test/integration/ha/ha_rig.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using hmc::testing::HaRig;
using hmc::testing::wait_until;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void report(const char* what, std::vector<double> v) {
  if (v.empty()) {
    std::printf("%-22s no successful runs\n", what);
    return;
  }
  std::sort(v.begin(), v.end());
  const double median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  std::printf("%-22s n=%zu min=%.0f ms median=%.0f ms max=%.0f ms\n", what, v.size(), v.front(), median,
              v.back());
}

bool standby_posted(HaRig& rig, const std::string& identity, std::uint64_t after) {
  for (auto& r : rig.sim().requests())
    if (r.seq > after && r.method == "POST" && r.path.rfind("/v2/groups", 0) == 0 &&
        r.user_agent.find(identity) != std::string::npos)
      return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const std::string session_timeout = argc > 2 ? argv[2] : "2s";
  if (runs <= 0) {
    std::cerr << "usage: failover_bench [RUNS>0] [SESSION_TIMEOUT e.g. 2s]\n";
    return 2;
  }
  try {
    hmc::testing::HaRigOptions o;
    o.session_timeout = session_timeout;
    o.log_level = "info";
    HaRig rig(o);
    int leader = rig.wait_leader();
    if (leader < 0) throw std::runtime_error("no leader\n" + rig.logs());
    int topology = 0;
    std::vector<double> leader_ms[2], post_ms[2];
    const int signals[2] = {SIGTERM, SIGKILL};
    for (int run = 0; run < runs; ++run) {
      for (int m = 0; m < 2; ++m) {
        const int standby = 1 - leader;
        if (!rig.wait_ready(standby, 60s)) throw std::runtime_error("standby not ready\n" + rig.logs());
        // Let the new standby's election node settle and the leader be busy-free.
        std::this_thread::sleep_for(500ms);
        auto rs = rig.sim().requests();
        const std::uint64_t mark = rs.empty() ? 0 : rs.back().seq;
        const std::string id = rig.replica(standby).identity;
        const auto t0 = Clock::now();
        if (signals[m] == SIGKILL) rig.replica(leader).process.kill_hard();
        else rig.replica(leader).process.signal(SIGTERM);
        rig.submit("probe-" + std::to_string(topology++));
        Clock::time_point t_leader{}, t_post{};
        const bool ok = wait_until(
            [&] {
              if (t_leader == Clock::time_point{} && rig.leader_metric(standby) == 1) t_leader = Clock::now();
              if (t_post == Clock::time_point{} && standby_posted(rig, id, mark)) t_post = Clock::now();
              return t_leader != Clock::time_point{} && t_post != Clock::time_point{};
            },
            60s, 5ms);
        if (ok) {
          leader_ms[m].push_back(ms(t_leader - t0));
          post_ms[m].push_back(ms(t_post - t0));
          std::printf("run %d %s: leader after %.0f ms, POST after %.0f ms\n", run,
                      m == 0 ? "SIGTERM" : "SIGKILL", ms(t_leader - t0), ms(t_post - t0));
        } else {
          std::printf("run %d %s: standby did not act within 60 s\n", run, m == 0 ? "SIGTERM" : "SIGKILL");
        }
        std::fflush(stdout);
        rig.replica(leader).process.wait(10000ms);
        rig.start(leader);  // back as the standby
        leader = standby;
      }
    }
    std::printf("\nsession timeout %s, %d runs each\n", session_timeout.c_str(), runs);
    report("SIGTERM -> leader", leader_ms[0]);
    report("SIGTERM -> first POST", post_ms[0]);
    report("SIGKILL -> leader", leader_ms[1]);
    report("SIGKILL -> first POST", post_ms[1]);
  } catch (const std::exception& e) {
    std::cerr << "failover_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
