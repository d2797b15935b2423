#include "hmc/controller/controller.hpp"

#include "hmc/common/log.hpp"
#include "hmc/common/thread_name.hpp"
#include "hmc/marathon/marathon_client.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <malloc.h>
#include <utility>

namespace hmc::controller {

namespace rc = hmc::reconciler;
using namespace std::chrono;

namespace {

std::int64_t steady_ms() {
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string last_segment(const std::string& id) {
  auto pos = id.rfind('/');
  return pos == std::string::npos ? id : id.substr(pos + 1);
}

// A digest of what the reconciler looks at for one topology group, to requeue
// only the topologies whose observed state changed between two snapshots.
std::uint64_t fingerprint(const rc::ObservedGroup& g) {
  std::string o = g.version;
  auto add = [&o](auto n) { o += '|' + std::to_string(n); };
  for (auto& a : g.apps) {
    o += '|';
    o += a.id;
    add(a.instances);
    add(a.tasks_running);
    add(a.tasks_staged);
    add(a.tasks_healthy);
    o += '|';
    o += a.version;
    add(a.deployment_ids.size());
    add(a.last_task_failure.size());
    if (a.failure) o += a.failure->task_id;  // a new failure, even with the same message
  }
  return rc::text_digest(o);
}

bool same_status(const rc::TopologyStatus& a, const rc::TopologyStatus& b) {
  rc::TopologyStatus x = a, y = b;
  x.updated_at = y.updated_at = TimePoint{};
  return x == y;
}

// Heron's state directories (CuratorStateManager), see REFERENCE.md section 1.
const char* const kHeronDirs[] = {"topologies", "packingplans", "pplans", "executionstate",
                                  "schedulers", "tmanagers", "tmasters", "metricscaches",
                                  "locks", "statefulcheckpoints"};

// Actions whose Marathon request starts a deployment, so Marathon's
// deployment limit applies to them (cancelling one and the launch delay do not).
bool starts_deployment(const rc::Action& a) {
  return std::holds_alternative<rc::CreateGroup>(a) || std::holds_alternative<rc::UpdateGroup>(a) ||
         std::holds_alternative<rc::SuspendGroup>(a) || std::holds_alternative<rc::DeleteGroup>(a) ||
         std::holds_alternative<rc::RestartApp>(a);
}

// Marathon's TooManyRunningDeploymentsException: the client makes it an
// unavailable 403. Returns N of "Max number (N) of running deployments",
// 0 when the message has none, nullopt for any other error.
std::optional<std::size_t> deployment_limit_of(const Error& e) {
  if (e.source != ErrorSource::marathon || e.code != 403 || e.kind != ErrorKind::unavailable) return std::nullopt;
  const auto at = e.message.find("Max number (");
  if (at == std::string::npos) return std::size_t{0};
  std::size_t n = 0;
  const char* p = e.message.data() + at + 12;
  const char* end = e.message.data() + e.message.size();
  auto [q, ec] = std::from_chars(p, end, n);
  if (ec != std::errc{} || q == end || *q != ')') return std::size_t{0};
  return n;
}

}  // namespace

Controller::Controller(zk::ZkClient& zk, marathon::MarathonClient& marathon, const TimeSource& time,
                       ControllerOptions options, ControllerHooks hooks)
    : zk_(zk), marathon_(marathon), time_(time), options_(std::move(options)),
      hooks_(std::move(hooks)), queue_(options_.queue, queue_hooks()) {}

WorkQueueHooks Controller::queue_hooks() {
  WorkQueueHooks h = hooks_.queue;
  h.on_depth = [this, metrics = std::move(h.on_depth)](std::size_t depth) {
    if (metrics) metrics(depth);
    if (options_.pause_events_depth > 0) pause_events_by_depth();
  };
  return h;
}

// Runs after every change of the queue's depth, on whichever thread made it
// (possibly holding mu_: it takes no lock of the controller's but events_mu_).
// The depth is read again under events_mu_, so the last call always acts on
// the current depth whatever order the calls run in.
void Controller::pause_events_by_depth() {
  std::lock_guard lock(events_mu_);
  const std::size_t depth = queue_.depth();
  const std::uint64_t writes = marathon_writes_.load();
  if (depth == 0) backlog_writes_.reset();
  else if (!backlog_writes_) backlog_writes_ = writes;
  // A backlog that writes: a mass submit, not the burst of keys one
  // observation wakes, which workers clear in milliseconds without writing.
  const bool writing = backlog_writes_ && writes - *backlog_writes_ >= options_.pause_events_after_writes;
  const bool pause = depth >= options_.pause_events_depth && writing ? true : depth == 0 ? false : events_paused_;
  if (pause == events_paused_) return;
  events_paused_ = pause;
  marathon_.pause_events(pause);
  if (!pause) {
    // One observation sees whatever the closed stream would have hinted. A
    // flag, not request_observation(): the caller may hold mu_.
    observe_after_resume_ = true;
    observe_cv_.notify_all();
  }
  log::info(pause ? "marathon event stream closed while topologies are queued"
                  : "marathon event stream reopened: the queue is empty",
            {{"queued", std::to_string(depth)}});
}

Controller::~Controller() {
  stop(1s);
  std::lock_guard lock(lifeline_->mu);  // waits for an answer being handled
  lifeline_->alive = false;
}

std::string Controller::desired_path(const std::string& name) const {
  return options_.root + "/topologies/" + name;
}
std::string Controller::status_path(const std::string& name) const {
  return options_.root + "/status/" + name;
}

Result<void> Controller::start() {
  for (const char* sub : {"/topologies", "/status"}) {
    auto r = zk_.ensure_path(options_.root + sub);
    if (!r) return r.error();
  }
  zk_.set_session_listener([this](zk::SessionState s) { on_session_state(static_cast<int>(s)); });

  // Statuses written by a previous run: the reconciler continues from them.
  auto names = zk_.children(options_.root + "/status");
  if (!names) return names.error();
  for (auto& n : *names) {
    auto node = zk_.get(status_path(n));
    if (!node) continue;
    std::lock_guard lock(mu_);
    set_cached_status_locked(keys_[n], rc::parse_status(node->data), true);
  }
  watch_children();

  if (options_.leader_election) {
    acting_ = false;
    election_ = std::make_unique<LeaderElection>(zk_, options_.root + "/election", options_.identity,
                                                 [this](bool leading) {
                                                   set_acting(leading);
                                                   if (hooks_.leader) hooks_.leader(leading);
                                                 });
    if (auto r = election_->join(); !r) return r.error();
  }

  last_loop_ms_ = steady_ms();
  if (!observe_once()) log::warn("first observation failed; retrying in the background");
  synced_ = true;
  resync_all();

  observer_ = std::thread([this] {
    name_this_thread("hmc-observer");
    // Bulk reads and parsing of the whole root group (hundreds of ms at
    // 10,000 topologies) must not hold up a worker's write when cores are short.
    lower_this_thread_priority(5);
    observer_loop();
  });
  status_writer_ = std::thread([this] {
    name_this_thread("hmc-status");
    status_writer_loop();
  });
  for (int i = 0; i < std::max(1, options_.workers); ++i)
    workers_.emplace_back([this, i] {
      name_this_thread("hmc-worker-" + std::to_string(i));
      worker_loop();
    });
  log::info("controller started", {{"root", options_.root},
                                   {"group_root", options_.reconciler.group_root},
                                   {"workers", std::to_string(options_.workers)},
                                   {"identity", options_.identity}});
  return {};
}

void Controller::stop(milliseconds deadline) {
  if (stopping_.exchange(true)) {
    // already stopping or stopped; still join if needed
  }
  queue_.shut_down();
  acting_ = false;
  // Release leadership at once: a standby takes over without waiting for
  // this session to time out.
  if (election_) election_->resign();
  {
    std::lock_guard lock(mu_);
    observe_cv_.notify_all();
  }
  const auto until = steady_clock::now() + deadline;
  while (queue_.processing() > 0 && steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  // Status writes not sent or not answered yet: let them land.
  status_cv_.notify_all();
  if (status_writer_.joinable()) status_writer_.join();
  while (status_writes_in_flight_ > 0 && steady_clock::now() < until) std::this_thread::sleep_for(2ms);
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
  if (observer_.joinable()) observer_.join();
}

void Controller::set_acting(bool acting) {
  const bool was = acting_.exchange(acting);
  if (acting && !was) resync_all();
}

void Controller::request_observation() {
  std::lock_guard lock(mu_);
  // Only the first request wakes the observer: a rollout sends tens of
  // thousands of events, and the observer keeps the flag until it observes.
  if (std::exchange(observe_requested_, true)) return;
  observe_cv_.notify_all();
}

void Controller::enqueue_all_locked(std::vector<std::string>& out) {
  std::set<std::string> all;
  for (auto& [n, _] : desired_) all.insert(n);
  for (auto& [n, ks] : keys_)
    if (ks.status_exists) all.insert(n);
  if (snapshot_)
    for (auto& [id, _] : snapshot_->groups) all.insert(last_segment(id));
  for (auto& [n, _] : heron_state_) all.insert(n);
  out.assign(all.begin(), all.end());
}

void Controller::resync_all() {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    enqueue_all_locked(keys);
  }
  for (auto& k : keys) queue_.add(k);
}

bool Controller::healthy(std::string* why) const {
  const auto age = steady_ms() - last_loop_ms_.load();
  const auto limit = std::max<std::int64_t>(60'000, 3 * options_.resync_period.count());
  if (!stopping_ && age > limit) {
    if (why) *why = "observer loop has not run for " + std::to_string(age / 1000) + "s";
    return false;
  }
  auto [longest, total] = queue_.in_flight_seconds();
  (void)total;
  if (longest > 300) {
    if (why) *why = "a reconcile has been running for " + std::to_string(static_cast<int>(longest)) + "s";
    return false;
  }
  return true;
}

bool Controller::ready(std::string* why) const {
  if (zk_.state() != zk::SessionState::connected) {
    if (why) *why = std::string("zookeeper session is ") + zk::to_string(zk_.state());
    return false;
  }
  if (!synced_) {
    if (why) *why = "first sync not done";
    return false;
  }
  if (election_ && election_->node().empty()) {
    if (why) *why = "not in the leader election yet";
    return false;
  }
  std::lock_guard lock(mu_);
  if (!snapshot_) {
    if (why) *why = "no Marathon observation yet";
    return false;
  }
  return true;
}

// ---- ZooKeeper watches -------------------------------------------------

void Controller::watch_children() {
  if (stopping_) return;
  auto names = zk_.children(options_.root + "/topologies", [this](zk::WatchEventType, const std::string&) {
    {
      std::lock_guard lock(mu_);
      children_armed_ = false;
    }
    watch_children();
  });
  if (!names) {
    log::warn("cannot list desired topologies", {{"error", names.error().message}});
    return;
  }
  std::vector<std::string> to_watch;
  {
    std::lock_guard lock(mu_);
    children_armed_ = true;
    for (auto& n : *names) {
      auto& ks = keys_[n];
      if (!ks.armed) to_watch.push_back(n);
    }
  }
  watch_desired(to_watch);
}

void Controller::watch_desired(const std::string& name) { watch_desired(std::vector<std::string>{name}); }

void Controller::watch_desired(const std::vector<std::string>& names) {
  if (stopping_) return;
  std::vector<std::string> todo, paths;
  {
    std::lock_guard lock(mu_);
    for (auto& name : names) {
      auto& ks = keys_[name];
      if (ks.armed) continue;
      ks.armed = true;
      todo.push_back(name);
      paths.push_back(desired_path(name));
    }
  }
  if (todo.empty()) return;
  // One pipelined batch: a thousand new desired nodes cost one round trip,
  // not a thousand (reads queue behind this session's writes on the server).
  const std::string prefix = options_.root + "/topologies/";
  auto watch_for = [this, &prefix](const std::string& path) -> zk::Watcher {
    return [this, name = path.substr(prefix.size())](zk::WatchEventType, const std::string&) {
      {
        std::lock_guard lock(mu_);
        keys_[name].armed = false;
      }
      watch_desired(name);
    };
  };
  // Each node is queued as soon as it is read: workers start on the first
  // topologies while the rest of the batch is still on its way.
  zk_.get_each(paths, watch_for, [&](std::size_t i, Result<zk::Node> node) {
    const std::string& name = todo[i];
    bool changed = false;
    {
      std::lock_guard lock(mu_);
      if (node) {
        auto& d = desired_[name];
        changed = d.version != node->stat.version || d.raw != node->data;
        d.raw = std::move(node->data);
        d.version = node->stat.version;
        d.czxid = node->stat.czxid;
        d.ctime_ms = node->stat.ctime_ms;
      } else {
        keys_[name].armed = false;  // no watch was set
        if (node.error().kind == ErrorKind::not_found) {
          changed = desired_.erase(name) > 0;
          heron_prepared_.erase(name);
        } else {
          log::warn("cannot read desired node", {{"topology", name}, {"error", node.error().message}});
        }
      }
    }
    if (changed) queue_.add(name);
  });
}

void Controller::on_session_state(int state) {
  const auto s = static_cast<zk::SessionState>(state);
  log::info("zookeeper session", {{"state", zk::to_string(s)}});
  if (hooks_.zk_session) hooks_.zk_session(state);
  if (s == zk::SessionState::expired) {
    std::lock_guard lock(mu_);
    session_lost_ = true;
    children_armed_ = false;
    for (auto& [_, ks] : keys_) ks.armed = false;
    for (auto& [_, seen] : heron_seen_) seen.armed = false;
  }
  if (s != zk::SessionState::connected) {
    // Suspect session: stop writing to Marathon now, not only once it expired.
    if (election_) election_->session_suspect();
    return;
  }
  bool rearm, new_session;
  {
    std::lock_guard lock(mu_);
    rearm = !children_armed_;
    new_session = session_lost_;
    session_lost_ = false;
  }
  if (rearm) reload_all();
  if (election_) election_->session_connected(new_session);
}

void Controller::reload_all() {
  // After a session expiry: every watch is gone. Re-read and re-arm.
  watch_children();
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (auto& [n, ks] : keys_)
      if (!ks.armed) names.push_back(n);
  }
  watch_desired(names);
  resync_all();
}

// ---- Observation -------------------------------------------------------

void Controller::observer_loop() {
  auto next_resync = steady_clock::now() + options_.resync_period;
  auto last_observe = steady_clock::now();
  steady_clock::duration last_cost{0};
  while (!stopping_) {
    bool resync = false;
    std::vector<std::string> wake_held;
    bool check_room = false;  // topologies are held at Marathon's deployment limit
    {
      std::unique_lock lock(mu_);
      // While topologies are held, Marathon's deployments are listed (cheap)
      // every min_observe_interval to let them go as soon as there is room.
      const auto tick = held_.empty() ? steady_clock::duration{2s} : steady_clock::duration{options_.min_observe_interval};
      observe_cv_.wait_until(lock, std::min(next_resync, steady_clock::now() + tick), [&] {
        return stopping_ || observe_requested_ || observe_after_resume_ || steady_clock::now() >= next_resync;
      });
      if (stopping_) break;
      if (hooks_.tick) {
        auto [longest, total] = queue_.in_flight_seconds();
        hooks_.tick(longest, total);
      }
      if (steady_clock::now() >= next_resync) resync = true;
      // Held at Marathon's deployment limit past the hold, with nothing
      // accepted since (the probe may have had nothing left to deploy).
      check_room = !held_.empty() && deployment_limit_ > 0;
      if (!held_.empty() && steady_clock::now() >= deployment_gate_until_ + options_.deployment_limit_hold)
        wake_held = take_held_locked(static_cast<std::size_t>(options_.workers));
      if (observe_after_resume_.exchange(false)) observe_requested_ = true;
      if (!observe_requested_ && !resync) {
        last_loop_ms_ = steady_ms();
        lock.unlock();
        for (auto& k : wake_held) queue_.add(k);
        if (check_room) release_at_room();
        continue;
      }
    }
    for (auto& k : wake_held) queue_.add(k);
    if (check_room) release_at_room();
    // Space observations out: many requests inside the gap share one. The gap
    // grows with the cost of an observation (twice its duration), so bulk
    // reads never take more than a third of Marathon's time, however large
    // the root group gets.
    const auto earliest = last_observe + std::max<steady_clock::duration>(options_.min_observe_interval, 2 * last_cost);
    if (steady_clock::now() < earliest) std::this_thread::sleep_until(earliest);
    // Writes first: while topologies wait for a worker (a mass submit), a
    // bulk read would only hold up their writes in Marathon; the keys that
    // need a newer observation are parked and wait for the next one anyway.
    // Deferred at most max_observe_deferral (30 s), or five times the cost of the
    // last observation if more (a large root group), so status never goes stale.
    const auto defer_until =
        steady_clock::now() + std::max<steady_clock::duration>(options_.max_observe_deferral, 5 * last_cost);
    // Then, after a burst of writes, Marathon's deployments of it; new work
    // meanwhile goes first again.
    do {
      while (!stopping_ && queue_.depth() > 0 && steady_clock::now() < defer_until)
        std::this_thread::sleep_for(10ms);
      if (!stopping_) wait_for_deployments_to_settle();
    } while (!stopping_ && queue_.depth() > 0 && steady_clock::now() < defer_until);
    if (stopping_) break;
    {
      std::lock_guard lock(mu_);
      observe_requested_ = false;
    }
    const auto began = steady_clock::now();
    const bool ok = observe_once();
    last_observe = steady_clock::now();
    last_cost = last_observe - began;
    last_loop_ms_ = steady_ms();
    if (!ok) {
      std::this_thread::sleep_for(options_.observe_retry);
      request_observation();
      continue;
    }
    if (resync) {
      next_resync = steady_clock::now() + options_.resync_period;
      resync_all();
    }
  }
}

void Controller::wait_for_deployments_to_settle() {
  std::size_t writes;
  {
    std::lock_guard lock(mu_);
    writes = writes_since_observe_;
  }
  if (options_.settle_after_writes == 0 || writes < options_.settle_after_writes) return;
  const std::string prefix = rc::group_id_for(options_.reconciler, "");  // "<group root>/"
  const auto until = steady_clock::now() + options_.max_observe_deferral;
  std::size_t last = std::numeric_limits<std::size_t>::max();
  // New work in the queue ends the wait: the caller lets its writes go first.
  while (!stopping_ && queue_.depth() == 0 && steady_clock::now() < until) {
    auto deployments = marathon_.list_deployments();
    if (!deployments) return;  // the observation reports Marathon's trouble
    std::size_t ours = 0;
    for (const auto& d : *deployments)
      if (std::any_of(d.affected_apps.begin(), d.affected_apps.end(),
                      [&](const std::string& app) { return app.rfind(prefix, 0) == 0; }))
        ++ours;
    if (ours == 0 || ours >= last) return;
    last = ours;
    std::unique_lock lock(mu_);
    observe_cv_.wait_for(lock, options_.min_observe_interval, [&] { return stopping_.load(); });
  }
}

bool Controller::observe_once() {
  std::uint64_t gen;
  {
    std::lock_guard lock(mu_);
    gen = ++cycles_started_;
    writes_since_observe_ = 0;
  }
  auto snap = marathon_.observe(options_.reconciler.group_root);
  if (!snap) {
    log::warn("marathon observation failed", {{"error", snap.error().message}});
    return false;
  }
  // Heron's own state: one children() per directory, whatever the number of topologies.
  std::map<std::string, std::set<std::string>> heron;
  for (const char* dir : kHeronDirs) {
    const std::string base = options_.reconciler.heron_root + "/" + dir;
    auto kids = zk_.children(base);
    if (!kids) continue;  // missing directory: nothing there
    for (auto& k : *kids) {
      std::string name = k;
      if (std::string_view(dir) == "locks") {
        auto pos = k.find("__");
        if (pos == std::string::npos) continue;
        name = k.substr(0, pos);
      }
      heron[name].insert(base + "/" + k);
    }
  }

  auto s = std::make_shared<rc::MarathonSnapshot>(std::move(*snap));
  s->generation = gen;
  const TimePoint now = time_.now();

  // What changed per topology, computed before taking the lock: at 10,000
  // topologies this takes milliseconds, and workers wait for the lock.
  std::unordered_map<std::string, std::uint64_t> fps;
  fps.reserve(s->groups.size());
  for (auto& [id, g] : s->groups) fps[last_segment(id)] = fingerprint(g);
  for (auto& q : s->queue) {
    // queue entries belong to an app /<group_root>/<name>/<i>
    auto rel = q.app_id.substr(std::min(q.app_id.size(), options_.reconciler.group_root.size() + 1));
    auto slash = rel.find('/');
    if (slash == std::string::npos) continue;
    auto& h = fps[rel.substr(0, slash)];
    const auto d = rc::text_digest("q" + std::to_string(q.unused_offers) + ":" + std::to_string(q.overdue));
    h ^= d + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }

  std::vector<std::string> wake;
  std::shared_ptr<const rc::MarathonSnapshot> previous;
  {
    std::lock_guard lock(mu_);
    // Offers declined recently, for the "largest offer" diagnosis.
    for (auto& q : s->queue)
      for (auto& o : q.last_unused_offers)
        offers_seen_[o.offer_id.empty() ? o.agent_id : o.offer_id] = SeenOffer{o.timestamp.value_or(now), o.resources};
    for (auto it = offers_seen_.begin(); it != offers_seen_.end();)
      it = (now - it->second.at > options_.offer_window) ? offers_seen_.erase(it) : std::next(it);

    for (auto& [n, fp] : fps) {
      auto it = group_fingerprint_.find(n);
      if (it == group_fingerprint_.end() || it->second != fp) wake.push_back(n);
    }
    for (auto& [n, _] : group_fingerprint_)
      if (!fps.count(n)) wake.push_back(n);
    group_fingerprint_.swap(fps);  // the old ones are freed after the lock
    for (auto& [n, _] : heron)
      if (!heron_state_.count(n)) wake.push_back(n);
    heron_state_.swap(heron);
    previous = std::exchange(snapshot_, s);  // freed after the lock too
    for (auto it = parked_.begin(); it != parked_.end();) {
      if (keys_[*it].need_generation <= gen) {
        wake.push_back(*it);
        it = parked_.erase(it);
      } else {
        ++it;
      }
    }
  }
  observations_++;
  const std::size_t deployments = s->deployments.size();
  for (auto& n : wake) queue_.add(n);
  release_for_room(deployments);
  // The previous snapshot, fingerprints and Heron state go before the trim.
  previous.reset();
  s.reset();
  decltype(fps)().swap(fps);
  decltype(heron)().swap(heron);
  // Parsing a large root group leaves megabytes of freed heap in the arenas
  // of the threads that touched it; hand it back instead of holding it idle.
  ::malloc_trim(0);
  return true;
}

// ---- Reconcile ---------------------------------------------------------

void Controller::release_at_room() {
  auto deployments = marathon_.list_deployments();
  if (!deployments) return;  // the next observation reports Marathon's trouble
  release_for_room(deployments->size());
}

void Controller::release_for_room(std::size_t deployments) {
  std::vector<std::string> go;
  {
    // Fewer deployments than Marathon's limit: that many held changes may go.
    std::lock_guard lock(mu_);
    if (held_.empty() || deployment_limit_ <= deployments) return;
    deployment_gate_until_ = {};
    go = take_held_locked(deployment_limit_ - deployments);
  }
  for (auto& k : go) queue_.add(k);
}

std::vector<std::string> Controller::take_held_locked(std::size_t n) {
  std::vector<std::string> go;
  while (go.size() < n && !held_.empty()) {
    held_set_.erase(held_.front());
    go.push_back(std::move(held_.front()));
    held_.pop_front();
  }
  return go;
}

void Controller::release_held(std::size_t n) {
  std::vector<std::string> go;
  {
    std::lock_guard lock(mu_);
    go = take_held_locked(n);
  }
  for (auto& k : go) queue_.add(k);
}

void Controller::worker_loop() {
  while (auto key = queue_.get()) {
    if (hooks_.active_workers) hooks_.active_workers(++active_workers_);
    else ++active_workers_;
    try {
      process(*key);
    } catch (const std::exception& e) {
      log::error("reconcile crashed", {{"topology", *key}, {"error", e.what()}});
      queue_.add_rate_limited(*key);
    }
    queue_.done(*key);
    if (hooks_.active_workers) hooks_.active_workers(--active_workers_);
    else --active_workers_;
  }
}

void Controller::process(const std::string& name) {
  if (!acting_) return;  // a standby keeps its view warm but never acts
  const auto started = steady_clock::now();
  rc::ReconcileInput in;
  in.name = name;
  std::shared_ptr<const rc::MarathonSnapshot> snap;
  DesiredEntry desired_entry;  // its version and identity (not its bytes: those are in `in`)
  {
    std::lock_guard lock(mu_);
    auto& ks = keys_[name];
    if (!snapshot_ || snapshot_->generation < ks.need_generation) {
      parked_.insert(name);
      if (!std::exchange(observe_requested_, true)) observe_cv_.notify_all();
      return;
    }
    snap = snapshot_;
    if (auto it = desired_.find(name); it != desired_.end()) {
      in.desired_raw = it->second.raw;
      in.desired_version = it->second.version;
      desired_entry.version = it->second.version;
      desired_entry.czxid = it->second.czxid;
      desired_entry.ctime_ms = it->second.ctime_ms;
    }
    in.previous = ks.status;
    in.last_error = ks.last_error;
    if (auto it = heron_state_.find(name); it != heron_state_.end())
      in.heron_state.present.assign(it->second.begin(), it->second.end());
    rc::OfferResources largest;
    int seen = 0;
    for (auto& [_, o] : offers_seen_) {
      largest.cpus = std::max(largest.cpus, o.res.cpus);
      largest.mem = std::max(largest.mem, o.res.mem);
      largest.disk = std::max(largest.disk, o.res.disk);
      largest.ports = std::max(largest.ports, o.res.ports);
      ++seen;
    }
    if (seen) in.offers.largest = largest;
    in.offers.offers_seen = seen;
    in.offers.window = options_.offer_window;
  }
  in.marathon = snap.get();
  in.retry_count = queue_.failures(name);
  in.now = time_.now();

  // Orphaned Heron state: its age decides whether it may be cleaned.
  const std::string group_id = rc::group_id_for(options_.reconciler, name);
  if (!in.desired_raw && !in.heron_state.present.empty() && !snap->groups.count(group_id)) {
    std::int64_t newest = 0;
    for (auto& p : in.heron_state.present)
      if (auto st = zk_.exists(p); st && *st) newest = std::max(newest, (*st)->mtime_ms);
    if (newest) in.heron_state_modified = TimePoint{milliseconds{newest}};
  }

  // A topologyDefn: Heron's nodes as prepared for this version, and what they hold.
  std::shared_ptr<const rc::HeronDesired> heron;
  if (in.desired_raw) {
    heron = heron_desired(name, *in.desired_raw, desired_entry);
    in.heron = heron.get();
    if (heron && heron->error.empty()) {
      if (auto r = read_heron_nodes(name, *heron, in.heron_state); !r) {
        log::warn("cannot read heron state", {{"topology", name}, {"error", r.error().message}});
        queue_.add_rate_limited(name);
        return;
      }
    }
  }

  rc::Plan plan = rc::reconcile(options_.reconciler, in);

  // A name with no desired node, no group and no Heron state has nothing to
  // report: drop a stale status node rather than writing a new one.
  if (!in.desired_raw && !snap->groups.count(group_id) && in.heron_state.present.empty() &&
      plan.actions.empty()) {
    bool had_status;
    {
      std::lock_guard lock(mu_);
      auto& ks = keys_[name];
      had_status = ks.status_exists;
      set_cached_status_locked(ks, std::nullopt, false);
    }
    if (had_status) {
      auto hold = hold_status_writes(name);
      auto r = fenced_multi({zk::DeleteOp{status_path(name), -1}});
      hold.unlock();
      if (!r && r.error().kind != ErrorKind::not_found) {
        std::lock_guard lock(mu_);
        keys_[name].status_exists = true;  // exists, contents unknown: rewritten next time
        queue_.add_rate_limited(name);
        return;
      }
      if (hooks_.topology_status) hooks_.topology_status(name, nullptr);
      publish_phase_counts();
    }
    queue_.forget(name);
    if (hooks_.reconcile_done)
      hooks_.reconcile_done("success", duration<double>(steady_clock::now() - started).count());
    return;
  }

  Result<void> failed{};
  bool forgotten = false;
  bool wrote = false;
  bool held = false;      // at Marathon's deployment limit: the rest waits, no request sent
  bool accepted = false;  // Marathon took a change that starts a deployment
  for (auto& action : plan.actions) {
    if (starts_deployment(action)) {
      std::lock_guard lock(mu_);
      if (steady_clock::now() < deployment_gate_until_) {
        held = true;
        if (held_set_.insert(name).second) held_.push_back(name);
        break;
      }
    }
    // Fields are built only when they are written: this runs once per write.
    if (log::enabled(log::Level::info)) log::info("apply", {{"topology", name}, {"action", rc::describe(action)}});
    auto r = apply(name, action, forgotten);
    if (!r) {
      failed = r;
      break;
    }
    wrote = true;
    if (starts_deployment(action)) accepted = true;
    if (std::holds_alternative<rc::DeleteHeronState>(action) && !in.desired_raw && hooks_.orphan_cleaned)
      hooks_.orphan_cleaned();
  }
  if (wrote) {
    std::lock_guard lock(mu_);
    // The next reconcile of this key must see an observation started after these writes.
    keys_[name].need_generation = cycles_started_ + 1;
    ++writes_since_observe_;
  }
  if (wrote) ++marathon_writes_;
  if (wrote && hooks_.drift_repaired) {
    if (auto* c = rc::find_condition(plan.status.conditions, rc::kCondDrift);
        c && c->status == rc::ConditionStatus::True)
      hooks_.drift_repaired();
  }

  if (plan.new_container_failures > 0 && hooks_.container_failures)
    hooks_.container_failures(name, plan.new_container_failures);

  std::string result = "success";
  bool probe = false;  // this topology retries after the hold: the limit's probe
  if (!failed) {
    if (auto limit = deployment_limit_of(failed.error())) {
      std::lock_guard lock(mu_);
      deployment_gate_until_ = steady_clock::now() + options_.deployment_limit_hold;
      deployment_limit_ = *limit;
      deployment_limit_message_ = failed.error().message;
      log::info("marathon deployment limit reached",
                {{"topology", name}, {"limit", std::to_string(*limit)}, {"held", std::to_string(held_.size())}});
      held = true;
      probe = true;
    }
  }
  if (accepted) {
    bool waiting;
    {
      std::lock_guard lock(mu_);
      waiting = !held_.empty();
    }
    if (waiting) release_held(2);  // Marathon had room: let more go, doubling while it has
  }
  if (held) {
    std::string why;
    {
      std::lock_guard lock(mu_);
      why = deployment_limit_message_;
      keys_[name].last_error = why;
    }
    queue_.forget(name);
    if (probe) queue_.add_after(name, options_.deployment_limit_hold);
    plan.status.restarted = in.previous ? in.previous->restarted : rc::RestartGenerations{};
    plan.status.last_error = why;
    plan.status.retry_count = 0;
    result = "requeue";
  } else if (!failed) {
    const Error& e = failed.error();
    // A restart that did not happen is still pending: keep the generations applied before.
    plan.status.restarted = in.previous ? in.previous->restarted : rc::RestartGenerations{};
    const bool terminal = !e.is_retryable() && e.kind != ErrorKind::unavailable;
    log::warn("apply failed", {{"topology", name}, {"error", e.message}, {"kind", to_string(e.kind)}});
    milliseconds delay{0};
    if (terminal && e.kind == ErrorKind::invalid) {
      queue_.forget(name);
    } else {
      delay = queue_.add_rate_limited(name);
    }
    plan.status.last_error = e.message;
    plan.status.retry_count = queue_.failures(name);
    if (delay.count()) plan.status.next_retry_time = time_.now() + delay;
    {
      std::lock_guard lock(mu_);
      keys_[name].last_error = e.message;
    }
    result = "error";
    if (hooks_.reconcile_error) hooks_.reconcile_error();
  } else {
    queue_.forget(name);
    {
      std::lock_guard lock(mu_);
      keys_[name].last_error.clear();
    }
    if (plan.requeue_after) {
      // Progress checks want a fresh observation: mark the need, then wait.
      {
        std::lock_guard lock(mu_);
        keys_[name].need_generation = std::max(keys_[name].need_generation, cycles_started_ + 1);
      }
      queue_.add_after(name, *plan.requeue_after);
      result = "requeue_after";
    }
  }
  if (!forgotten) write_status(name, std::move(plan.status));
  if (hooks_.reconcile_done)
    hooks_.reconcile_done(result, duration<double>(steady_clock::now() - started).count());
}

Result<void> Controller::apply(const std::string& name, const rc::Action& action, bool& forgotten) {
  auto marathon_write_allowed = [&]() -> Result<void> {
    // Fencing: a replica whose session is suspect must not write to Marathon.
    if (!acting_ || zk_.state() != zk::SessionState::connected)
      return make_error(ErrorSource::zookeeper, ErrorKind::fenced,
                        "not writing to Marathon: ZooKeeper session is not connected or not leader");
    return {};
  };
  auto ignore = [](Result<marathon::ChangeResult> r, ErrorKind ok_kind) -> Result<void> {
    if (r || r.error().kind == ok_kind) return {};
    return r.error();
  };
  return std::visit(
      [&](const auto& a) -> Result<void> {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, rc::CreateGroup>) {
          if (auto f = marathon_write_allowed(); !f) return f;
          // 409: it exists already (a stale snapshot); the next observation shows it.
          return ignore(marathon_.create_group(a.body), ErrorKind::conflict);
        } else if constexpr (std::is_same_v<T, rc::UpdateGroup>) {
          if (auto f = marathon_write_allowed(); !f) return f;
          auto r = marathon_.update_group(a.group_id, a.body, a.force);
          if (!r) return r.error();
          return {};
        } else if constexpr (std::is_same_v<T, rc::SuspendGroup>) {
          if (auto f = marathon_write_allowed(); !f) return f;
          return ignore(marathon_.scale_group(a.group_id, 0.0, a.force), ErrorKind::not_found);
        } else if constexpr (std::is_same_v<T, rc::CancelDeployment>) {
          if (auto f = marathon_write_allowed(); !f) return f;
          auto r = marathon_.cancel_deployment(a.deployment_id);
          if (!r && r.error().kind != ErrorKind::not_found) return r.error();
          return {};
        } else if constexpr (std::is_same_v<T, rc::DeleteGroup>) {
          if (auto f = marathon_write_allowed(); !f) return f;
          return ignore(marathon_.delete_group(a.group_id, a.force), ErrorKind::not_found);
        } else if constexpr (std::is_same_v<T, rc::WriteHeronState>) {
          return write_heron_state(a);
        } else if constexpr (std::is_same_v<T, rc::ResetLaunchDelay>) {
          if (auto f = marathon_write_allowed(); !f) return f;
          return marathon_.reset_launch_delay(a.app_id);
        } else if constexpr (std::is_same_v<T, rc::RestartApp>) {
          if (auto f = marathon_write_allowed(); !f) return f;
          auto r = marathon_.restart_app(a.app_id, a.force);
          if (!r) return r.error();
          return {};
        } else if constexpr (std::is_same_v<T, rc::DeleteHeronState>) {
          forget_heron_nodes(a.paths);
          for (auto& p : a.paths) {
            // Heron's state nodes are leaves; one fenced delete each.
            auto r = fenced_multi({zk::DeleteOp{p, -1}});
            if (!r && r.error().kind == ErrorKind::conflict) r = zk_.remove_recursive(p);  // has children
            if (!r && r.error().kind != ErrorKind::not_found) return r.error();
          }
          std::lock_guard lock(mu_);
          heron_state_.erase(name);
          return {};
        } else {
          // The kill is complete: forget the status, then the desired node, but
          // only the version we acted on (a resubmit meanwhile is kept).
          auto hold = hold_status_writes(name);
          auto st = fenced_multi({zk::DeleteOp{status_path(name), -1}});
          hold.unlock();
          if (!st && st.error().kind != ErrorKind::not_found) return st.error();
          if (a.desired_version >= 0) {
            auto d = fenced_multi({zk::DeleteOp{desired_path(name), static_cast<std::int32_t>(a.desired_version)}});
            if (!d && d.error().kind != ErrorKind::not_found) return d.error();
          }
          {
            std::lock_guard lock(mu_);
            set_cached_status_locked(keys_[name], std::nullopt, false);
            desired_.erase(name);
            heron_prepared_.erase(name);
          }
          forgotten = true;
          if (hooks_.topology_status) hooks_.topology_status(name, nullptr);
          publish_phase_counts();
          log::info("topology forgotten", {{"topology", name}});
          return {};
        }
      },
      action);
}

constexpr std::size_t kStatusBatch = 100;
constexpr auto kStatusAnswerTimeout = 30s;

void Controller::write_status(const std::string& name, rc::TopologyStatus status) {
  status.name = name;
  status.leader = options_.identity;
  status.updated_at = time_.now();
  bool exists;
  std::uint64_t seq;
  {
    std::lock_guard lock(mu_);
    auto& ks = keys_[name];
    if (ks.status && !ks.status_dirty && same_status(*ks.status, status)) return;
    exists = ks.status_exists;
    seq = ++ks.status_seq;
    ks.status_dirty = false;
    // Cached as written: the write below is sent now and answered later.
    set_cached_status_locked(ks, status, true);
  }
  // The worker does not wait for ZooKeeper's answer (a disk sync away): the
  // status writer sends it with the others written meanwhile. A worker that
  // deletes this status node later holds the writer first (ordered after it).
  bool wake;
  {
    std::lock_guard lock(status_mu_);
    // The writer waits for work, for more work (status_write_delay) or for
    // its multi's answer; wake it when there is work, or a full batch.
    if (pending_status_.empty()) pending_since_ = steady_clock::now();
    auto [it, fresh] = pending_status_.try_emplace(name);
    wake = !status_batch_in_flight_ && (pending_status_.size() == 1 || pending_status_.size() == kStatusBatch);
    // A create not sent yet stays a create.
    it->second = PendingStatus{rc::to_json(status), fresh ? exists : it->second.exists, seq, false};
  }
  if (wake) status_cv_.notify_one();
  if (hooks_.topology_status) hooks_.topology_status(name, &status);
  if (log::enabled(log::Level::info))
    log::info("status", {{"topology", name},
                         {"phase", rc::to_string(status.phase)},
                         {"health", rc::to_string(status.health)},
                         {"running", std::to_string(status.running_containers)},
                         {"total", std::to_string(status.total_containers)}});
  publish_phase_counts();
}

void Controller::status_writer_loop() {
  for (;;) {
    {
      std::unique_lock lock(status_mu_);
      status_cv_.wait_for(lock, 200ms, [&] {
        return stopping_ || (!pending_status_.empty() && !status_batch_in_flight_);
      });
      // More statuses share the multi: wait for a full batch, at most
      // status_write_delay after the oldest pending one.
      while (!stopping_ && !status_batch_in_flight_ && !pending_status_.empty() &&
             pending_status_.size() < kStatusBatch &&
             status_cv_.wait_until(lock, pending_since_ + options_.status_write_delay) != std::cv_status::timeout) {
      }
      // Marathon first: while topologies wait for a worker, so do statuses
      // (at most max_status_deferral after the oldest pending one).
      while (!stopping_ && !status_batch_in_flight_ && !pending_status_.empty() && queue_.depth() > 0 &&
             steady_clock::now() < pending_since_ + options_.max_status_deferral) {
        status_cv_.wait_for(lock, 10ms);
      }
      // Stopping: this replica no longer acts, so a write would be refused.
      if (stopping_) return;
      if (status_batch_in_flight_ && steady_clock::now() - status_batch_sent_ > kStatusAnswerTimeout)
        status_batch_lost();
    }
    std::unique_lock send(send_mu_);
    std::unique_lock lock(status_mu_);
    if (pending_status_.empty() || status_batch_in_flight_) continue;
    // A solo entry goes alone; otherwise up to kStatusBatch non-solo ones.
    std::vector<std::pair<std::string, PendingStatus>> batch;
    for (auto it = pending_status_.begin(); it != pending_status_.end() && batch.size() < kStatusBatch;) {
      if (it->second.solo && !batch.empty()) {
        ++it;
        continue;
      }
      batch.emplace_back(it->first, std::move(it->second));
      it = pending_status_.erase(it);
      if (batch.back().second.solo) break;
    }
    status_batch_in_flight_ = true;
    const std::uint64_t id = ++status_batch_id_;
    status_batch_sent_ = steady_clock::now();
    status_batch_keys_.clear();
    for (auto& [name, p] : batch) status_batch_keys_.emplace_back(name, p.seq);
    lock.unlock();
    std::vector<zk::Op> ops;
    ops.reserve(batch.size());
    for (auto& [name, p] : batch) {
      if (p.exists) ops.push_back(zk::SetOp{status_path(name), p.json, -1});
      else ops.push_back(zk::CreateOp{status_path(name), p.json, zk::CreateMode::persistent});
    }
    ++status_writes_in_flight_;
    fenced_multi_async(std::move(ops), [this, id, batch = std::move(batch)](Result<void> r) mutable {
      status_batch_done(id, std::move(batch), std::move(r));
    });
  }
}

void Controller::status_batch_lost() {
  log::warn("no answer to a status write; writing those statuses again",
            {{"statuses", std::to_string(status_batch_keys_.size())}});
  std::vector<std::string> retry;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, seq] : status_batch_keys_) {
      auto it = keys_.find(name);
      if (it == keys_.end() || it->second.status_seq != seq) continue;  // forgotten, or a newer status
      it->second.status_dirty = true;
      retry.push_back(name);
    }
  }
  status_batch_keys_.clear();
  status_batch_in_flight_ = false;  // a late answer to it is ignored (its id is old)
  for (auto& n : retry) queue_.add_rate_limited(n);
}

