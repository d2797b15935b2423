// The Marathon client on Boost.Beast: the only translation unit of the adapter
// that includes Asio and Beast.
//
// A request runs on its caller's thread: it takes a keep-alive connection
// from the pool, writes and reads with Beast's blocking calls, and a deadline
// watch shuts the socket down if the answer is late. Only what needs the
// reactor runs on the client's own io_context thread: resolving and
// connecting (with the TLS handshake), and the event stream. A request thus
// costs its two socket calls, not a hand-off to another thread and back.

#include "hmc/common/thread_name.hpp"
#include "hmc/marathon/dcos_auth.hpp"
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

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
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

// Deadlines of the exchanges blocked on callers' threads. A socket whose
// deadline passes is shut down, which ends its blocked read or write. At most
// one entry per open connection, so a vector scanned in full is enough; the
// thread sleeps until the earliest deadline and is woken only when an entry
// comes due sooner than that (all requests share one timeout, so rarely).
class DeadlineWatch {
 public:
  DeadlineWatch() : thread_([this] { run(); }) {}
  ~DeadlineWatch() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  std::uint64_t arm(int fd, SteadyTime deadline) {
    std::lock_guard lock(mu_);
    const std::uint64_t ticket = ++last_ticket_;
    if (closed_) {
      ::shutdown(fd, SHUT_RDWR);
      return ticket;  // never armed: disarm says it fired
    }
    armed_.push_back(Entry{ticket, fd, deadline});
    if (deadline < wake_at_) cv_.notify_one();
    return ticket;
  }

