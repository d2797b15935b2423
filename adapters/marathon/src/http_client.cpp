// The Marathon client on Boost.Beast: the only translation unit of the adapter
// that includes Asio and Beast.
//
// One io_context runs on the client's own thread; every blocking method
// co_spawns a coroutine onto it and waits for the result. All pool state is
// touched only from that thread, so it needs no lock.

#include "hmc/common/thread_name.hpp"
#include "hmc/marathon/marathon_client.hpp"
#include "hmc/common/log.hpp"
#include "marathon_internal.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <deque>
#include <exception>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

namespace hmc::marathon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t kBodyLimit = 256u << 20;  // a whole cluster's groups fits
constexpr const char* kUserAgent = "heron-marathon-controller";
constexpr const char* kGroupEmbed =
    "?embed=group.groups&embed=group.apps&embed=group.apps.counts&embed=group.apps.deployments"
    "&embed=group.apps.lastTaskFailure";

Error unavailable(std::string message) {
  return make_error(ErrorSource::marathon, ErrorKind::unavailable, std::move(message));
}

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool connected = false;

  beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *plain; }
  void close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
    connected = false;
  }
};

struct HttpRequest {
  http::verb method = http::verb::get;
  std::string target;  // with the base path and query
  std::string route;   // template for metrics
  std::optional<std::string> body;
};

// What a request came back with; default-constructible for co_spawn.
struct HttpOutcome {
  HttpOutcome() = default;  // not an aggregate: Result<HttpOutcome> must not take an Error as a value
  std::optional<Error> error;  // transport failure: no HTTP answer
  int status = 0;
  std::string body;
  std::string deployment_header;
};

struct Exchange {
  beast::error_code ec;
  bool got_response_bytes = false;
  http::response<http::string_body> response;
};

struct Subscription {
  std::vector<std::string> event_types;
  std::function<void(const std::string&, const std::string&)> on_event;
  Connection* active = nullptr;  // the stream's connection while it is open
  std::unique_ptr<asio::steady_timer> backoff;
};

bool is_idempotent(http::verb v) {
  return v == http::verb::get || v == http::verb::put || v == http::verb::delete_ || v == http::verb::head;
}

// A pooled connection the server closed while idle fails like this before
// any byte of the answer arrives.
bool looks_like_dead_connection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected;
}

class BeastMarathonClient final : public MarathonClient {
 public:
  BeastMarathonClient(MarathonOptions options, detail::BaseUrl url, std::unique_ptr<ssl::context> tls)
      : options_(std::move(options)),
        url_(std::move(url)),
        tls_(std::move(tls)),
        work_(asio::make_work_guard(ioc_)) {
    user_agent_ = kUserAgent;
    if (!options_.user_agent_suffix.empty()) user_agent_ += " " + options_.user_agent_suffix;
    host_header_ = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    if (!((url_.https && url_.port == "443") || (!url_.https && url_.port == "80"))) {
      host_header_ += ":" + url_.port;
    }
    if (options_.max_connections < 1) options_.max_connections = 1;
    thread_ = std::thread([this] {
      name_this_thread("hmc-marathon-io");
      ioc_.run();
    });
  }

  ~BeastMarathonClient() override {
    asio::post(ioc_, [this] { stop_all(); });
    work_.reset();
    thread_.join();
  }

