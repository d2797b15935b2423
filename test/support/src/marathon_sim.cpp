#include "hmc/testing/marathon_sim.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace hmc::testing {

namespace {

using steady = std::chrono::steady_clock;

bool wait_fd(int fd, short events, steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  if (left <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left)) > 0;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Decodes a chunked body; returns false when incomplete.
bool dechunk(const std::string& in, std::string& out) {
  out.clear();
  std::size_t pos = 0;
  while (true) {
    const auto eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    const std::size_t size = std::strtoul(in.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) return true;
    if (in.size() < pos + size + 2) return false;
    out.append(in, pos, size);
    pos += size + 2;
  }
}

}  // namespace

HttpResult http_request(int port, const std::string& method, const std::string& target, const std::string& body,
                        const std::map<std::string, std::string>& headers, std::chrono::milliseconds timeout) {
  HttpResult result;
  const auto deadline = steady::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return result;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, deadline)) {
      ::close(fd);
      return result;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ::close(fd);
      return result;
    }
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  bool has_type = false, has_agent = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    has_type = has_type || lower(k) == "content-type";
    has_agent = has_agent || lower(k) == "user-agent";
  }
  if (!has_type && !body.empty()) req += "Content-Type: application/json\r\n";
  if (!has_agent) req += "User-Agent: hmc-test-harness\r\n";
  req += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < req.size()) {
    const auto n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT, deadline)) continue;
    ::close(fd);
    return result;
  }
  std::string in;
  char buf[65536];
  while (true) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) break;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN, deadline)) continue;
    ::close(fd);
    return result;  // reset or timeout: no answer
  }
  ::close(fd);
  const auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos || !in.starts_with("HTTP/1.")) return result;
  const auto head = in.substr(0, head_end);
  const auto first_eol = head.find("\r\n");
  const auto status_line = head.substr(0, first_eol);
  result.status = std::atoi(status_line.substr(status_line.find(' ') + 1).c_str());
  std::size_t pos = first_eol == std::string::npos ? head.size() : first_eol + 2;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    const auto line = head.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      result.headers[lower(line.substr(0, colon))] = v;
    }
    pos = eol + 2;
  }
  result.body = in.substr(head_end + 4);
  if (lower(result.header("transfer-encoding")) == "chunked") {
    std::string decoded;
    dechunk(result.body, decoded);
    result.body = std::move(decoded);
  }
  return result;
}

std::string MarathonSim::binary_path() { return std::string(HMC_BINARY_DIR) + "/marathon-sim/marathon-sim"; }

