#include "test_server.hpp"

#include "hmc/testing/process.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <deque>
#include <list>
#include <stdexcept>
#include <thread>

namespace hmc::marathon::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct EventStream {
  explicit EventStream(asio::io_context& ioc) : signal(ioc) {}
  std::deque<std::string> pending;
  asio::steady_timer signal;
  bool closing = false;
};
}  // namespace

const char* to_string(Fault f) {
  switch (f) {
    case Fault::none: return "none";
    case Fault::close_after_request: return "close_after_request";
    case Fault::reset_after_request: return "reset_after_request";
    case Fault::partial_response: return "partial_response";
    case Fault::slow_response: return "slow_response";
    case Fault::server_error: return "server_error";
    case Fault::garbage: return "garbage";
  }
  return "?";
}

TlsFiles make_self_signed_certificate(const std::string& dir) {
  TlsFiles files{dir + "/cert.pem", dir + "/key.pem"};
  auto r = hmc::testing::run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                      "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", files.key_file,
                                      "-out", files.cert_file, "-days", "2", "-subj", "/CN=127.0.0.1",
                                      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"});
  if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.out + r.err);
  return files;
}

struct TestServer::Impl {
  TestServer& owner;
  Handler handler;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<asio::ssl::context> tls;
  std::thread thread;

  mutable std::mutex mutex;  // guards the members below
  std::vector<RecordedRequest> recorded;
  std::map<int, Fault> faults;  // by request index
  Fault fault_all = Fault::none;
  int base = 0;  // requests_ when fail_at was called
  std::list<std::shared_ptr<EventStream>> streams;  // touched on the io thread only

  Impl(TestServer& o, Handler h) : owner(o), handler(std::move(h)) {}

  Fault fault_for(int index) {
    std::lock_guard lock(mutex);
    if (fault_all != Fault::none) return fault_all;
    auto it = faults.find(index);
    if (it == faults.end()) return Fault::none;
    Fault f = it->second;
    faults.erase(it);
    return f;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
      if (ec) co_return;
      ++owner.accepted_;
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // no Nagle stall on the last segment
      if (tls) {
        asio::co_spawn(ioc, tls_session(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(ioc, plain_session(std::move(socket)), asio::detached);
      }
    }
  }

  asio::awaitable<void> plain_session(tcp::socket socket) { co_await session(socket, socket); }

  asio::awaitable<void> tls_session(tcp::socket socket) {
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (ec) co_return;  // e.g. the client rejected the certificate
    co_await session(stream, stream.next_layer());
  }

  template <class Stream>
  asio::awaitable<void> session(Stream& stream, tcp::socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, use_nothrow);
      if (ec) co_return;
      const int index = ++owner.requests_;
      RecordedRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.body = req.body();
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(f.value());
      }
      {
        std::lock_guard lock(mutex);
        recorded.push_back(r);
      }
      const Fault fault = fault_for(index);
      beast::error_code ignored;
      switch (fault) {
        case Fault::close_after_request:
          socket.shutdown(tcp::socket::shutdown_both, ignored);
          socket.close(ignored);
          co_return;
        case Fault::reset_after_request:
          socket.set_option(asio::socket_base::linger(true, 0), ignored);
          socket.close(ignored);
          co_return;
        case Fault::partial_response: {
          const std::string partial = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                      "Content-Length: 1000\r\n\r\n{\"id\":\"/heron";
          co_await asio::async_write(stream, asio::buffer(partial), use_nothrow);
          socket.shutdown(tcp::socket::shutdown_both, ignored);
          socket.close(ignored);
          co_return;
        }
        case Fault::garbage: {
          const std::string garbage = "\x16\x03\x01 this is not HTTP at all\r\n\r\n";
          co_await asio::async_write(stream, asio::buffer(garbage), use_nothrow);
          socket.shutdown(tcp::socket::shutdown_both, ignored);
          socket.close(ignored);
          co_return;
        }
        case Fault::slow_response: {
          asio::steady_timer t(ioc, std::chrono::milliseconds{owner.slow_delay_ms_.load()});
          co_await t.async_wait(use_nothrow);
          break;
        }
        case Fault::server_error: {
          http::response<http::string_body> res{http::status::service_unavailable, 11};
          res.set(http::field::content_type, "application/json");
          res.body() = R"({"message":"Marathon is not leading"})";
          res.keep_alive(req.keep_alive());
          res.prepare_payload();
          auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
          if (wec || !res.keep_alive()) co_return;
          continue;
        }
        case Fault::none: break;
      }

      Reply reply = handler(r);
      if (reply.event_stream) {
        co_await serve_events(stream, socket);
        co_return;
      }
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, "application/json");
      for (const auto& [k, v] : reply.headers) res.set(k, v);
      res.body() = std::move(reply.body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
      if (wec || !res.keep_alive()) co_return;
    }
  }

  // An SSE response: no length, the body runs until the connection closes.
  template <class Stream>
  asio::awaitable<void> serve_events(Stream& stream, tcp::socket& socket) {
    const std::string header =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\n\r\nevent: event_stream_attached\r\ndata: {\"eventType\":\"event_stream_attached\"}\r\n\r\n";
    auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(header), use_nothrow);
    if (hec) co_return;
    auto es = std::make_shared<EventStream>(ioc);
    streams.push_back(es);
    ++owner.open_streams_;
    // The client sends nothing more: any read completion means it went away.
    asio::co_spawn(
        ioc,
        [es, &stream]() -> asio::awaitable<void> {
          std::array<char, 256> sink;
          (void)co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
          es->closing = true;
          es->signal.cancel();
        },
        asio::detached);
    for (;;) {
      while (!es->pending.empty()) {
        const std::string frame = std::move(es->pending.front());
        es->pending.pop_front();
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(frame), use_nothrow);
        if (wec) es->closing = true;
      }
      if (es->closing) break;
      es->signal.expires_after(std::chrono::hours{1});
      co_await es->signal.async_wait(use_nothrow);
    }
    --owner.open_streams_;
    streams.remove(es);
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
};

TestServer::TestServer(Handler handler, std::optional<TlsFiles> tls, int port)
    : impl_(std::make_unique<Impl>(*this, std::move(handler))), tls_(tls.has_value()) {
  if (tls) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(tls->cert_file);
    impl_->tls->use_private_key_file(tls->key_file, asio::ssl::context::pem);
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TestServer::~TestServer() {
  // Test-only server: stopping the context abandons every session at once.
  impl_->ioc.stop();
  impl_->thread.join();
}

std::string TestServer::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void TestServer::fail_at(int n, Fault fault) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults[requests_.load() + n] = fault;
}

void TestServer::fail_all(Fault fault) {
  std::lock_guard lock(impl_->mutex);
  impl_->fault_all = fault;
}

void TestServer::clear_faults() {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.clear();
  impl_->fault_all = Fault::none;
}

std::vector<RecordedRequest> TestServer::recorded() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->recorded;
}

void TestServer::push_event(const std::string& frame) {
  asio::post(impl_->ioc, [this, frame] {
    for (auto& s : impl_->streams) {
      s->pending.push_back(frame);
      s->signal.cancel();
    }
  });
}

void TestServer::close_streams() {
  asio::post(impl_->ioc, [this] {
    for (auto& s : impl_->streams) {
      s->closing = true;
      s->signal.cancel();
    }
  });
}

}  // namespace hmc::marathon::testing