  Result<reconciler::MarathonSnapshot> observe(const std::string& group_root) override {
    reconciler::MarathonSnapshot snapshot;
    snapshot.started_at = Clock::now();
    const std::string root = detail::normalize_group_id(group_root);
    const bool whole_tree = root == "/";
    auto groups = call(http::verb::get,
                       url_.path_prefix + "/v2/groups" + (whole_tree ? "" : detail::encode_path(root)) + kGroupEmbed,
                       whole_tree ? "/v2/groups" : "/v2/groups/{id}");
    if (!groups) return groups.error();
    if (groups->status != 404) {
      if (auto e = failure("GET /v2/groups" + root, *groups)) return *e;
      auto parsed = parse_groups(groups->body, root);
      if (!parsed) return parsed.error();
      snapshot.groups = std::move(*parsed);
    }

    auto deployments = call(http::verb::get, url_.path_prefix + "/v2/deployments", "/v2/deployments");
    if (!deployments) return deployments.error();
    if (auto e = failure("GET /v2/deployments", *deployments)) return *e;
    auto parsed_deployments = parse_deployments(deployments->body);
    if (!parsed_deployments) return parsed_deployments.error();
    snapshot.deployments = std::move(*parsed_deployments);

    auto queue = call(http::verb::get, url_.path_prefix + "/v2/queue?embed=lastUnusedOffers", "/v2/queue");
    if (!queue) return queue.error();
    if (auto e = failure("GET /v2/queue", *queue)) return *e;
    auto parsed_queue = parse_queue(queue->body);
    if (!parsed_queue) return parsed_queue.error();
    snapshot.queue = std::move(*parsed_queue);
    return snapshot;
  }

  Result<ChangeResult> create_group(const std::string& body) override {
    return change(http::verb::post, url_.path_prefix + "/v2/groups", "/v2/groups", body, "POST /v2/groups");
  }

  Result<ChangeResult> update_group(const std::string& group_id, const std::string& body, bool force) override {
    const std::string id = detail::normalize_group_id(group_id);
    return change(http::verb::put, group_target(id, force), "/v2/groups/{id}", body, "PUT /v2/groups" + id);
  }

  Result<ChangeResult> scale_group(const std::string& group_id, double factor, bool force) override {
    auto body = detail::scale_body(factor);
    if (!body) return body.error();
    const std::string id = detail::normalize_group_id(group_id);
    return change(http::verb::put, group_target(id, force), "/v2/groups/{id}", *body, "PUT /v2/groups" + id);
  }

  Result<ChangeResult> delete_group(const std::string& group_id, bool force) override {
    const std::string id = detail::normalize_group_id(group_id);
    return change(http::verb::delete_, group_target(id, force), "/v2/groups/{id}", std::nullopt,
                  "DELETE /v2/groups" + id);
  }

  Result<void> cancel_deployment(const std::string& deployment_id) override {
    const std::string target =
        url_.path_prefix + "/v2/deployments/" + detail::encode_path(deployment_id) + "?force=true";
    auto r = call(http::verb::delete_, target, "/v2/deployments/{id}");
    if (!r) return r.error();
    if (auto e = failure("DELETE /v2/deployments/" + deployment_id, *r)) return *e;
    return {};
  }

  Result<std::string> info() override {
    auto ping = call(http::verb::get, url_.path_prefix + "/ping", "/ping");
    if (!ping) return ping.error();
    if (auto e = failure("GET /ping", *ping)) return *e;
    auto r = call(http::verb::get, url_.path_prefix + "/v2/info", "/v2/info");
    if (!r) return r.error();
    if (auto e = failure("GET /v2/info", *r)) return *e;
    return std::move(r->body);
  }

  void subscribe_events(std::vector<std::string> event_types,
                        std::function<void(const std::string&, const std::string&)> on_event) override {
    auto sub = std::make_shared<Subscription>();
    sub->event_types = std::move(event_types);
    sub->on_event = std::move(on_event);
    asio::post(ioc_, [this, sub] {
      if (stopping_) return;
      sub->backoff = std::make_unique<asio::steady_timer>(ioc_);
      subscriptions_.push_back(sub);
      asio::co_spawn(ioc_, run_events(sub), asio::detached);
    });
  }

  void set_request_observer(RequestObserver observer) override {
    std::lock_guard lock(observer_mutex_);
    observer_ = std::move(observer);
  }

