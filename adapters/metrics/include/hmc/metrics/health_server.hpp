#pragma once
// GET /healthz and /readyz on their own address, answered from two probes:
// 200 "ok" when the probe passes, 503 with the probe's reason otherwise.
//   /healthz: the process and its loop are alive (not wedged).
//   /readyz:  ZooKeeper connected, first sync done, leadership known.
// Other paths get 404, other methods than GET/HEAD 405.
//
// Threading: the server runs one thread of its own; the probes are called on
// it, one at a time, and must be quick and thread-safe. A probe that throws
// counts as failing. The destructor stops the server and joins its thread.

#include "hmc/common/error.hpp"

#include <functional>
#include <memory>
#include <string>

namespace hmc::metrics {

struct ProbeResult {
  bool ok = false;
  std::string message;  // why it fails; ignored when ok
};
using Probe = std::function<ProbeResult()>;

class HealthServer {
 public:
  // Listens on "HOST:PORT" (an IP address or "localhost"; port 0 picks a free
  // one). Errors (source config) name the address: invalid when malformed,
  // unavailable when it cannot be bound.
  static Result<std::unique_ptr<HealthServer>> start(const std::string& address, Probe healthz,
                                                     Probe readyz);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  int port() const;

  struct Impl;

 private:
  explicit HealthServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hmc::metrics
