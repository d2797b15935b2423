#pragma once
// The controller's Prometheus metrics, named after controller-runtime's with a
// `heron_marathon_` prefix, and the /metrics exposer that serves them.
//
// Every series whose labels are known in advance exists from construction
// (counters at 0, every phase at 0), so rates and alerts work from the first
// scrape. Label values are bounded: results, phases, Marathon methods, routes
// and decline reasons come from fixed sets (anything else becomes "other" or
// is ignored, as documented per method); per-topology series exist only while
// the controller reports them and are removed by clear_topology().
//
// Threading: every method may be called from any thread. The hot-path hooks
// (reconcile, workqueue, Marathon requests) touch only series looked up once.

#include "hmc/common/error.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::metrics {

inline constexpr const char* kPrefix = "heron_marathon_";

// The outcome of one reconcile, as controller-runtime labels it.
enum class ReconcileResult { success, error, requeue, requeue_after };
const char* to_string(ReconcileResult r) noexcept;

// Values of heron_marathon_zookeeper_session_state; the same order as
// hmc::zk::SessionState, so `static_cast<int>(state)` may be passed directly.
inline constexpr int kZkConnecting = 0;
inline constexpr int kZkConnected = 1;
inline constexpr int kZkExpired = 2;
inline constexpr int kZkAuthFailed = 3;
inline constexpr int kZkClosed = 4;

// The phases of status.hpp, in order; each has a `topologies{phase}` series.
const std::vector<std::string>& topology_phases();
// The ten reasons Marathon gives for declining an offer (funnel order).
const std::vector<std::string>& decline_reasons();
// The Marathon route templates a request is reported under.
const std::vector<std::string>& marathon_routes();
// Maps a method, route template or raw path (query string allowed) to the
// bounded label values: "/v2/groups/heron/x?force=true" -> "/v2/groups/{id}",
// unknown -> "other". Methods: GET, POST, PUT, PATCH, DELETE, HEAD, else "other".
std::string route_label(std::string_view route_or_path);
std::string method_label(std::string_view method);
// "200".."599" (any 100..599), "error" for 0 or negative (no answer), else "other".
std::string code_label(int code);

class ControllerMetrics {
 public:
  // `version` and `identity` label heron_marathon_build_info (value 1).
  ControllerMetrics(std::string version, std::string identity);
  ~ControllerMetrics();
  ControllerMetrics(const ControllerMetrics&) = delete;
  ControllerMetrics& operator=(const ControllerMetrics&) = delete;

  // Serves /metrics on "HOST:PORT" (port 0 picks a free one). Errors (source
  // config, kind unavailable) name the address when it cannot be bound or is
  // malformed. Calling it twice is an error (kind invalid).
  Result<void> start_exposer(const std::string& address);
  // The bound port after start_exposer, 0 before.
  int exposer_port() const;

  // --- reconcile loop
  void reconcile_done(ReconcileResult result, double seconds);
  void reconcile_error();

  // --- work queue (controller-runtime's workqueue_* metrics)
  void queue_add();
  void queue_depth(long n);
  void queue_wait(double seconds);       // time an item waited in the queue
  void work_time(double seconds);        // time processing an item took
  void retry();                          // an item was requeued with backoff
  void unfinished_work(double seconds);  // sum of the ages of items being processed
  void longest_running(double seconds);  // age of the oldest item being processed
  void active_workers(long n);
  void set_leader(bool is_leader);

  // --- Marathon API: one call per HTTP request. `route` may be a template or
  // a raw path (mapped by route_label); `code` 0 means no answer.
  void marathon_request(std::string_view method, std::string_view route, int code, double seconds);

  // --- ZooKeeper
  void zk_session_state(int state);  // kZk* values
  void zk_session_expired();

  // --- topologies
  // Counts per phase name (topology_phases()); phases not in the map are set
  // to 0, unknown names are ignored.
  void set_topologies_by_phase(const std::map<std::string, long>& counts);
  // How long a topology has been Waiting for offers.
  void set_topology_waiting(const std::string& topology, double seconds);
  // Offers declined for a waiting topology, per Marathon reason. Returns
  // false (and records nothing) for a reason not in decline_reasons().
  bool set_declined_offers(const std::string& topology, const std::string& reason, long count);
  // Removes the topology's waiting and declined-offer series (it is no longer
  // waiting, or is gone).
  void clear_topology(const std::string& topology);
  // container_failures_total{topology}: task failures counted for a
  // topology's containers (its Failing condition). The series exists from
  // the first failure until clear_container_failures (the topology is gone).
  void add_container_failures(const std::string& topology, long n);
  void clear_container_failures(const std::string& topology);
  void drift_repaired();
  void orphan_cleaned();

  // --- DC/OS service-account login (only when the controller logs in).
  // enable_dcos_login() creates dcos_logins_total{result} at 0 for every
  // result: "success", "refused" (the IAM answered 401/403), "unavailable"
  // (no answer or 5xx), "error" (anything else). A successful login also sets
  // dcos_token_expiry_timestamp_seconds (Unix time the token expires).
  // `result` outside that set counts as "error".
  void enable_dcos_login();
  void dcos_login(std::string_view result, double token_expires_unix_seconds = 0);

  // The exposition text of everything registered (what /metrics returns).
  std::string render_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hmc::metrics