 private:
  std::string group_target(const std::string& id, bool force) const {
    return url_.path_prefix + "/v2/groups" + detail::encode_path(id) + (force ? "?force=true" : "?force=false");
  }

  // A non-2xx answer as an error; nullopt for success.
  static std::optional<Error> failure(const std::string& what, const HttpOutcome& r) {
    if (r.status >= 200 && r.status < 300) return std::nullopt;
    return detail::error_from_response(what, r.status, r.body);
  }

  Result<ChangeResult> change(http::verb method, std::string target, std::string route,
                              std::optional<std::string> body, const std::string& what) {
    auto r = call(method, std::move(target), std::move(route), std::move(body));
    if (!r) return r.error();
    if (auto e = failure(what, *r)) return *e;
    return detail::parse_change_result(r->body, r->deployment_header);
  }

  // Blocks the calling thread until the coroutine on the client's thread ends.
  Result<HttpOutcome> call(http::verb method, std::string target, std::string route,
                           std::optional<std::string> body = std::nullopt) {
    if (ioc_.get_executor().running_in_this_thread()) {
      return make_error(ErrorSource::marathon, ErrorKind::internal,
                        "blocking Marathon call from the client's own thread (an event callback)");
    }
    HttpRequest request{method, std::move(target), std::move(route), std::move(body)};
    std::promise<HttpOutcome> done;
    auto result = done.get_future();
    asio::co_spawn(ioc_, perform(std::move(request)), [&done](std::exception_ptr e, HttpOutcome outcome) {
      if (e) {
        outcome = HttpOutcome{};
        outcome.error = make_error(ErrorSource::marathon, ErrorKind::internal, "request failed unexpectedly");
      }
      done.set_value(std::move(outcome));
    });
    HttpOutcome outcome = result.get();
    if (outcome.error) return *outcome.error;
    return outcome;
  }

