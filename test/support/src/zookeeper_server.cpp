#include "hmc/testing/zookeeper_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace hmc::testing {
namespace {

constexpr const char* java_binary = "/usr/bin/java";
constexpr const char* main_class = "org.apache.zookeeper.server.ZooKeeperServerMain";

// zookeeper.jar's manifest names most of these; listing them keeps the server
// independent of that manifest. slf4j-log4j12 + log4j route the server's log
// to stdout (our log file) instead of slf4j's no-op logger.
std::string class_path() {
  const char* jars[] = {
      "zookeeper.jar",        "zookeeper-jute.jar",   "slf4j-api.jar",
      "slf4j-log4j12.jar",    "log4j-1.2.jar",        "metrics-core.jar",
      "netty-buffer.jar",     "netty-common.jar",     "netty-handler.jar",
      "netty-resolver.jar",   "netty-codec.jar",      "netty-transport.jar",
      "netty-transport-native-epoll.jar", "netty-transport-native-unix-common.jar",
      "snappy-java.jar",      "commons-cli.jar",
  };
  std::string cp = "/etc/zookeeper/conf";
  for (const char* jar : jars) {
    std::string path = std::string("/usr/share/java/") + jar;
    if (std::filesystem::exists(path)) cp += ":" + path;
  }
  return cp;
}

std::string tail(const std::string& text, std::size_t lines) {
  std::size_t pos = text.size();
  for (std::size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

// A TCP socket in network namespace `ns` ("" = this process's namespace).
int socket_in_namespace(const std::string& ns) {
  if (ns.empty()) return ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int fd = -1;
  std::thread([&] {
    const int nsfd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return;
    if (::setns(nsfd, CLONE_NEWNET) == 0) fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::close(nsfd);
  }).join();
  return fd;
}

}  // namespace

// A loopback TCP relay between clients and the server, so a test can cut the
// "network" while the server keeps running.
class ZooKeeperServer::Relay {
 public:
  explicit Relay(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("relay socket failed");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("relay bind/listen failed");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~Relay() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake();
    thread_.join();
    for (auto& [a, b] : pairs_) {
      ::close(a);
      ::close(b);
    }
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  int port() const { return port_; }

  void set_up(bool up) {
    {
      std::lock_guard lock(mu_);
      up_ = up;
    }
    wake();
  }

 private:
  static sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
  }

  void wake() {
    char c = 1;
    [[maybe_unused]] auto n = ::write(wake_[1], &c, 1);
  }

  void close_all() {
    for (auto& [a, b] : pairs_) {
      ::close(a);
      ::close(b);
    }
    pairs_.clear();
  }

  void accept_one(bool up) {
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    if (!up) {
      ::close(client);
      return;
    }
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(upstream_port_);
    if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (server >= 0) ::close(server);
      ::close(client);
      return;
    }
    pairs_.emplace_back(client, server);
  }

  // Copies what is readable on `from` to `to`; false when the pair is done.
  static bool pump(int from, int to) {
    char buf[65536];
    ssize_t n = ::recv(from, buf, sizeof buf, 0);
    if (n <= 0) return false;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) return false;
      off += w;
    }
    return true;
  }

  void run() {
    while (true) {
      bool up;
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        up = up_;
      }
      if (!up) close_all();
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      for (auto& [a, b] : pairs_) {
        fds.push_back({a, POLLIN, 0});
        fds.push_back({b, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
      if (fds[0].revents) {
        char drain[64];
        [[maybe_unused]] auto n = ::read(wake_[0], drain, sizeof drain);
        continue;  // re-read the flags first
      }
      const std::size_t polled = pairs_.size();  // accept_one() may append a pair not in fds
      if (fds[1].revents) accept_one(up);
      std::vector<std::pair<int, int>> alive;
      for (std::size_t i = 0; i < pairs_.size(); ++i) {
        if (i >= polled) {
          alive.push_back(pairs_[i]);
          continue;
        }
        auto [a, b] = pairs_[i];
        bool ok = true;
        if (fds[2 + 2 * i].revents) ok = pump(a, b);
        if (ok && fds[3 + 2 * i].revents) ok = pump(b, a);
        if (ok) {
          alive.emplace_back(a, b);
        } else {
          ::close(a);
          ::close(b);
        }
      }
      pairs_ = std::move(alive);
    }
  }

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::mutex mu_;
  bool up_ = true;
  bool stopping_ = false;
  std::vector<std::pair<int, int>> pairs_;  // (client, server); only the relay thread touches it
  std::thread thread_;
};

ZooKeeperServer::ZooKeeperServer(ZooKeeperServerOptions options) : options_(options) {
  if (!std::filesystem::exists(java_binary) ||
      !std::filesystem::exists("/usr/share/java/zookeeper.jar")) {
    throw std::runtime_error(
        "ZooKeeperServer needs /usr/bin/java and Debian's zookeeper package "
        "(/usr/share/java/zookeeper.jar); run scripts/setup.sh");
  }
  dir_ = std::make_unique<TempDir>();
  data_dir_ = dir_->path() + "/data";
  std::filesystem::create_directories(data_dir_);
  config_file_ = dir_->path() + "/zoo.cfg";
  log_file_ = dir_->path() + "/zookeeper.log";
  write_file(dir_->path() + "/log4j.properties",
             "log4j.rootLogger=INFO, CONSOLE\n"
             "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
             "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
             "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{1}: %m%n\n");
  port_ = free_port();
  if (options_.network_control) relay_ = std::make_unique<Relay>(port_);
  if (options_.start) start();
}

std::map<std::string, std::string> connection_properties(const std::string& setup) {
  if (setup == "nio") return {};
  if (setup == "nio-direct") return {{"zookeeper.nio.numWorkerThreads", "0"}};
  if (setup == "netty") return {{"zookeeper.serverCnxnFactory", kNettyServerCnxnFactory}};
  throw std::invalid_argument("ZooKeeper connection setup must be nio, nio-direct or netty, not '" + setup + "'");
}

ZooKeeperServer::~ZooKeeperServer() {
  try {
    relay_.reset();
    stop();
  } catch (...) {
  }
  // dir_ (data, config, log) is removed by TempDir's destructor.
}

void ZooKeeperServer::write_config() {
  auto max_timeout = options_.max_session_timeout.count() > 0 ? options_.max_session_timeout
                                                                : 20 * options_.tick_time;
  write_file(config_file_,
             "tickTime=" + std::to_string(options_.tick_time.count()) + "\n" +
                 "dataDir=" + data_dir_ + "\n" +
                 "clientPort=" + std::to_string(port_) + "\n" +
                 "clientPortAddress=127.0.0.1\n"
                 "maxSessionTimeout=" + std::to_string(max_timeout.count()) + "\n" +
                 "maxClientCnxns=0\n"
                 "admin.enableServer=false\n"
                 "4lw.commands.whitelist=*\n"
                 "autopurge.purgeInterval=0\n");
}

std::string ZooKeeperServer::connect_string() const { return "127.0.0.1:" + std::to_string(port()); }

int ZooKeeperServer::port() const { return relay_ ? relay_->port() : port_; }

void ZooKeeperServer::drop_network() {
  if (!relay_) throw std::logic_error("ZooKeeperServer::drop_network needs options.network_control");
  relay_->set_up(false);
}

void ZooKeeperServer::restore_network() {
  if (!relay_) throw std::logic_error("ZooKeeperServer::restore_network needs options.network_control");
  relay_->set_up(true);
}

void ZooKeeperServer::start() {
  if (process_.pid() > 0 && process_.running()) return;
  // The port comes from free_port(), which can race with other processes; on
  // the first start a taken port is replaced, later starts must keep it.
  const bool may_change_port = !std::filesystem::exists(data_dir_ + "/version-2");
  for (int attempt = 0;; ++attempt) {
    write_config();
    std::vector<std::string> argv = {
        // Kill the server if the test process dies without running destructors.
        "/usr/bin/setpriv", "--pdeathsig", "KILL", "--",
        java_binary, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-XX:-UsePerfData", "-Xshare:auto", "-Djava.net.preferIPv4Stack=true",
        "-Dlog4j.configuration=file:" + dir_->path() + "/log4j.properties",
        "-Dzookeeper.jmx.log4j.disable=true", "-Dzookeeper.admin.enableServer=false",
        // Lets tests store nodes above the default 1 MiB limit.
        "-Djute.maxbuffer=4194304", "-cp", class_path(), main_class, config_file_};
    const auto classpath = std::find(argv.begin(), argv.end(), std::string("-cp"));
    std::vector<std::string> properties;
    for (const auto& [key, value] : options_.system_properties) properties.push_back("-D" + key + "=" + value);
    argv.insert(classpath, properties.begin(), properties.end());
    if (!std::filesystem::exists("/usr/bin/setpriv")) argv.erase(argv.begin(), argv.begin() + 4);
    if (!options_.network_namespace.empty()) {
      const auto java = std::find(argv.begin(), argv.end(), std::string(java_binary));
      argv.insert(java, {"ip", "netns", "exec", options_.network_namespace});
    }
    process_ = ChildProcess(argv, log_file_);
    paused_ = false;
    const bool ready = wait_until(
        [this] {
          if (!process_.running()) return true;
          return four_letter("srvr", std::chrono::milliseconds{500}).find("Mode:") != std::string::npos;
        },
        options_.start_timeout, std::chrono::milliseconds{50});
    if (ready && process_.running()) return;
    const std::string log_text = log();
    process_.stop(std::chrono::milliseconds{2000});
    if (may_change_port && attempt < 3 && log_text.find("Address already in use") != std::string::npos) {
      port_ = free_port();
      if (relay_) relay_ = std::make_unique<Relay>(port_);
      continue;
    }
    throw std::runtime_error("ZooKeeper server on port " + std::to_string(port_) +
                             (ready ? " exited during start" : " did not answer in time") +
                             "; log tail:\n" + tail(log_text, 30));
  }
}

void ZooKeeperServer::stop() {
  if (process_.pid() <= 0) return;
  if (paused_) resume();
  process_.stop(std::chrono::milliseconds{5000});
  process_ = ChildProcess();
  paused_ = false;
}

namespace {

// True once every thread of `pid` is stopped ('T' in /proc/<pid>/task/*/stat).
bool all_threads_stopped(pid_t pid) {
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  bool any = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) continue;  // the thread just ended
    if (stat[close + 2] != 'T' && stat[close + 2] != 't') return false;
    any = true;
  }
  return any && !ec;
}

}  // namespace

