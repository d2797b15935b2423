#pragma once
// A small in-process HTTP/1.1 server (Boost.Beast, plain or TLS) on a free
// loopback port, for testing the Marathon client. It answers from a handler,
// records every request, counts accepted connections, serves text/event-stream
// responses, and injects a failure at the N-th request it reads (the Beast
// test style: fail at step N of an I/O sequence).

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hmc::marathon::testing {

enum class Fault {
  none,
  close_after_request,  // read the request, close without answering
  reset_after_request,  // read the request, abort the connection (RST)
  partial_response,     // a header promising more body than is sent, then close
  slow_response,        // answer only after slow_delay (beyond the client's deadline)
  server_error,         // 503 with a Marathon-style body
  garbage,              // bytes that are not HTTP, then close
};

const char* to_string(Fault f);

struct RecordedRequest {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Reply {
  Reply() = default;
  Reply(int s, std::string b) : status(s), body(std::move(b)) {}
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;
  bool event_stream = false;  // keep the connection as an SSE stream (see push_event)
};

using Handler = std::function<Reply(const RecordedRequest&)>;

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl
// CLI into `dir` (cert.pem, key.pem).
TlsFiles make_self_signed_certificate(const std::string& dir);

class TestServer {
 public:
  // port 0: any free port.
  explicit TestServer(Handler handler, std::optional<TlsFiles> tls = std::nullopt, int port = 0);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  std::string url() const;

  // The n-th request read from now on (1-based) gets `fault`.
  void fail_at(int n, Fault fault);
  // Every request gets `fault` until clear_faults().
  void fail_all(Fault fault);
  void clear_faults();
  void set_slow_delay(std::chrono::milliseconds d) { slow_delay_ms_ = d.count(); }

  int accepted() const { return accepted_.load(); }
  int requests() const { return requests_.load(); }
  std::vector<RecordedRequest> recorded() const;

  // Sends raw bytes ("event: x\ndata: y\n\n") to every open event stream.
  void push_event(const std::string& frame);
  // Closes every open event stream from the server side.
  void close_streams();
  int open_streams() const { return open_streams_.load(); }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  bool tls_ = false;
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> open_streams_{0};
  std::atomic<long long> slow_delay_ms_{3000};
};

}  // namespace hmc::marathon::testing
