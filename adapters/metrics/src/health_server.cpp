#include "hmc/metrics/health_server.hpp"

#include "hmc/common/thread_name.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <list>
#include <thread>

namespace hmc::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

ProbeResult run_probe(const Probe& probe) {
  if (!probe) return {true, {}};
  try {
    return probe();
  } catch (const std::exception& e) {
    return {false, std::string("probe failed: ") + e.what()};
  } catch (...) {
    return {false, "probe failed"};
  }
}

}  // namespace

struct HealthServer::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  Probe healthz;
  Probe readyz;
  int port = 0;
  // Open connections, touched only on the server thread; closed on stop.
  std::list<beast::tcp_stream*> streams;
  std::thread thread;

  http::response<http::string_body> answer(const http::request<http::string_body>& req) {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    std::string_view target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (target != "/healthz" && target != "/readyz") {
      res.result(http::status::not_found);
      res.body() = "not found: only /healthz and /readyz are served\n";
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.body() = "method not allowed\n";
    } else {
      const auto r = run_probe(target == "/healthz" ? healthz : readyz);
      res.result(r.ok ? http::status::ok : http::status::service_unavailable);
      res.body() = r.ok ? "ok\n" : (r.message.empty() ? std::string("not ok") : r.message) + "\n";
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    return res;
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    auto it = streams.insert(streams.end(), &stream);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(8 * 1024);
      parser.body_limit(8 * 1024);
      stream.expires_after(kReadTimeout);
      auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (rec) break;
      auto res = answer(parser.get());
      const bool keep = res.keep_alive();
      if (parser.get().method() == http::verb::head) {
        http::response_serializer<http::string_body> sr(res);
        sr.split(true);
        auto [wec, wn] = co_await http::async_write_header(stream, sr, use_tuple);
        if (wec) break;
      } else {
        auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
        if (wec) break;
      }
      if (!keep) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    streams.erase(it);
  }

  asio::awaitable<void> listen() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;  // e.g. out of descriptors: keep serving
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }

  void stop() {
    asio::post(ioc, [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
      for (auto* s : streams) s->socket().close(ignored);
    });
    if (thread.joinable()) thread.join();
  }
};

Result<std::unique_ptr<HealthServer>> HealthServer::start(const std::string& address, Probe healthz,
                                                          Probe readyz) {
  auto fail = [&](ErrorKind kind, const std::string& why) -> Result<std::unique_ptr<HealthServer>> {
    return make_error(ErrorSource::config, kind, "health address " + address + ": " + why);
  };
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return fail(ErrorKind::invalid, "expected HOST:PORT");
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  if (port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), [](unsigned char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port_text) > 65535)
    return fail(ErrorKind::invalid, "port '" + port_text + "' is not a number in 0..65535");
  beast::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) return fail(ErrorKind::invalid, "host '" + host + "' is not an IP address");

  auto impl = std::make_unique<Impl>();
  impl->healthz = std::move(healthz);
  impl->readyz = std::move(readyz);
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(std::stoi(port_text)));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorKind::unavailable, "cannot listen: " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();

  asio::co_spawn(impl->ioc, impl->listen(), asio::detached);
  impl->thread = std::thread([i = impl.get()] {
    name_this_thread("hmc-health");
    i->ioc.run();
  });
  return std::unique_ptr<HealthServer>(new HealthServer(std::move(impl)));
}

HealthServer::HealthServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HealthServer::~HealthServer() { impl_->stop(); }

int HealthServer::port() const { return impl_->port; }

}  // namespace hmc::metrics
