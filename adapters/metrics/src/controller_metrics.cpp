#include "hmc/metrics/controller_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <sstream>
#include <unordered_map>

namespace hmc::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

std::string name(const char* suffix) { return std::string(kPrefix) + suffix; }

const Histogram::BucketBoundaries& reconcile_buckets() {
  static const Histogram::BucketBoundaries b{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                             1,     2.5,  5,     10,   30,  60};
  return b;
}

// Queue waits and work times span microseconds to minutes (client-go uses
// powers of ten as well).
const Histogram::BucketBoundaries& queue_buckets() {
  static const Histogram::BucketBoundaries b{1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000};
  return b;
}

const Histogram::BucketBoundaries& request_buckets() {
  static const Histogram::BucketBoundaries b{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,    2.5,   5,    10};
  return b;
}

// The (method, route) pairs the Marathon client issues; their duration
// series exist from the start.
const std::vector<std::pair<std::string, std::string>>& known_requests() {
  static const std::vector<std::pair<std::string, std::string>> v{
      {"GET", "/v2/groups/{id}"},  {"POST", "/v2/groups"},        {"PUT", "/v2/groups/{id}"},
      {"DELETE", "/v2/groups/{id}"}, {"GET", "/v2/deployments"},  {"DELETE", "/v2/deployments/{id}"},
      {"GET", "/v2/queue"},        {"GET", "/v2/info"},           {"GET", "/ping"},
      {"GET", "/v2/events"},
      {"POST", "/v2/apps/{id}/restart"}, {"DELETE", "/v2/queue/{id}/delay"},
  };
  return v;
}

}  // namespace

const char* to_string(ReconcileResult r) noexcept {
  switch (r) {
    case ReconcileResult::success: return "success";
    case ReconcileResult::error: return "error";
    case ReconcileResult::requeue: return "requeue";
    case ReconcileResult::requeue_after: return "requeue_after";
  }
  return "error";
}

const std::vector<std::string>& topology_phases() {
  static const std::vector<std::string> v{"Pending",   "Deploying", "Running", "Waiting",
                                          "Suspended", "Killing",   "Failed"};
  return v;
}

const std::vector<std::string>& decline_reasons() {
  static const std::vector<std::string> v{
      "UnfulfilledRole",    "UnfulfilledConstraint", "NoCorrespondingReservationFound",
      "AgentMaintenance",   "InsufficientCpus",      "InsufficientMemory",
      "InsufficientDisk",   "InsufficientGpus",      "InsufficientPorts",
      "DeclinedScarceResources"};
  return v;
}

const std::vector<std::string>& marathon_routes() {
  static const std::vector<std::string> v{
      "/v2/groups",     "/v2/groups/{id}", "/v2/apps",  "/v2/apps/{id}", "/v2/deployments",
      "/v2/deployments/{id}", "/v2/queue", "/v2/info", "/v2/leader", "/v2/events", "/ping",
      "/v2/apps/{id}/restart", "/v2/queue/{id}/delay"};
  return v;
}

std::string route_label(std::string_view r) {
  if (auto q = r.find('?'); q != std::string_view::npos) r = r.substr(0, q);
  while (r.size() > 1 && r.back() == '/') r.remove_suffix(1);
  for (const auto& known : marathon_routes())
    if (r == known) return known;
  // A raw path under a collection with an id becomes the collection's {id} template.
  auto ends = [&](std::string_view tail) { return r.size() > tail.size() && r.substr(r.size() - tail.size()) == tail; };
  if (r.substr(0, 9) == "/v2/apps/" && ends("/restart")) return "/v2/apps/{id}/restart";
  if (r.substr(0, 10) == "/v2/queue/" && ends("/delay")) return "/v2/queue/{id}/delay";
  for (std::string_view base : {"/v2/groups/", "/v2/apps/", "/v2/deployments/"}) {
    if (r.size() > base.size() && r.substr(0, base.size()) == base) return std::string(base) + "{id}";
  }
  return "other";
}

std::string method_label(std::string_view m) {
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})
    if (m == known) return known;
  return "other";
}

std::string code_label(int code) {
  if (code <= 0) return "error";
  if (code >= 100 && code <= 599) return std::to_string(code);
  return "other";
}