  // False when the deadline fired first (the socket is shut down).
  bool disarm(std::uint64_t ticket) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(armed_.begin(), armed_.end(), [&](const Entry& e) { return e.ticket == ticket; });
    if (it == armed_.end()) return false;
    *it = armed_.back();
    armed_.pop_back();
    return true;
  }

  // Shuts every armed socket down now, and any armed later (the client is closing).
  void fire_all() {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& e : armed_) ::shutdown(e.fd, SHUT_RDWR);
    armed_.clear();
  }

 private:
  struct Entry {
    std::uint64_t ticket;
    int fd;
    SteadyTime deadline;
  };

  void run() {
    name_this_thread("hmc-marathon-dl");
    std::unique_lock lock(mu_);
    while (!stopping_) {
      const auto now = std::chrono::steady_clock::now();
      wake_at_ = SteadyTime::max();
      for (std::size_t i = 0; i < armed_.size();) {
        if (armed_[i].deadline <= now) {
          // The fd stays open until its owner disarms, so this is its socket.
          ::shutdown(armed_[i].fd, SHUT_RDWR);
          armed_[i] = armed_.back();
          armed_.pop_back();
        } else {
          wake_at_ = std::min(wake_at_, armed_[i].deadline);
          ++i;
        }
      }
      if (wake_at_ == SteadyTime::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, wake_at_);
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> armed_;
  std::uint64_t last_ticket_ = 0;
  SteadyTime wake_at_ = SteadyTime::max();
  bool closed_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

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
    {
      std::lock_guard lock(pool_mu_);
      stopping_ = true;
    }
    pool_cv_.notify_all();
    deadlines_.fire_all();  // requests in flight end now, as "client shut down"
    {
      std::unique_lock lock(pool_mu_);
      pool_cv_.wait(lock, [&] { return active_calls_ == 0; });
      for (auto& c : idle_) c->close();
      idle_.clear();
    }
    asio::post(ioc_, [this] { stop_events(); });
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

    auto deployments = list_deployments();
    if (!deployments) return deployments.error();
    snapshot.deployments = std::move(*deployments);

    auto queue = call(http::verb::get, url_.path_prefix + "/v2/queue?embed=lastUnusedOffers", "/v2/queue");
    if (!queue) return queue.error();
    if (auto e = failure("GET /v2/queue", *queue)) return *e;
    auto parsed_queue = parse_queue(queue->body);
    if (!parsed_queue) return parsed_queue.error();
    snapshot.queue = std::move(*parsed_queue);
    return snapshot;
  }

  Result<std::vector<reconciler::ObservedDeployment>> list_deployments() override {
    auto r = call(http::verb::get, url_.path_prefix + "/v2/deployments", "/v2/deployments");
    if (!r) return r.error();
    if (auto e = failure("GET /v2/deployments", *r)) return *e;
    return parse_deployments(r->body);
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

  Result<ChangeResult> restart_app(const std::string& app_id, bool force) override {
    const std::string id = detail::normalize_group_id(app_id);
    return change(http::verb::post,
                  url_.path_prefix + "/v2/apps" + detail::encode_path(id) + "/restart" +
                      (force ? "?force=true" : "?force=false"),
                  "/v2/apps/{id}/restart", std::nullopt, "POST /v2/apps" + id + "/restart");
  }

  Result<void> reset_launch_delay(const std::string& app_id) override {
    const std::string id = detail::normalize_group_id(app_id);
    auto r = call(http::verb::delete_, url_.path_prefix + "/v2/queue" + detail::encode_path(id) + "/delay",
                  "/v2/queue/{id}/delay");
    if (!r) return r.error();
    // 404: the app is not in the launch queue, so it has no delay to reset.
    if (r->status == 404) return {};
    if (auto e = failure("DELETE /v2/queue" + id + "/delay", *r)) return *e;
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

  void pause_events(bool paused) override {
    asio::post(ioc_, [this, paused] {
      if (events_paused_ == paused) return;
      events_paused_ = paused;
      for (auto& sub : subscriptions_) {
        // Paused: end the open stream. Resumed: wake the loop waiting below.
        if (paused && sub->active != nullptr) sub->active->lowest().cancel();
        if (!paused && sub->backoff) sub->backoff->cancel();
      }
    });
  }

  void set_request_observer(RequestObserver observer) override {
    std::lock_guard lock(observer_mutex_);
    observer_ = std::move(observer);
  }

  // POST of a JSON body to the base URL itself: the DC/OS login endpoint.
  Result<LoginAnswer> post_to_base(const std::string& body) {
    auto r = call(http::verb::post, url_.path_prefix.empty() ? "/" : url_.path_prefix, "login", body);
    if (!r) return r.error();
    return LoginAnswer{r->status, std::move(r->body)};
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

  // Runs the request on the calling thread (see the top of the file).
  Result<HttpOutcome> call(http::verb method, std::string target, std::string route,
                           std::optional<std::string> body = std::nullopt) {
    if (ioc_.get_executor().running_in_this_thread()) {
      return make_error(ErrorSource::marathon, ErrorKind::internal,
                        "blocking Marathon call from the client's own thread (an event callback)");
    }
    HttpRequest request{method, std::move(target), std::move(route), std::move(body)};
    {
      std::lock_guard lock(pool_mu_);
      ++active_calls_;
    }
    HttpOutcome outcome = perform(request);
    {
      std::lock_guard lock(pool_mu_);
      if (--active_calls_ == 0 && stopping_) pool_cv_.notify_all();
    }
    if (outcome.error) return *outcome.error;
    return outcome;
  }

  http::request<http::string_body> make_request(const HttpRequest& r, const std::string& token) const {
    http::request<http::string_body> req{r.method, r.target, 11};
    req.set(http::field::host, host_header_);
    req.set(http::field::user_agent, user_agent_);
    req.set(http::field::accept, "application/json");
    if (!token.empty()) req.set(http::field::authorization, "token=" + token);
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

  HttpOutcome perform(const HttpRequest& r) {
    const SteadyTime deadline = std::chrono::steady_clock::now() + options_.request_timeout;
    std::string token = options_.token;
    if (options_.token_provider) {
      auto t = options_.token_provider->token();
      if (!t) {
        HttpOutcome out;
        out.error = t.error();
        out.error->message = describe(r) + ": " + out.error->message;
        return out;
      }
      token = std::move(*t);
    }
    HttpOutcome out = observed_attempt(r, deadline, token);
    // DC/OS: a token expired or revoked early; log in again, send once more.
    if (out.status == 401 && options_.token_provider) {
      options_.token_provider->rejected(token);
      auto t = options_.token_provider->token();
      if (t) out = observed_attempt(r, std::chrono::steady_clock::now() + options_.request_timeout, *t);
    }
    return out;
  }

  HttpOutcome observed_attempt(const HttpRequest& r, SteadyTime deadline, const std::string& token) {
    const auto start = std::chrono::steady_clock::now();
    HttpOutcome out = attempt(r, deadline, token);
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
    return out;
  }

  HttpOutcome attempt(const HttpRequest& r, SteadyTime deadline, const std::string& token) {
    HttpOutcome out;
    auto req = make_request(r, token);
    const std::string what = describe(r);
    for (int attempt_no = 0;; ++attempt_no) {
      bool reused = false;
      std::unique_ptr<Connection> conn = acquire(deadline, attempt_no > 0, reused);
      if (!conn) {
        out.error = stopping_ ? make_error(ErrorSource::marathon, ErrorKind::cancelled, what + ": client shut down")
                              : unavailable(what + ": no free connection before the deadline");
        return out;
      }
      if (!conn->connected) {
        if (auto e = connect_on_io_thread(*conn, deadline)) {
          release(std::move(conn), false);
          out.error = std::move(*e);
          out.error->message = what + ": " + out.error->message;
          return out;
        }
      }
      Exchange ex = conn->tls ? exchange(*conn->tls, *conn, req, deadline) : exchange(*conn->plain, *conn, req, deadline);
      if (ex.ec) {
        release(std::move(conn), false);
        const bool retry = reused && attempt_no == 0 && is_idempotent(r.method) && !ex.got_response_bytes &&
                           looks_like_dead_connection(ex.ec) && !stopping_;
        if (retry) continue;
        out.error = transport_error(what, ex.ec);
        return out;
      }
      const bool keep = ex.response.keep_alive();
      out.status = static_cast<int>(ex.response.result_int());
      out.deployment_header = std::string(ex.response["Marathon-Deployment-Id"]);
      out.body = std::move(ex.response.body());
      release(std::move(conn), keep);
      return out;
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
  std::unique_ptr<Connection> acquire(SteadyTime deadline, bool fresh, bool& reused) {
    std::unique_ptr<Connection> stale;
    std::unique_lock lock(pool_mu_);
    for (;;) {
      if (stopping_) return nullptr;
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        if (!fresh) {
          reused = true;
          return c;
        }
        stale = std::move(c);  // still counted in open_: the new one takes its place
        break;
      }
      if (open_ < options_.max_connections) {
        ++open_;
        break;
      }
      if (pool_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.max_connections)
        return nullptr;  // the deadline passed, nothing was released
    }
    lock.unlock();
    if (stale) stale->close();
    return new_connection();
  }

  void release(std::unique_ptr<Connection> c, bool reusable) {
    {
      std::lock_guard lock(pool_mu_);
      if (reusable && !stopping_) {
        idle_.push_back(std::move(c));
      } else {
        --open_;
      }
    }
    if (c) c->close();
    pool_cv_.notify_one();
  }

  // Resolving, connecting and the TLS handshake run on the client's thread;
  // the caller waits for them.
  std::optional<Error> connect_on_io_thread(Connection& c, SteadyTime deadline) {
    std::promise<std::optional<Error>> done;
    auto result = done.get_future();
    asio::co_spawn(ioc_, connect(c, deadline), [&done](std::exception_ptr e, std::optional<Error> error) {
      if (e) error = make_error(ErrorSource::marathon, ErrorKind::internal, "connecting failed unexpectedly");
      done.set_value(std::move(error));
    });
    return result.get();
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

  // One request and its answer with Beast's blocking calls, on the caller's
  // thread; the deadline watch ends a blocked call by shutting the socket.
  template <class Stream>
  Exchange exchange(Stream& stream, Connection& c, http::request<http::string_body>& req, SteadyTime deadline) {
    Exchange ex;
    const std::uint64_t ticket = deadlines_.arm(c.lowest().socket().native_handle(), deadline);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    http::write(stream, req, ex.ec);
    if (!ex.ec) {
      http::read(stream, c.buffer, parser, ex.ec);
      ex.got_response_bytes = parser.got_some();
    }
    if (!deadlines_.disarm(ticket)) {
      ex.ec = stopping_ ? beast::error_code(asio::error::operation_aborted) : beast::error_code(beast::error::timeout);
    }
    if (!ex.ec) ex.response = parser.release();
    return ex;
  }

  asio::awaitable<void> run_events(std::shared_ptr<Subscription> sub) {
    auto delay = options_.event_backoff_initial;
    while (!stopping_) {
      while (events_paused_ && !stopping_) {
        sub->backoff->expires_after(std::chrono::hours(24));
        co_await sub->backoff->async_wait(use_nothrow);
        delay = options_.event_backoff_initial;
      }
      if (stopping_) break;
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
      if (events_paused_) continue;  // closed on purpose; waits above until resumed
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
    // The I/O thread must not wait for a login: the provider's token as it is.
    const std::string token = options_.token_provider ? options_.token_provider->current_token() : options_.token;
    if (!token.empty()) req.set(http::field::authorization, "token=" + token);

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
    if (status == 401 && options_.token_provider) options_.token_provider->rejected(token);
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

  // Runs on the client's thread: cancels the event streams so that
  // io_context::run() returns once their coroutines have unwound.
  void stop_events() {
    for (auto& sub : subscriptions_) {
      if (sub->active != nullptr) {
        sub->active->lowest().cancel();
      }
      if (sub->backoff) sub->backoff->cancel();
    }
  }

  MarathonOptions options_;
  detail::BaseUrl url_;
  std::unique_ptr<ssl::context> tls_;
  std::string user_agent_;
  std::string host_header_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;

  std::atomic<bool> stopping_{false};

  // The pool, shared by the callers' threads.
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;  // a connection released; the last call ended while stopping
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
  int active_calls_ = 0;
  DeadlineWatch deadlines_;

  // Touched only on the client's thread.
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  bool events_paused_ = false;  // on the client's thread only

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

Result<LoginTransport> make_login_transport(const std::string& login_endpoint, const MarathonOptions& options) {
  MarathonOptions login = options;
  login.base_url = login_endpoint;
  login.token.clear();
  login.token_provider.reset();
  login.max_connections = 1;
  auto client = make_client(login);
  if (!client) return client.error();
  std::shared_ptr<BeastMarathonClient> beast(static_cast<BeastMarathonClient*>(client->release()));
  return LoginTransport([beast](const std::string& body) { return beast->post_to_base(body); });
}

}  // namespace hmc::marathon
