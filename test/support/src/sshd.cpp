#include "hmc/testing/sshd.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hmc::testing {

namespace {

std::string tail(const std::string& text, std::size_t lines) {
  std::size_t pos = text.size();
  for (std::size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

void must(const std::vector<std::string>& argv) {
  const CommandResult r = run_command(argv);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw std::runtime_error("'" + cmd + "' failed (" + std::to_string(r.exit_code) + "): " + r.out + r.err);
  }
}

// Private key at `path`, public key at `path`.pub.
void keygen(const std::string& path, const std::string& passphrase, const std::string& comment) {
  must({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", path});
}

// "ssh-ed25519 AAAA..." without the comment.
std::string public_key(const std::string& private_key_path) {
  std::istringstream in(read_file(private_key_path + ".pub"));
  std::string type, blob;
  in >> type >> blob;
  return type + " " + blob;
}

std::string known_hosts_name(const std::string& address, int port) {
  return port == 22 ? address : "[" + address + "]:" + std::to_string(port);
}

bool tcp_accepts(const std::string& address, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Every process below `root` (sshd's connection processes).
std::vector<pid_t> descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    children.emplace(ppid, static_cast<pid_t>(std::stol(name)));
  }
  std::vector<pid_t> out;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    auto [b, e] = children.equal_range(p);
    for (auto it = b; it != e; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

std::string random_hex(int digits) {
  std::random_device rd;
  std::mt19937_64 gen(rd() ^ static_cast<std::uint64_t>(::getpid()) << 20);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out += hex[gen() % 16];
  return out;
}

}  // namespace

Sshd::Sshd(SshdOptions options) : options_(std::move(options)) {
  if (!std::filesystem::exists("/usr/sbin/sshd") || !std::filesystem::exists("/usr/bin/ssh-keygen")) {
    throw std::runtime_error("Sshd needs openssh-server and openssh-client; run scripts/setup.sh");
  }
  dir_ = std::make_unique<TempDir>();
  const passwd* pw = ::getpwuid(::geteuid());
  user_ = pw ? pw->pw_name : "root";
  port_ = options_.port > 0 ? options_.port : free_port();

  const std::string d = dir_->path();
  keygen(d + "/host_ed25519", "", "hmc-test-host");
  client_key_ = d + "/client_ed25519";
  keygen(client_key_, options_.client_key_passphrase, "hmc-test-client");
  write_file(d + "/authorized_keys", read_file(client_key_ + ".pub"));
  std::filesystem::permissions(d + "/authorized_keys", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  known_hosts_ = d + "/known_hosts";
  write_file(known_hosts_, known_hosts_name(options_.listen_address, port_) + " " + public_key(d + "/host_ed25519") + "\n");
  log_file_ = d + "/sshd.log";
  config_file_ = d + "/sshd_config";
  write_file(config_file_,
             "ListenAddress " + options_.listen_address + ":" + std::to_string(port_) + "\n" +
                 "HostKey " + d + "/host_ed25519\n" +
                 "AuthorizedKeysFile " + d + "/authorized_keys\n" +
                 "PidFile none\n"
                 "StrictModes no\n"
                 "UsePAM no\n"
                 "PubkeyAuthentication yes\n"
                 "PasswordAuthentication no\n"
                 "KbdInteractiveAuthentication no\n"
                 "PermitRootLogin prohibit-password\n"
                 "AllowTcpForwarding yes\n"
                 "AllowAgentForwarding no\n"
                 "X11Forwarding no\n"
                 "PrintMotd no\n"
                 "MaxStartups 100:30:200\n"
                 "MaxSessions 100\n"
                 "LogLevel VERBOSE\n");
  // The privilege separation directory Debian's sshd expects.
  std::error_code ec;
  std::filesystem::create_directories("/run/sshd", ec);
  if (options_.start) start();
}

Sshd::~Sshd() {
  try {
    stop();
  } catch (...) {
  }
}

std::string Sshd::tunnel_host() const {
  return user_ + "@" + options_.listen_address + ":" + std::to_string(port_);
}

bool Sshd::running() { return process_.pid() > 0 && process_.running(); }

bool Sshd::accepting() { return tcp_accepts(options_.listen_address, port_); }

void Sshd::start() {
  if (running()) return;
  std::vector<std::string> argv = options_.command_prefix;
  for (const char* a : {"/usr/sbin/sshd", "-D", "-e", "-f"}) argv.emplace_back(a);
  argv.push_back(config_file_);
  process_ = ChildProcess(argv, log_file_);
  const bool ready = wait_until([this] { return !process_.running() || accepting(); },
                                std::chrono::milliseconds{15000}, std::chrono::milliseconds{20});
  if (ready && process_.running()) return;
  const std::string text = log();
  process_.stop(std::chrono::milliseconds{2000});
  process_ = ChildProcess();
  throw std::runtime_error("sshd on " + options_.listen_address + ":" + std::to_string(port_) +
                           (ready ? " exited during start" : " did not accept connections in time") +
                           "; log tail:\n" + tail(text, 20));
}

void Sshd::stop() {
  if (process_.pid() <= 0) return;
  // Connection processes leave sshd's process group (setsid), so they are
  // ended one by one: a restart must really cut every open session.
  for (pid_t p : descendants(process_.pid())) ::kill(p, SIGKILL);
  process_.stop(std::chrono::milliseconds{3000});
  process_ = ChildProcess();
}

void Sshd::restart() {
  stop();
  start();
}

std::string Sshd::known_hosts_with_other_key() {
  const std::string d = dir_->path();
  const std::string key = d + "/other_host_ed25519";
  if (!std::filesystem::exists(key)) keygen(key, "", "hmc-test-other-host");
  const std::string path = d + "/known_hosts_other";
  write_file(path, known_hosts_name(options_.listen_address, port_) + " " + public_key(key) + "\n");
  return path;
}

std::string Sshd::unauthorized_key() {
  const std::string key = dir_->path() + "/stranger_ed25519";
  if (!std::filesystem::exists(key)) keygen(key, "", "hmc-test-stranger");
  return key;
}

std::string Sshd::log() const { return read_file(log_file_); }

NetworkNamespace::NetworkNamespace() {
  if (::geteuid() != 0) throw std::runtime_error("NetworkNamespace needs root (ip netns)");
  const std::string id = random_hex(6);
  name_ = "hmc-" + id;
  host_if_ = "hmcv" + id;
  const std::string inner_if = "hmcw" + id;
  // A /30 in 10.213.0.0/16 chosen at random, so parallel tests do not meet.
  std::random_device rd;
  const unsigned third = rd() % 256;
  const unsigned fourth = (rd() % 64) * 4;
  const std::string prefix = "10.213." + std::to_string(third) + ".";
  host_address_ = prefix + std::to_string(fourth + 1);
  inner_address_ = prefix + std::to_string(fourth + 2);
  try {
    must({"ip", "netns", "add", name_});
    must({"ip", "link", "add", host_if_, "type", "veth", "peer", "name", inner_if, "netns", name_});
    must({"ip", "addr", "add", host_address_ + "/30", "dev", host_if_});
    must({"ip", "link", "set", host_if_, "up"});
    must({"ip", "-n", name_, "addr", "add", inner_address_ + "/30", "dev", inner_if});
    must({"ip", "-n", name_, "link", "set", inner_if, "up"});
    must({"ip", "-n", name_, "link", "set", "lo", "up"});
  } catch (...) {
    run_command({"ip", "link", "del", host_if_});
    run_command({"ip", "netns", "del", name_});
    throw;
  }
  // The veth needs a moment before it carries traffic.
  wait_until([this] { return run_command({"ip", "-n", name_, "-br", "addr", "show", "scope", "global"}).out.find("UP") !=
                             std::string::npos; },
             std::chrono::milliseconds{5000});
}

NetworkNamespace::~NetworkNamespace() {
  run_command({"ip", "link", "del", host_if_});
  run_command({"ip", "netns", "del", name_});
}

void NetworkNamespace::set_link_up(bool up) const {
  must({"ip", "link", "set", host_if_, up ? "up" : "down"});
}

std::vector<std::string> NetworkNamespace::exec_prefix() const { return {"ip", "netns", "exec", name_}; }

void NetworkNamespace::run_inside(const std::function<void()>& fn) const {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      const int fd = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("open /run/netns/" + name_ + ": " + std::strerror(errno));
      const int rc = ::setns(fd, CLONE_NEWNET);
      ::close(fd);
      if (rc != 0) throw std::runtime_error("setns " + name_ + ": " + std::strerror(errno));
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace hmc::testing