struct ControllerMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  Family<Counter>* reconcile_total_f = nullptr;
  std::array<Counter*, 4> reconcile_total{};
  Counter* reconcile_errors = nullptr;
  Histogram* reconcile_time = nullptr;

  Gauge* queue_depth = nullptr;
  Counter* queue_adds = nullptr;
  Histogram* queue_duration = nullptr;
  Histogram* work_duration = nullptr;
  Counter* queue_retries = nullptr;
  Gauge* unfinished_work = nullptr;
  Gauge* longest_running = nullptr;
  Gauge* active_workers = nullptr;
  Gauge* leader = nullptr;

  Family<Counter>* requests_f = nullptr;
  Family<Histogram>* request_duration_f = nullptr;

  Gauge* zk_state = nullptr;
  Counter* zk_expirations = nullptr;

  std::map<std::string, Gauge*> phases;
  Family<Gauge>* waiting_f = nullptr;
  Family<Gauge>* declined_f = nullptr;
  Family<Counter>* failures_f = nullptr;
  Counter* drift_repairs = nullptr;
  Counter* orphans_cleaned = nullptr;
  std::map<std::string, Counter*, std::less<>> dcos_logins;  // empty until enable_dcos_login
  Gauge* dcos_token_expiry = nullptr;

  // Series created after construction, under `mu`: requests by
  // method/route/code, durations of unexpected method/route pairs, and the
  // per-topology series.
  std::mutex mu;
  std::unordered_map<std::string, Counter*> requests;
  std::unordered_map<std::string, Histogram*> durations;
  std::map<std::string, Gauge*> waiting;
  std::map<std::string, std::map<std::string, Gauge*>> declined;
  std::map<std::string, Counter*> failures;

  std::unique_ptr<prometheus::Exposer> exposer;
  int exposer_port = 0;
};

ControllerMetrics::ControllerMetrics(std::string version, std::string identity)
    : impl_(std::make_unique<Impl>()) {
  auto& reg = *impl_->registry;
  auto& i = *impl_;

  i.reconcile_total_f = &BuildCounter()
                             .Name(name("reconcile_total"))
                             .Help("Reconciles per result (success, error, requeue, requeue_after).")
                             .Register(reg);
  for (auto r : {ReconcileResult::success, ReconcileResult::error, ReconcileResult::requeue,
                 ReconcileResult::requeue_after})
    i.reconcile_total[static_cast<std::size_t>(r)] = &i.reconcile_total_f->Add({{"result", to_string(r)}});
  i.reconcile_errors =
      &BuildCounter().Name(name("reconcile_errors_total")).Help("Reconciles that returned an error.").Register(reg).Add({});
  i.reconcile_time = &BuildHistogram()
                          .Name(name("reconcile_time_seconds"))
                          .Help("Time one reconcile took.")
                          .Register(reg)
                          .Add({}, reconcile_buckets());

  i.queue_depth = &BuildGauge().Name(name("workqueue_depth")).Help("Items waiting in the work queue.").Register(reg).Add({});
  i.queue_adds = &BuildCounter().Name(name("workqueue_adds_total")).Help("Items added to the work queue.").Register(reg).Add({});
  i.queue_duration = &BuildHistogram()
                          .Name(name("workqueue_queue_duration_seconds"))
                          .Help("Time an item waited in the work queue before being processed.")
                          .Register(reg)
                          .Add({}, queue_buckets());
  i.work_duration = &BuildHistogram()
                         .Name(name("workqueue_work_duration_seconds"))
                         .Help("Time processing one work queue item took.")
                         .Register(reg)
                         .Add({}, queue_buckets());
  i.queue_retries =
      &BuildCounter().Name(name("workqueue_retries_total")).Help("Items requeued with backoff.").Register(reg).Add({});
  i.unfinished_work = &BuildGauge()
                           .Name(name("workqueue_unfinished_work_seconds"))
                           .Help("Seconds of work in progress not yet observed by work_duration (sum of ages).")
                           .Register(reg)
                           .Add({});
  i.longest_running = &BuildGauge()
                           .Name(name("workqueue_longest_running_processor_seconds"))
                           .Help("Age of the longest running work queue item.")
                           .Register(reg)
                           .Add({});
  i.active_workers =
      &BuildGauge().Name(name("active_workers")).Help("Workers processing an item now.").Register(reg).Add({});
  i.leader = &BuildGauge().Name(name("leader")).Help("1 while this replica is the leader, else 0.").Register(reg).Add({});

  i.requests_f = &BuildCounter()
                      .Name(name("marathon_requests_total"))
                      .Help("Marathon API requests by method, route template and status code (\"error\": no answer).")
                      .Register(reg);
  i.request_duration_f = &BuildHistogram()
                              .Name(name("marathon_request_duration_seconds"))
                              .Help("Marathon API request latency by method and route template.")
                              .Register(reg);
  for (const auto& [m, r] : known_requests())
    i.durations[m + " " + r] = &i.request_duration_f->Add({{"method", m}, {"route", r}}, request_buckets());

  i.zk_state = &BuildGauge()
                    .Name(name("zookeeper_session_state"))
                    .Help("ZooKeeper session: 0 connecting, 1 connected, 2 expired, 3 auth failed, 4 closed.")
                    .Register(reg)
                    .Add({});
  i.zk_expirations = &BuildCounter()
                          .Name(name("zookeeper_session_expirations_total"))
                          .Help("ZooKeeper sessions that expired.")
                          .Register(reg)
                          .Add({});

  auto& phases_f = BuildGauge().Name(name("topologies")).Help("Topologies per phase.").Register(reg);
  for (const auto& p : topology_phases()) i.phases[p] = &phases_f.Add({{"phase", p}});
  i.waiting_f = &BuildGauge()
                     .Name(name("topology_waiting_seconds"))
                     .Help("How long a topology has been waiting for offers (only waiting topologies).")
                     .Register(reg);
  i.declined_f = &BuildGauge()
                      .Name(name("declined_offers"))
                      .Help("Offers Marathon declined for a waiting topology, per reason.")
                      .Register(reg);
  i.failures_f = &BuildCounter()
                      .Name(name("container_failures_total"))
                      .Help("Task failures of a topology's containers (TASK_FAILED and the like, as Marathon's "
                            "lastTaskFailure shows them).")
                      .Register(reg);
  i.drift_repairs =
      &BuildCounter().Name(name("drift_repairs_total")).Help("Marathon groups changed by hand and repaired.").Register(reg).Add({});
  i.orphans_cleaned = &BuildCounter()
                           .Name(name("orphans_cleaned_total"))
                           .Help("Managed Marathon groups removed because no desired topology names them.")
                           .Register(reg)
                           .Add({});
  BuildGauge()
      .Name(name("build_info"))
      .Help("Always 1; labels carry the version and the replica identity.")
      .Register(reg)
      .Add({{"version", std::move(version)}, {"identity", std::move(identity)}})
      .Set(1);
}

