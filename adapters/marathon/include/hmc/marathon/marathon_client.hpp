#pragma once
// A narrow, synchronous interface to Marathon's v2 REST API. The real
// implementation (Boost.Beast) keeps a pool of keep-alive connections, puts a
// deadline on every request, sends `Authorization: token=<t>` and verifies TLS
// certificates for https. A fake for unit tests lives in test/.
//
// Threading: every method may be called from any thread concurrently and
// blocks until an answer, an error or the deadline.
//
// Errors (hmc::Error, source marathon): 404 not_found; 409 with a deployments
// list locked, other 409 conflict; 400/422 invalid (message carries Marathon's
// details); 401/403 unauthorized; 5xx, timeouts, resets unavailable.

#include "hmc/common/error.hpp"
#include "hmc/reconciler/observed.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::marathon {

class TokenProvider;  // hmc/marathon/dcos_auth.hpp

struct MarathonOptions {
  std::string base_url = "http://127.0.0.1:8080";  // may carry a path (DC/OS /service/marathon)
  std::string token;                // DC/OS token; empty: no Authorization header
  // A DC/OS service-account login instead of the static token: every request
  // carries its current token, and a 401 answer makes it log in again and
  // the request is sent once more with the new token.
  std::shared_ptr<TokenProvider> token_provider;
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds connect_timeout{3000};
  int max_connections = 8;          // pool size per client
  std::string ca_file;              // extra CA bundle for https; empty: system default
  bool verify_tls = true;
  // Appended to "heron-marathon-controller" in User-Agent (e.g. the replica
  // identity), so a server's request log can tell clients apart.
  std::string user_agent_suffix;
  // Event stream: reconnect when nothing (not even a keep-alive) arrived for
  // this long; 0 disables the idle deadline. Reconnects back off
  // exponentially from event_backoff_initial up to event_backoff_max.
  std::chrono::milliseconds event_idle_timeout{120000};
  std::chrono::milliseconds event_backoff_initial{250};
  std::chrono::milliseconds event_backoff_max{30000};
};

struct ChangeResult {
  std::string deployment_id;  // empty when Marathon started no deployment
  std::string version;
};

// Observed per request, for metrics (route is a template, never a raw path).
struct RequestRecord {
  std::string method;
  std::string route;  // e.g. "/v2/groups/{id}"
  int code = 0;       // HTTP status, 0 when no answer
  std::chrono::nanoseconds duration{0};
};
using RequestObserver = std::function<void(const RequestRecord&)>;

class MarathonClient {
 public:
  virtual ~MarathonClient() = default;

  // The bulk observation: GET /v2/groups/<root>?embed=group.groups&embed=group.apps
  // &embed=group.apps.counts&embed=group.apps.deployments&embed=group.apps.lastTaskFailure
  // (not group.apps.taskStats: Marathon computes it per app from its instance
  // tracker on every read, and lastTaskFailure's version against the app's
  // versionInfo.lastConfigChangeAt tells the same for failures),
  // GET /v2/deployments, GET /v2/queue?embed=lastUnusedOffers. Three requests,
  // whatever the number of topologies. A missing root group is an empty map.
  // The returned snapshot has generation 0: the caller numbers snapshots.
  virtual Result<reconciler::MarathonSnapshot> observe(const std::string& group_root) = 0;
  // GET /v2/deployments alone: the cheap part of an observation (Marathon
  // keeps deployments in memory; the group tree is its most expensive read).
  virtual Result<std::vector<reconciler::ObservedDeployment>> list_deployments() = 0;

  virtual Result<ChangeResult> create_group(const std::string& body) = 0;
  virtual Result<ChangeResult> update_group(const std::string& group_id, const std::string& body,
                                            bool force) = 0;
  // PUT {"scaleBy": factor}.
  virtual Result<ChangeResult> scale_group(const std::string& group_id, double factor,
                                           bool force) = 0;
  virtual Result<ChangeResult> delete_group(const std::string& group_id, bool force) = 0;
  // DELETE /v2/deployments/<id>?force=true: cancel without rollback.
  virtual Result<void> cancel_deployment(const std::string& deployment_id) = 0;
  // POST /v2/apps/<id>/restart?force=<force>: replaces the app's tasks with
  // new ones (a new config version, so its launch backoff is gone too).
  // Errors: not_found for a missing app; locked when a deployment holds the
  // app and force is false.
  virtual Result<ChangeResult> restart_app(const std::string& app_id, bool force) = 0;
  // DELETE /v2/queue/<id>/delay: drops the app's launch backoff. An app with
  // no delay (Marathon answers 404, "not found in tasks queue") is a success.
  virtual Result<void> reset_launch_delay(const std::string& app_id) = 0;
  // GET /ping and /v2/info: the raw info body.
  virtual Result<std::string> info() = 0;

  // Subscribes to /v2/events (SSE) on a background connection that reconnects
  // with backoff. `on_event(event_type, data)` runs on the client's thread: it
  // must only hand the hint off. Stopped by the client's destructor.
  virtual void subscribe_events(std::vector<std::string> event_types,
                                std::function<void(const std::string&, const std::string&)> on_event) = 0;
  // While paused the event streams are closed, so Marathon serializes no
  // events for this client; resumed, they reconnect at once (the first event
  // is event_stream_attached). For a caller that would ignore the hints for a
  // while anyway. Applies to later subscriptions too.
  virtual void pause_events(bool paused) = 0;

  virtual void set_request_observer(RequestObserver observer) = 0;
};

// Errors: invalid (malformed base URL, unreadable CA file).
Result<std::unique_ptr<MarathonClient>> make_client(const MarathonOptions& options);

// Parsers of Marathon's JSON (pure, exposed for tests). Errors: invalid.
// parse_groups takes the body of GET /v2/groups/<root> and returns the topology
// groups: the direct subgroups of group_root, by absolute id.
Result<std::map<std::string, reconciler::ObservedGroup>> parse_groups(std::string_view json,
                                                                      const std::string& group_root);
Result<std::vector<reconciler::ObservedDeployment>> parse_deployments(std::string_view json);
Result<std::vector<reconciler::QueueEntry>> parse_queue(std::string_view json);

}  // namespace hmc::marathon