void Controller::status_batch_done(std::uint64_t id, std::vector<std::pair<std::string, PendingStatus>> batch,
                                   Result<void> r) {
  {
    std::lock_guard lock(status_mu_);
    if (id != status_batch_id_ || !status_batch_in_flight_) {
      --status_writes_in_flight_;
      return;  // answered after it was given up
    }
  }
  std::vector<std::string> retry;
  if (!r) {
    const ErrorKind kind = r.error().kind;
    if (batch.size() > 1 && kind != ErrorKind::fenced) {
      // All or nothing: send each again alone, unless a newer one is pending.
      std::lock_guard lock(status_mu_);
      for (auto& [name, p] : batch) {
        p.solo = true;
        pending_status_.emplace(name, std::move(p));
      }
    } else {
      log::warn("cannot write status", {{"topology", batch.front().first}, {"error", r.error().message}});
      std::lock_guard lock(mu_);
      for (auto& [n, q] : batch) {
        auto found = keys_.find(n);
        if (found == keys_.end() || found->second.status_seq != q.seq) continue;  // forgotten, or newer on its way
        auto& ks = found->second;
        // Written again by the next reconcile, with the existence our cache
        // had wrong corrected (a node removed or made by someone else).
        ks.status_dirty = true;
        if (kind == ErrorKind::not_found && q.exists) set_cached_status_locked(ks, ks.status, false);
        if (kind == ErrorKind::conflict && !q.exists) set_cached_status_locked(ks, ks.status, true);
        if (kind != ErrorKind::fenced) retry.push_back(n);
      }
    }
  }
  {
    std::lock_guard lock(status_mu_);
    status_batch_in_flight_ = false;
  }
  --status_writes_in_flight_;
  status_cv_.notify_all();
  for (auto& n : retry) queue_.add_rate_limited(n);
}