ControllerMetrics::~ControllerMetrics() {
  // The exposer goes first: no scrape may run while the registry is destroyed.
  impl_->exposer.reset();
}

Result<void> ControllerMetrics::start_exposer(const std::string& address) {
  auto fail = [&](ErrorKind kind, const std::string& why) -> Result<void> {
    return make_error(ErrorSource::config, kind, "metrics address " + address + ": " + why);
  };
  std::lock_guard lock(impl_->mu);
  if (impl_->exposer) return fail(ErrorKind::invalid, "the metrics exposer is already started");
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return fail(ErrorKind::invalid, "expected HOST:PORT");
  const std::string port = address.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](unsigned char c) { return c >= '0' && c <= '9'; }) ||
      port.size() > 5 || std::stoi(port) > 65535)
    return fail(ErrorKind::invalid, "port '" + port + "' is not a number in 0..65535");
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(address, 2);
    exposer->RegisterCollectable(impl_->registry);
    auto ports = exposer->GetListeningPorts();
    impl_->exposer_port = ports.empty() ? 0 : ports.front();
    impl_->exposer = std::move(exposer);
  } catch (const std::exception& e) {
    return fail(ErrorKind::unavailable, std::string("cannot listen: ") + e.what());
  }
  return {};
}

int ControllerMetrics::exposer_port() const {
  std::lock_guard lock(impl_->mu);
  return impl_->exposer_port;
}

void ControllerMetrics::reconcile_done(ReconcileResult result, double seconds) {
  const auto idx = static_cast<std::size_t>(result);
  if (idx < impl_->reconcile_total.size()) impl_->reconcile_total[idx]->Increment();
  impl_->reconcile_time->Observe(seconds);
}
void ControllerMetrics::reconcile_error() { impl_->reconcile_errors->Increment(); }

void ControllerMetrics::queue_add() { impl_->queue_adds->Increment(); }
void ControllerMetrics::queue_depth(long n) { impl_->queue_depth->Set(static_cast<double>(n)); }
void ControllerMetrics::queue_wait(double seconds) { impl_->queue_duration->Observe(seconds); }
void ControllerMetrics::work_time(double seconds) { impl_->work_duration->Observe(seconds); }
void ControllerMetrics::retry() { impl_->queue_retries->Increment(); }
void ControllerMetrics::unfinished_work(double seconds) { impl_->unfinished_work->Set(seconds); }
void ControllerMetrics::longest_running(double seconds) { impl_->longest_running->Set(seconds); }
void ControllerMetrics::active_workers(long n) { impl_->active_workers->Set(static_cast<double>(n)); }
void ControllerMetrics::set_leader(bool is_leader) { impl_->leader->Set(is_leader ? 1 : 0); }

