// What the in-process SSH tunnel costs: tunnel open time, connection setup,
// small round trips and bulk throughput, through a real sshd in a network
// namespace, against the same echo server reached directly (baseline).
// Needs root (ip netns). Results: docs/benchmarks.md.
//
//   ssh_tunnel_bench [round_trips=2000] [bulk_mib=64] [connections=100]

#include "hmc/ssh_tunnel/zk_tunnel.hpp"
#include "hmc/testing/echo_server.hpp"
#include "hmc/testing/sshd.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Latency {
  double p50 = 0, p99 = 0;
};

Latency round_trips(int port, int count) {
  const int fd = hmc::testing::connect_loopback(port);
  std::vector<double> samples;
  const std::string payload(64, 'x');
  for (int i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    if (hmc::testing::round_trip(fd, payload).size() != payload.size()) break;
    samples.push_back(micros(Clock::now() - t0));
  }
  ::close(fd);
  std::sort(samples.begin(), samples.end());
  if (samples.empty()) return {};
  return {samples[samples.size() / 2], samples[samples.size() * 99 / 100]};
}

double throughput_mib_s(int port, int mib) {
  const int fd = hmc::testing::connect_loopback(port);
  const std::string payload(static_cast<std::size_t>(mib) << 20, 'y');
  const auto t0 = Clock::now();
  const auto got = hmc::testing::round_trip(fd, payload);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  return got.size() == payload.size() ? mib / seconds : 0;
}

double connect_ms(int port, int count) {
  const auto t0 = Clock::now();
  for (int i = 0; i < count; ++i) hmc::testing::echo_once(port, "c");
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / count;
}

}  // namespace

int main(int argc, char** argv) {
  const int trips = argc > 1 ? std::stoi(argv[1]) : 2000;
  const int mib = argc > 2 ? std::stoi(argv[2]) : 64;
  const int conns = argc > 3 ? std::stoi(argv[3]) : 100;

  hmc::testing::NetworkNamespace ns;
  hmc::testing::SshdOptions so;
  so.listen_address = ns.inner_address();
  so.command_prefix = ns.exec_prefix();
  hmc::testing::Sshd sshd(so);
  hmc::testing::EchoServer inside(&ns);
  hmc::testing::EchoServer direct;

  hmc::ssh::TunnelOptions o;
  o.host = sshd.tunnel_host();
  o.key_file = sshd.client_key();
  o.known_hosts_file = sshd.known_hosts();
  o.use_agent = false;
  o.connection_retry_count = 0;
  o.connection_timeout = std::chrono::milliseconds{200};
  const auto t0 = Clock::now();
  auto tunnel = hmc::ssh::ZkTunnel::open(o, "127.0.0.1:" + std::to_string(inside.port()));
  const double open_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!tunnel) {
    std::fprintf(stderr, "tunnel: %s\n", tunnel.error().message.c_str());
    return 1;
  }
  const std::string cs = (*tunnel)->connection_string();
  const int tunnelled = std::stoi(cs.substr(cs.rfind(':') + 1));

  std::printf("tunnel open (1 refused direct probe, SSH session, verify): %.1f ms\n", open_ms);
  std::printf("%-10s %14s %14s %16s %14s\n", "path", "rtt p50 (us)", "rtt p99 (us)", "connect (ms)", "bulk (MiB/s)");
  for (auto [name, port] : {std::pair<const char*, int>{"direct", direct.port()}, {"tunnel", tunnelled}}) {
    const Latency l = round_trips(port, trips);
    const double c = connect_ms(port, conns);
    const double t = throughput_mib_s(port, mib);
    std::printf("%-10s %14.1f %14.1f %16.3f %14.1f\n", name, l.p50, l.p99, c, t);
  }
  const auto stats = (*tunnel)->stats();
  std::printf("sessions opened: %llu, channels opened: %llu\n",
              static_cast<unsigned long long>(stats.sessions_opened),
              static_cast<unsigned long long>(stats.channels_opened));
  return 0;
}