MarathonSim::MarathonSim(MarathonSimOptions options) : options_(std::move(options)) {
  const auto bin = binary_path();
  if (!std::filesystem::exists(bin))
    throw std::runtime_error("marathon-sim binary not found at " + bin + " (build the marathon-sim target)");
  const auto port_file = dir_.path() + "/port";
  std::vector<std::string> argv = {bin, "--listen", "127.0.0.1:0", "--port-file", port_file,
                                   "--offer-period", options_.offer_period, "--seed", std::to_string(options_.seed),
                                   "--exit-with-parent"};
  for (const auto& a : options_.agents) {
    argv.push_back("--agent");
    argv.push_back(a);
  }
  if (!options_.agents_file.empty()) {
    argv.push_back("--agents-file");
    argv.push_back(options_.agents_file);
  }
  if (options_.deterministic) argv.push_back("--deterministic");
  if (!options_.token.empty()) {
    argv.push_back("--token");
    argv.push_back(options_.token);
  }
  if (!options_.login_public_key_file.empty()) {
    argv.push_back("--login-public-key");
    argv.push_back(options_.login_public_key_file);
  }
  for (const auto& uid : options_.login_uids) {
    argv.push_back("--login-uid");
    argv.push_back(uid);
  }
  if (options_.token_ttl_seconds > 0) {
    argv.push_back("--token-ttl");
    argv.push_back(std::to_string(options_.token_ttl_seconds));
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  process_ = ChildProcess(argv, dir_.path() + "/marathon-sim.log");
  const bool up = wait_until(
      [&] {
        if (port_ == 0) {
          if (!std::filesystem::exists(port_file)) return false;
          port_ = std::atoi(read_file(port_file).c_str());
          if (port_ == 0) return false;
        }
        return http_request(port_, "GET", "/_sim/state", {}, {}, std::chrono::milliseconds{1000}).status == 200;
      },
      std::chrono::milliseconds{15000});
  if (!up) {
    const auto out = process_.log();
    process_.kill_hard();
    throw std::runtime_error("marathon-sim did not start: " + out);
  }
  // /ping answers too (it is subject to the token and faults, so only check it when both are off).
  if (options_.token.empty() && options_.login_public_key_file.empty() &&
      http_request(port_, "GET", "/ping").status != 200) {
    const auto out = process_.log();
    process_.kill_hard();
    throw std::runtime_error("marathon-sim does not answer /ping: " + out);
  }
}

MarathonSim::~MarathonSim() { stop(); }

void MarathonSim::stop() {
  if (process_.pid() > 0 && process_.running()) process_.stop(std::chrono::milliseconds{3000});
}

bool MarathonSim::running() { return process_.pid() > 0 && process_.running(); }

std::string MarathonSim::log() const { return process_.log(); }

HttpResult MarathonSim::request(const std::string& method, const std::string& target, const std::string& body,
                                std::map<std::string, std::string> headers) const {
  bool has_auth = false;
  for (const auto& [k, v] : headers) has_auth = has_auth || lower(k) == "authorization";
  if (!options_.token.empty() && !has_auth) headers["Authorization"] = "token=" + options_.token;
  return http_request(port_, method, target, body, headers);
}

HttpResult MarathonSim::get(const std::string& target, std::map<std::string, std::string> headers) const {
  return request("GET", target, {}, std::move(headers));
}
HttpResult MarathonSim::post(const std::string& target, const std::string& body,
                             std::map<std::string, std::string> headers) const {
  return request("POST", target, body, std::move(headers));
}
HttpResult MarathonSim::put(const std::string& target, const std::string& body,
                            std::map<std::string, std::string> headers) const {
  return request("PUT", target, body, std::move(headers));
}
HttpResult MarathonSim::del(const std::string& target, std::map<std::string, std::string> headers) const {
  return request("DELETE", target, {}, std::move(headers));
}

HttpResult MarathonSim::admin(const std::string& method, const std::string& target, const std::string& body) const {
  auto r = http_request(port_, method, target, body);
  if (r.status < 200 || r.status >= 300)
    throw std::runtime_error("marathon-sim " + method + " " + target + " answered " + std::to_string(r.status) +
                             ": " + r.body);
  return r;
}

std::string MarathonSim::add_agent(const std::string& spec) {
  auto r = admin("POST", "/_sim/agents", spec);
  auto v = boost::json::parse(r.body);
  return std::string(v.at("id").as_string());
}

void MarathonSim::remove_agent(const std::string& agent_id) { admin("DELETE", "/_sim/agents/" + agent_id, {}); }

void MarathonSim::set_faults(const std::string& faults_json) { admin("PUT", "/_sim/faults", faults_json); }

void MarathonSim::clear_faults() {
  set_faults(R"({"latency":"0ms","errorRate":0,"resetRate":0,"lockHold":"0ms","freezeOffers":false})");
}

std::string MarathonSim::add_task_fault(const std::string& json) {
  auto r = admin("POST", "/_sim/task-faults", json);
  auto v = boost::json::parse(r.body);
  return std::string(v.at("id").as_string());
}

void MarathonSim::remove_task_fault(const std::string& id) { admin("DELETE", "/_sim/task-faults/" + id, {}); }

void MarathonSim::clear_task_faults() { admin("DELETE", "/_sim/task-faults", {}); }

void MarathonSim::tick(int cycles) { admin("POST", "/_sim/tick?cycles=" + std::to_string(cycles), {}); }

void MarathonSim::advance(const std::string& duration) { admin("POST", "/_sim/tick?duration=" + duration, {}); }

std::vector<SimLogin> MarathonSim::logins() const {
  auto v = boost::json::parse(admin("GET", "/_sim/logins", {}).body);
  std::vector<SimLogin> out;
  for (const auto& l : v.at("logins").as_array()) {
    const auto& o = l.as_object();
    out.push_back(SimLogin{std::string(o.at("uid").as_string()), std::string(o.at("token").as_string()),
                           std::string(o.at("issuedAt").as_string()), std::string(o.at("expiresAt").as_string())});
  }
  return out;
}

std::vector<SimRequest> MarathonSim::requests() const {
  auto r = admin("GET", "/_sim/requests", {});
  auto v = boost::json::parse(r.body);
  std::vector<SimRequest> out;
  for (const auto& e : v.at("requests").as_array()) {
    SimRequest s;
    s.seq = e.at("seq").to_number<std::uint64_t>();
    s.method = e.at("method").as_string();
    s.path = e.at("path").as_string();
    s.status = static_cast<int>(e.at("status").to_number<std::int64_t>());
    s.user_agent = e.at("userAgent").as_string();
    out.push_back(std::move(s));
  }
  return out;
}

void MarathonSim::clear_requests() { admin("DELETE", "/_sim/requests", {}); }

std::vector<std::string> MarathonSim::task_ids(const std::string& app_id) const {
  const std::string target = "/v2/apps" + (app_id.starts_with('/') ? "" : std::string("/")) + app_id + "/tasks";
  auto r = get(target);
  if (r.status != 200)
    throw std::runtime_error("GET " + target + ": " + std::to_string(r.status) + " " + r.body);
  const auto v = boost::json::parse(r.body);
  std::vector<std::string> out;
  for (const auto& t : v.at("tasks").as_array()) out.emplace_back(t.at("id").as_string());
  return out;
}

}  // namespace hmc::testing