std::unique_lock<std::mutex> Controller::hold_status_writes(const std::string& name) {
  std::unique_lock send(send_mu_);
  std::lock_guard lock(status_mu_);
  pending_status_.erase(name);
  return send;
}

void Controller::set_cached_status_locked(KeyState& ks, std::optional<rc::TopologyStatus> status, bool exists) {
  auto count = [&](int delta) {
    if (!ks.status || !ks.status_exists) return;
    auto it = phase_counts_.emplace(rc::to_string(ks.status->phase), 0).first;
    if ((it->second += delta) == 0) phase_counts_.erase(it);
  };
  count(-1);
  ks.status = std::move(status);
  ks.status_exists = exists;
  count(+1);
}

void Controller::publish_phase_counts() {
  if (!hooks_.topologies_by_phase) return;
  std::map<std::string, int> counts;
  {
    std::lock_guard lock(mu_);
    counts = phase_counts_;
  }
  hooks_.topologies_by_phase(counts);
}

}  // namespace hmc::controller

namespace hmc::controller {

Result<void> Controller::fenced_multi(std::vector<zk::Op> ops) {
  if (election_) {
    const std::string node = election_->node();
    if (node.empty() || !acting_)
      return make_error(ErrorSource::zookeeper, ErrorKind::fenced, "not the leader: write refused");
    ops.insert(ops.begin(), zk::CheckOp{node, -1});
  }
  auto r = zk_.multi(ops);
  if (!r && election_) {
    // Tell a lost fence apart from the write's own failure.
    auto st = zk_.exists(election_->node());
    if (st && !st->has_value())
      return make_error(ErrorSource::zookeeper, ErrorKind::fenced, "election node is gone: write refused");
  }
  return r;
}

void Controller::fenced_multi_async(std::vector<zk::Op> ops, std::function<void(Result<void>)> done) {
  if (election_) {
    const std::string node = election_->node();
    if (node.empty() || !acting_) {
      done(make_error(ErrorSource::zookeeper, ErrorKind::fenced, "not the leader: write refused"));
      return;
    }
    ops.insert(ops.begin(), zk::CheckOp{node, -1});
  }
  zk_.multi_async(std::move(ops), [this, life = lifeline_, done = std::move(done)](Result<void> r) {
    std::lock_guard alive(life->mu);
    if (!life->alive) return;
    if (!r && election_) {
      // On the dispatcher: a blocking read is allowed here.
      auto st = zk_.exists(election_->node());
      if (st && !st->has_value()) {
        done(make_error(ErrorSource::zookeeper, ErrorKind::fenced, "election node is gone: write refused"));
        return;
      }
    }
    done(std::move(r));
  });
}

std::string Controller::leader_identity() const {
  return election_ ? election_->leader_identity() : options_.identity;
}

}  // namespace hmc::controller