  http::request<http::string_body> make_request(const HttpRequest& r) const {
    http::request<http::string_body> req{r.method, r.target, 11};
    req.set(http::field::host, host_header_);
    req.set(http::field::user_agent, user_agent_);
    req.set(http::field::accept, "application/json");
    if (!options_.token.empty()) req.set(http::field::authorization, "token=" + options_.token);
    if (r.body) {
      req.set(http::field::content_type, "application/json");
      req.body() = *r.body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  std::string describe(const HttpRequest& r) const {
    // The target without the query; ids are fine to log, tokens never reach it.
    std::string path = r.target.substr(0, r.target.find('?'));
    return std::string(http::to_string(r.method)) + " " + path;
  }

  asio::awaitable<HttpOutcome> perform(HttpRequest r) {
    const auto start = std::chrono::steady_clock::now();
    const SteadyTime deadline = start + options_.request_timeout;
    HttpOutcome out = co_await attempt(r, deadline);
    RequestObserver observer;
    {
      std::lock_guard lock(observer_mutex_);
      observer = observer_;
    }
    if (observer) {
      RequestRecord record{std::string(http::to_string(r.method)), r.route, out.status,
                           std::chrono::steady_clock::now() - start};
      observer(record);
    }
    co_return out;
  }

  asio::awaitable<HttpOutcome> attempt(const HttpRequest& r, SteadyTime deadline) {
    HttpOutcome out;
    auto req = make_request(r);
    const std::string what = describe(r);
    for (int attempt_no = 0;; ++attempt_no) {
      bool reused = false;
      std::unique_ptr<Connection> conn = co_await acquire(deadline, attempt_no > 0, reused);
      if (!conn) {
        out.error = stopping_ ? make_error(ErrorSource::marathon, ErrorKind::cancelled, what + ": client shut down")
                              : unavailable(what + ": no free connection before the deadline");
        co_return out;
      }
      if (!conn->connected) {
        if (auto e = co_await connect(*conn, deadline)) {
          release(std::move(conn), false);
          out.error = std::move(*e);
          out.error->message = what + ": " + out.error->message;
          co_return out;
        }
      }
      // Not a conditional expression: GCC 12 double-destroys co_await
      // temporaries in the arms of ?:.
      Exchange ex;
      if (conn->tls) {
        ex = co_await exchange(*conn->tls, *conn, req, deadline);
      } else {
        ex = co_await exchange(*conn->plain, *conn, req, deadline);
      }
      if (ex.ec) {
        release(std::move(conn), false);
        const bool retry = reused && attempt_no == 0 && is_idempotent(r.method) && !ex.got_response_bytes &&
                           looks_like_dead_connection(ex.ec) && !stopping_;
        if (retry) continue;
        out.error = transport_error(what, ex.ec);
        co_return out;
      }
      const bool keep = ex.response.keep_alive();
      out.status = static_cast<int>(ex.response.result_int());
      out.deployment_header = std::string(ex.response["Marathon-Deployment-Id"]);
      out.body = std::move(ex.response.body());
      release(std::move(conn), keep);
      co_return out;
    }
  }

  Error transport_error(const std::string& what, const beast::error_code& ec) const {
    if (ec == beast::error::timeout) {
      return unavailable(what + ": timed out after " + std::to_string(options_.request_timeout.count()) + "ms");
    }
    if (ec == http::error::body_limit) {
      return make_error(ErrorSource::marathon, ErrorKind::internal, what + ": response body too large");
    }
    if (ec == asio::error::operation_aborted && stopping_) {
      return make_error(ErrorSource::marathon, ErrorKind::cancelled, what + ": client shut down");
    }
    return unavailable(what + ": " + ec.message());
  }

  std::unique_ptr<Connection> new_connection() {
    auto c = std::make_unique<Connection>();
    if (tls_) {
      c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *tls_);
    } else {
      c->plain = std::make_unique<beast::tcp_stream>(ioc_);
    }
    return c;
  }

  // An idle pooled connection, else a new one while under max_connections,
  // else waits for a release until the deadline. `fresh` skips idle ones.
  asio::awaitable<std::unique_ptr<Connection>> acquire(SteadyTime deadline, bool fresh, bool& reused) {
    for (;;) {
      if (stopping_) co_return nullptr;
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        if (!fresh) {
          reused = true;
          co_return c;
        }
        c->close();
        co_return new_connection();
      }
      if (open_ < options_.max_connections) {
        ++open_;
        co_return new_connection();
      }
      asio::steady_timer wait(ioc_, deadline);
      waiters_.push_back(&wait);
      auto [ec] = co_await wait.async_wait(use_nothrow);
      std::erase(waiters_, &wait);
      if (!ec) co_return nullptr;  // the deadline passed, nothing was released
    }
  }

  void release(std::unique_ptr<Connection> c, bool reusable) {
    if (reusable && !stopping_) {
      idle_.push_back(std::move(c));
    } else {
      c->close();
      --open_;
    }
    if (!waiters_.empty()) {
      waiters_.front()->cancel();
      waiters_.pop_front();
    }
  }

