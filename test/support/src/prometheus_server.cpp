#include "hmc/testing/prometheus_server.hpp"

#include "hmc/testing/marathon_sim.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <sstream>
#include <stdexcept>

namespace hmc::testing {

namespace {

std::string tail(const std::string& s, std::size_t n = 4000) { return s.size() > n ? s.substr(s.size() - n) : s; }

}  // namespace

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

PrometheusServer::PrometheusServer(std::vector<ScrapeTarget> targets, PrometheusServerOptions options)
    : dir_(std::make_unique<TempDir>()) {
  const std::string config = dir_->path() + "/prometheus.yml";
  const std::string storage = dir_->path() + "/data";
  log_file_ = dir_->path() + "/prometheus.log";
  const auto interval = std::to_string(options.scrape_interval.count()) + "ms";
  std::ostringstream yml;
  yml << "global:\n  scrape_interval: " << interval << "\n  scrape_timeout: " << interval
      << "\n  evaluation_interval: " << interval << "\n";
  if (!options.rule_files.empty()) {
    yml << "rule_files:\n";
    for (const auto& f : options.rule_files) yml << "  - '" << f << "'\n";
  }
  yml << "scrape_configs:\n";
  for (const auto& t : targets)
    yml << "  - job_name: '" << t.job << "'\n    static_configs:\n      - targets: ['" << t.address << "']\n";
  write_file(config, yml.str());

  port_ = free_port();
  process_ = ChildProcess({"/usr/bin/prometheus", "--config.file=" + config, "--storage.tsdb.path=" + storage,
                           "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                           "--web.console.templates=" + dir_->path(), "--web.console.libraries=" + dir_->path(),
                           "--log.level=warn"},
                          log_file_);
  const bool ready = wait_until(
      [&] { return !process_.running() || http_request(port_, "GET", "/-/ready", {}, {}, std::chrono::milliseconds{1000}).status == 200; },
      options.start_timeout, std::chrono::milliseconds{100});
  if (!ready || !process_.running()) {
    const std::string why = tail(log());
    process_.stop();
    throw std::runtime_error("prometheus did not become ready on 127.0.0.1:" + std::to_string(port_) + ":\n" + why);
  }
}

PrometheusServer::~PrometheusServer() { stop(); }

void PrometheusServer::stop() { process_.stop(std::chrono::milliseconds{5000}); }

std::string PrometheusServer::log() const { return read_file(log_file_); }

std::vector<PromSample> PrometheusServer::query(const std::string& promql) {
  const auto res = http_request(port_, "GET", "/api/v1/query?query=" + url_encode(promql));
  if (res.status == 0) throw std::runtime_error("prometheus does not answer the query " + promql);
  boost::system::error_code ec;
  const auto doc = boost::json::parse(res.body, ec);
  if (ec || !doc.is_object())
    throw std::runtime_error("prometheus answered " + std::to_string(res.status) + " with no JSON: " + tail(res.body));
  const auto& obj = doc.as_object();
  if (const auto* st = obj.if_contains("status"); !st || *st != "success") {
    const auto* err = obj.if_contains("error");
    throw std::runtime_error("query " + promql + " failed: " +
                             (err && err->is_string() ? std::string(err->as_string()) : tail(res.body)));
  }
  const auto& data = obj.at("data").as_object();
  const std::string type(data.at("resultType").as_string());
  std::vector<PromSample> out;
  auto value_of = [](const boost::json::value& pair) {
    return std::stod(std::string(pair.as_array().at(1).as_string()));
  };
  if (type == "vector") {
    for (const auto& r : data.at("result").as_array()) {
      PromSample s;
      for (const auto& [k, v] : r.at("metric").as_object()) s.labels[std::string(k)] = std::string(v.as_string());
      s.value = value_of(r.at("value"));
      out.push_back(std::move(s));
    }
  } else if (type == "scalar") {
    out.push_back(PromSample{{}, value_of(data.at("result"))});
  } else {
    throw std::runtime_error("query " + promql + " returned a " + type + ", expected an instant vector");
  }
  return out;
}

std::vector<PromSample> PrometheusServer::wait_for(const std::string& promql, std::chrono::milliseconds timeout) {
  std::vector<PromSample> last;
  wait_until(
      [&] {
        last = query(promql);
        return !last.empty();
      },
      timeout, std::chrono::milliseconds{250});
  return last;
}

std::map<std::string, std::string> PrometheusServer::target_health() {
  std::map<std::string, std::string> out;
  const auto res = http_request(port_, "GET", "/api/v1/targets?state=active");
  boost::system::error_code ec;
  const auto doc = boost::json::parse(res.body, ec);
  if (ec || !doc.is_object()) return out;
  const auto* data = doc.as_object().if_contains("data");
  if (!data) return out;
  for (const auto& t : data->at("activeTargets").as_array()) {
    const auto& o = t.as_object();
    out[std::string(o.at("labels").at("job").as_string())] = std::string(o.at("health").as_string());
  }
  return out;
}

}  // namespace hmc::testing