void ControllerMetrics::marathon_request(std::string_view method, std::string_view route, int code,
                                         double seconds) {
  const std::string m = method_label(method);
  const std::string r = route_label(route);
  const std::string c = code_label(code);
  const std::string pair_key = m + " " + r;
  const std::string key = pair_key + " " + c;
  Counter* counter = nullptr;
  Histogram* duration = nullptr;
  {
    std::lock_guard lock(impl_->mu);
    auto& ctr = impl_->requests[key];
    if (!ctr) ctr = &impl_->requests_f->Add({{"method", m}, {"route", r}, {"code", c}});
    counter = ctr;
    auto& dur = impl_->durations[pair_key];
    if (!dur) dur = &impl_->request_duration_f->Add({{"method", m}, {"route", r}}, request_buckets());
    duration = dur;
  }
  counter->Increment();
  duration->Observe(seconds);
}

void ControllerMetrics::zk_session_state(int state) { impl_->zk_state->Set(state); }
void ControllerMetrics::zk_session_expired() { impl_->zk_expirations->Increment(); }

void ControllerMetrics::set_topologies_by_phase(const std::map<std::string, long>& counts) {
  for (auto& [phase, gauge] : impl_->phases) {
    auto it = counts.find(phase);
    gauge->Set(it == counts.end() ? 0.0 : static_cast<double>(it->second));
  }
}

void ControllerMetrics::set_topology_waiting(const std::string& topology, double seconds) {
  std::lock_guard lock(impl_->mu);
  auto& g = impl_->waiting[topology];
  if (!g) g = &impl_->waiting_f->Add({{"topology", topology}});
  g->Set(seconds);
}

bool ControllerMetrics::set_declined_offers(const std::string& topology, const std::string& reason, long count) {
  const auto& reasons = decline_reasons();
  if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) return false;
  std::lock_guard lock(impl_->mu);
  auto& g = impl_->declined[topology][reason];
  if (!g) g = &impl_->declined_f->Add({{"topology", topology}, {"reason", reason}});
  g->Set(static_cast<double>(count));
  return true;
}

void ControllerMetrics::clear_topology(const std::string& topology) {
  std::lock_guard lock(impl_->mu);
  if (auto it = impl_->waiting.find(topology); it != impl_->waiting.end()) {
    impl_->waiting_f->Remove(it->second);
    impl_->waiting.erase(it);
  }
  if (auto it = impl_->declined.find(topology); it != impl_->declined.end()) {
    for (auto& [reason, g] : it->second) impl_->declined_f->Remove(g);
    impl_->declined.erase(it);
  }
}

void ControllerMetrics::add_container_failures(const std::string& topology, long n) {
  if (n <= 0) return;
  std::lock_guard lock(impl_->mu);
  auto& c = impl_->failures[topology];
  if (!c) c = &impl_->failures_f->Add({{"topology", topology}});
  c->Increment(static_cast<double>(n));
}

void ControllerMetrics::clear_container_failures(const std::string& topology) {
  std::lock_guard lock(impl_->mu);
  if (auto it = impl_->failures.find(topology); it != impl_->failures.end()) {
    impl_->failures_f->Remove(it->second);
    impl_->failures.erase(it);
  }
}

void ControllerMetrics::enable_dcos_login() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->dcos_logins.empty()) return;
  auto& f = BuildCounter()
                .Name(name("dcos_logins_total"))
                .Help("DC/OS service-account logins, by result (success, refused, unavailable, error).")
                .Register(*impl_->registry);
  for (const char* r : {"success", "refused", "unavailable", "error"}) impl_->dcos_logins[r] = &f.Add({{"result", r}});
  impl_->dcos_token_expiry = &BuildGauge()
                                  .Name(name("dcos_token_expiry_timestamp_seconds"))
                                  .Help("When the current DC/OS authentication token expires (Unix time; 0 before "
                                        "the first login).")
                                  .Register(*impl_->registry)
                                  .Add({});
}

void ControllerMetrics::dcos_login(std::string_view result, double token_expires_unix_seconds) {
  std::lock_guard lock(impl_->mu);
  if (impl_->dcos_logins.empty()) return;
  auto it = impl_->dcos_logins.find(result);
  if (it == impl_->dcos_logins.end()) it = impl_->dcos_logins.find(std::string_view("error"));
  it->second->Increment();
  if (result == "success") impl_->dcos_token_expiry->Set(token_expires_unix_seconds);
}

void ControllerMetrics::drift_repaired() { impl_->drift_repairs->Increment(); }
void ControllerMetrics::orphan_cleaned() { impl_->orphans_cleaned->Increment(); }

std::string ControllerMetrics::render_text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace hmc::metrics