void ZooKeeperServer::pause() {
  if (process_.pid() <= 0 || paused_) return;
  process_.signal(SIGSTOP);
  paused_ = true;
  // kill() returns before the threads stop: a thread in an uninterruptible
  // wait (a disk sync) stops only when it comes back. Return once the whole
  // JVM is frozen, so that the caller's next request is the one not answered.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (!all_threads_stopped(process_.pid()) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
}

void ZooKeeperServer::resume() {
  if (process_.pid() <= 0 || !paused_) return;
  process_.signal(SIGCONT);
  paused_ = false;
}

bool ZooKeeperServer::running() { return process_.pid() > 0 && process_.running(); }

std::string ZooKeeperServer::four_letter(const std::string& command,
                                         std::chrono::milliseconds timeout) const {
  int fd = socket_in_namespace(options_.network_namespace);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto wait_for = [&](short events) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) == 1 && (p.revents & (events | POLLHUP));
  };
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return {};
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (!wait_for(POLLOUT) || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0 ||
      ::send(fd, command.data(), command.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(command.size())) {
    ::close(fd);
    return {};
  }
  char buf[4096];
  while (wait_for(POLLIN)) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string ZooKeeperServer::log() const { return read_file(log_file_); }

ZooKeeperEnvironment::ZooKeeperEnvironment(ZooKeeperServerOptions options) : options_(options) {}

namespace {
std::unique_ptr<ZooKeeperServer>& environment_server() {
  static std::unique_ptr<ZooKeeperServer> server;
  return server;
}
}  // namespace

void ZooKeeperEnvironment::SetUp() { environment_server() = std::make_unique<ZooKeeperServer>(options_); }

void ZooKeeperEnvironment::TearDown() { environment_server().reset(); }

ZooKeeperServer& ZooKeeperEnvironment::server() {
  auto& s = environment_server();
  if (!s) throw std::logic_error("ZooKeeperEnvironment is not set up (AddGlobalTestEnvironment)");
  return *s;
}

ZooKeeperServer& shared_zookeeper() {
  static ZooKeeperServer server;
  return server;
}

}  // namespace hmc::testing