  asio::awaitable<std::optional<Error>> connect(Connection& c, SteadyTime deadline) {
    const SteadyTime connect_deadline = std::min(deadline, std::chrono::steady_clock::now() + options_.connect_timeout);
    // The resolver has no deadline of its own: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(ioc_);
    auto guard = std::make_shared<asio::steady_timer>(ioc_, connect_deadline);
    guard->async_wait([resolver](beast::error_code ec) {
      if (!ec) resolver->cancel();
    });
    auto [rec, endpoints] = co_await resolver->async_resolve(url_.host, url_.port, use_nothrow);
    guard->cancel();
    if (rec) {
      if (rec == asio::error::operation_aborted && !stopping_) co_return unavailable("resolving " + url_.host + ": timed out");
      co_return unavailable("resolving " + url_.host + ": " + rec.message());
    }
    beast::tcp_stream& stream = c.lowest();
    stream.expires_at(connect_deadline);
    auto [cec, endpoint] = co_await stream.async_connect(endpoints, use_nothrow);
    if (cec) {
      co_return unavailable("connecting to " + url_.host + ":" + url_.port + ": " +
                            (cec == beast::error::timeout ? std::string("timed out") : cec.message()));
    }
    (void)endpoint;
    beast::error_code nodelay_ec;
    stream.socket().set_option(tcp::no_delay(true), nodelay_ec);
    if (c.tls) {
      beast::error_code not_ip;
      (void)asio::ip::make_address(url_.host, not_ip);
      if (not_ip) SSL_set_tlsext_host_name(c.tls->native_handle(), url_.host.c_str());
      if (options_.verify_tls) c.tls->set_verify_callback(ssl::host_name_verification(url_.host));
      stream.expires_at(connect_deadline);
      auto [hec] = co_await c.tls->async_handshake(ssl::stream_base::client, use_nothrow);
      if (hec) {
        co_return unavailable("TLS handshake with " + url_.host + ":" + url_.port + ": " +
                              (hec == beast::error::timeout ? std::string("timed out") : hec.message()));
      }
    }
    c.connected = true;
    co_return std::nullopt;
  }

  template <class Stream>
  asio::awaitable<Exchange> exchange(Stream& stream, Connection& c, http::request<http::string_body>& req,
                                     SteadyTime deadline) {
    Exchange ex;
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [wec, written] = co_await http::async_write(stream, req, use_nothrow);
    (void)written;
    if (wec) {
      ex.ec = wec;
      co_return ex;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [rec, read] = co_await http::async_read(stream, c.buffer, parser, use_nothrow);
    (void)read;
    ex.got_response_bytes = parser.got_some();
    if (rec) {
      ex.ec = rec;
      co_return ex;
    }
    ex.response = parser.release();
    co_return ex;
  }

  asio::awaitable<void> run_events(std::shared_ptr<Subscription> sub) {
    auto delay = options_.event_backoff_initial;
    while (!stopping_) {
      Connection c;
      if (tls_) {
        c.tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *tls_);
      } else {
        c.plain = std::make_unique<beast::tcp_stream>(ioc_);
      }
      sub->active = &c;
      bool attached = false;
      std::string failure = "refused by the server";
      if (auto e = co_await connect(c, std::chrono::steady_clock::now() + options_.request_timeout); e) {
        failure = e->message;
      } else {
        if (c.tls) {
          attached = co_await read_events(*c.tls, c, *sub);
        } else {
          attached = co_await read_events(*c.plain, c, *sub);
        }
      }
      sub->active = nullptr;
      c.close();
      if (stopping_) break;
      if (attached) {
        delay = options_.event_backoff_initial;
        log::warn("marathon event stream ended", {{"reconnect_in_ms", std::to_string(delay.count())}});
      } else {
        log::debug("marathon event stream unavailable",
                   {{"error", failure}, {"retry_in_ms", std::to_string(delay.count())}});
      }
      sub->backoff->expires_after(delay);
      co_await sub->backoff->async_wait(use_nothrow);
      delay = std::min(delay * 2, options_.event_backoff_max);
    }
  }

  // One event stream connection, until it ends; true if the server accepted it.
  template <class Stream>
  asio::awaitable<bool> read_events(Stream& stream, Connection& c, Subscription& sub) {
    std::string target = url_.path_prefix + "/v2/events";
    for (std::size_t i = 0; i < sub.event_types.size(); ++i) {
      target += (i == 0 ? "?event_type=" : "&event_type=") + detail::encode_path(sub.event_types[i]);
    }
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host_header_);
    req.set(http::field::user_agent, user_agent_);
    req.set(http::field::accept, "text/event-stream");
    req.set(http::field::cache_control, "no-cache");
    if (!options_.token.empty()) req.set(http::field::authorization, "token=" + options_.token);

