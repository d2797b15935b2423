// The only translation unit with Asio and Beast.
#include "server.hpp"

#include "simulator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>

#include <unistd.h>

namespace hmc::marathon_sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxEventChunk = 256 * 1024;  // bytes of events per chunk written

void write_port_file(const std::string& path, unsigned short port) {
  const auto tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write port file " + tmp);
    f << port << "\n";
  }
  std::filesystem::rename(tmp, path);
}

class Server {
 public:
  Server(net::io_context& ioc, Simulator& sim, const SimOptions& o)
      : ioc_(ioc), sim_(sim), options_(o), acceptor_(ioc), offer_timer_(ioc), signals_(ioc, SIGTERM, SIGINT) {}

  void start() {
    boost::system::error_code ec;
    const auto address = net::ip::make_address(options_.listen_host, ec);
    if (ec) throw std::runtime_error("--listen: '" + options_.listen_host + "' is not an IP address");
    tcp::endpoint ep{address, options_.listen_port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep, ec);
    if (ec) throw std::runtime_error("cannot listen on " + options_.listen_host + ":" +
                                     std::to_string(options_.listen_port) + ": " + ec.message());
    acceptor_.listen(net::socket_base::max_listen_connections);
    const auto port = acceptor_.local_endpoint().port();
    sim_.set_listen_address(options_.listen_host + ":" + std::to_string(port));
    if (!options_.port_file.empty()) write_port_file(options_.port_file, port);
    if (!options_.quiet)
      std::cerr << "marathon-sim listening on " << options_.listen_host << ":" << port << " ("
                << sim_.agents().size() << " agents, offer period " << options_.offer_period.count() << "ms"
                << (options_.deterministic ? ", deterministic" : "") << ")" << std::endl;
    signals_.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) stop();
    });
    net::co_spawn(ioc_, accept_loop(), net::detached);
    if (!options_.deterministic) net::co_spawn(ioc_, offer_loop(), net::detached);
    if (options_.exit_with_parent) net::co_spawn(ioc_, parent_watch(::getppid()), net::detached);
  }

 private:
  void stop() {
    if (stopping_) return;
    stopping_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    offer_timer_.cancel();
    signals_.cancel(ec);
    auto closers = closers_;
    for (auto& [id, close] : closers) close();
  }

  net::awaitable<void> accept_loop() {
    while (!stopping_) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
      if (ec) {
        if (stopping_ || ec == net::error::operation_aborted) break;
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      net::co_spawn(ioc_, session(std::move(socket)), net::detached);
    }
  }

  // A crashed test must not leave simulators behind: once reparented, stop.
  net::awaitable<void> parent_watch(pid_t parent) {
    net::steady_timer timer(ioc_);
    const auto id = ++session_counter_;
    closers_[id] = [&timer] { timer.cancel(); };
    while (!stopping_) {
      timer.expires_after(std::chrono::milliseconds(500));
      co_await timer.async_wait(kTuple);
      if (!stopping_ && ::getppid() != parent) {
        closers_.erase(id);
        stop();
        co_return;
      }
    }
    closers_.erase(id);
  }

  net::awaitable<void> offer_loop() {
    while (!stopping_) {
      offer_timer_.expires_after(options_.offer_period);
      auto [ec] = co_await offer_timer_.async_wait(kTuple);
      if (ec || stopping_) break;
      sim_.run_offer_cycle();
    }
  }

  net::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    const auto id = ++session_counter_;
    closers_[id] = [&stream] {
      boost::system::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream.socket().close(ec);
    };
    std::string remote;
    {
      boost::system::error_code ec;
      auto ep = stream.socket().remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    beast::flat_buffer buffer;
    net::steady_timer delay(ioc_);
    while (!stopping_) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(256 * 1024 * 1024);
      stream.expires_after(kIdleTimeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (ec) break;
      auto& req = parser.get();
      Request r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.body = std::move(req.body());
      r.authorization = std::string(req[http::field::authorization]);
      r.user_agent = std::string(req[http::field::user_agent]);
      r.host = std::string(req[http::field::host]);
      Response resp = sim_.handle(r);
      if (resp.delay.count() > 0) {
        delay.expires_after(resp.delay);
        auto [dec] = co_await delay.async_wait(kTuple);
        if (dec || stopping_) break;
      }
      if (resp.reset) {
        // An abortive close: the client sees a connection reset.
        boost::system::error_code lec;
        stream.socket().set_option(net::socket_base::linger(true, 0), lec);
        stream.socket().close(lec);
        break;
      }
      if (resp.event_stream) {
        co_await event_stream(stream, req.version(), resp, remote);
        break;
      }
      http::response<http::string_body> res{static_cast<http::status>(resp.status), req.version()};
      res.set(http::field::server, "marathon-sim");
      res.set(http::field::content_type, resp.content_type);
      for (const auto& [k, v] : resp.headers) res.set(k, v);
      res.keep_alive(req.keep_alive());
      res.body() = std::move(resp.body);
      res.prepare_payload();
      stream.expires_after(kWriteTimeout);
      auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
      if (wec || !res.keep_alive()) break;
    }
    closers_.erase(id);
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  net::awaitable<void> event_stream(beast::tcp_stream& stream, unsigned version, const Response& resp,
                                    const std::string& remote) {
    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::server, "marathon-sim");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache, no-store, must-revalidate");
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    stream.expires_after(kWriteTimeout);
    auto [hec, hn] = co_await http::async_write_header(stream, sr, kTuple);
    if (hec) co_return;

    struct Channel {
      explicit Channel(net::io_context& ioc) : wake(ioc) {}
      std::deque<std::string> frames;
      net::steady_timer wake;
    };
    auto ch = std::make_shared<Channel>(ioc_);
    const auto sub = sim_.subscribe(
        resp.event_types,
        [ch](const std::string& frame) {
          ch->frames.push_back(frame);
          ch->wake.cancel();
        },
        remote);
    const auto closer_id = ++session_counter_;
    closers_[closer_id] = [ch] { ch->wake.cancel(); };
    bool broken = false;
    while (!stopping_ && !broken) {
      while (!ch->frames.empty() && !stopping_) {
        // Every event queued meanwhile goes in one chunk (one write): a
        // rollout queues thousands between two turns of this loop.
        std::string chunk = std::move(ch->frames.front());
        ch->frames.pop_front();
        while (!ch->frames.empty() && chunk.size() < kMaxEventChunk) {
          chunk += ch->frames.front();
          ch->frames.pop_front();
        }
        stream.expires_after(kWriteTimeout);
        auto [wec, wn] = co_await net::async_write(stream, http::make_chunk(net::buffer(chunk)), kTuple);
        if (wec) {
          broken = true;
          break;
        }
      }
      if (broken) break;
      ch->wake.expires_after(std::chrono::hours(24));
      co_await ch->wake.async_wait(kTuple);
    }
    closers_.erase(closer_id);
    sim_.unsubscribe(sub);
  }

  net::io_context& ioc_;
  Simulator& sim_;
  SimOptions options_;
  tcp::acceptor acceptor_;
  net::steady_timer offer_timer_;
  net::signal_set signals_;
  bool stopping_ = false;
  std::uint64_t session_counter_ = 0;
  std::map<std::uint64_t, std::function<void()>> closers_;
};

}  // namespace

void serve(Simulator& sim, const SimOptions& options) {
  net::io_context ioc{1};
  Server server(ioc, sim, options);
  server.start();
  ioc.run();
}

}  // namespace hmc::marathon_sim