    const auto start = std::chrono::steady_clock::now();
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(options_.request_timeout);
    auto [wec, written] = co_await http::async_write(stream, req, use_nothrow);
    (void)written;
    if (wec || stopping_) co_return false;

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    lowest.expires_after(options_.request_timeout);
    auto [hec, header_bytes] = co_await http::async_read_header(stream, c.buffer, parser, use_nothrow);
    (void)header_bytes;
    const int status = hec ? 0 : static_cast<int>(parser.get().result_int());
    {
      RequestObserver observer;
      {
        std::lock_guard lock(observer_mutex_);
        observer = observer_;
      }
      if (observer) observer(RequestRecord{"GET", "/v2/events", status, std::chrono::steady_clock::now() - start});
    }
    if (hec || status != 200 || stopping_) co_return false;

    detail::SseParser frames([&sub](const std::string& type, const std::string& data) {
      try {
        sub.on_event(type, data);
      } catch (...) {
        // A throwing callback must not take the client's thread down.
      }
    });
    std::array<char, 8192> chunk;
    while (!stopping_ && !parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      if (options_.event_idle_timeout.count() > 0) {
        lowest.expires_after(options_.event_idle_timeout);
      } else {
        lowest.expires_never();
      }
      // read_some: hand each frame on as it arrives instead of filling the chunk.
      auto [ec, n] = co_await http::async_read_some(stream, c.buffer, parser, use_nothrow);
      (void)n;
      const std::size_t got = chunk.size() - parser.get().body().size;
      if (got > 0 && !stopping_) frames.feed(std::string_view(chunk.data(), got));
      if (ec && ec != http::error::need_buffer) break;
    }
    co_return true;
  }

  // Runs on the client's thread: cancels every pending operation so that
  // io_context::run() returns once the coroutines have unwound.
  void stop_all() {
    stopping_ = true;
    for (auto& sub : subscriptions_) {
      if (sub->active != nullptr) {
        sub->active->lowest().cancel();
      }
      if (sub->backoff) sub->backoff->cancel();
    }
    for (auto& c : idle_) c->close();
    open_ -= static_cast<int>(idle_.size());
    idle_.clear();
    for (auto* w : waiters_) w->cancel();
    waiters_.clear();
  }

  MarathonOptions options_;
  detail::BaseUrl url_;
  std::unique_ptr<ssl::context> tls_;
  std::string user_agent_;
  std::string host_header_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;

  // Touched only on the client's thread.
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
  std::deque<asio::steady_timer*> waiters_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  bool stopping_ = false;

  std::mutex observer_mutex_;
  RequestObserver observer_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<MarathonClient>> make_client(const MarathonOptions& options) {
  auto url = detail::parse_base_url(options.base_url);
  if (!url) return url.error();
  if (options.request_timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    return make_error(ErrorSource::marathon, ErrorKind::invalid, "marathon timeouts must be positive");
  }
  std::unique_ptr<ssl::context> tls;
  if (url->https) {
    tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    if (options.verify_tls) {
      tls->set_verify_mode(ssl::verify_peer, ec);
      if (!options.ca_file.empty()) {
        if (!std::ifstream(options.ca_file).good()) {
          return make_error(ErrorSource::marathon, ErrorKind::invalid,
                            "marathon CA file '" + options.ca_file + "' cannot be read");
        }
        tls->load_verify_file(options.ca_file, ec);
        if (ec) {
          return make_error(ErrorSource::marathon, ErrorKind::invalid,
                            "marathon CA file '" + options.ca_file + "': " + ec.message());
        }
      } else {
        tls->set_default_verify_paths(ec);
      }
    } else {
      tls->set_verify_mode(ssl::verify_none, ec);
    }
  }
  return std::unique_ptr<MarathonClient>(
      std::make_unique<BeastMarathonClient>(options, std::move(*url), std::move(tls)));
}

}  // namespace hmc::marathon
