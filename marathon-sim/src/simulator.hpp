#pragma once
// The simulated Marathon: groups, apps, deployments and the launch queue on top
// of a simulated Mesos cluster (agents, offers, tasks). It knows nothing of
// sockets: the server hands it parsed requests and writes back its responses,
// so every behaviour can be tested without a network.
//
// Threading: not thread-safe; the server calls it from one thread only.

#include "hmc/common/clock.hpp"
#include "options.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace hmc::marathon_sim {

namespace json = boost::json;

// Reasons an offer is declined, in Marathon's funnel order.
enum class Reason : int {
  UnfulfilledRole,
  UnfulfilledConstraint,
  NoCorrespondingReservationFound,
  AgentMaintenance,
  InsufficientCpus,
  InsufficientMemory,
  InsufficientDisk,
  InsufficientGpus,
  InsufficientPorts,
  DeclinedScarceResources,
};
inline constexpr int kReasonCount = 10;
const char* reason_name(Reason r);

struct Agent {
  AgentSpec spec;
  double used_cpus = 0, used_mem = 0, used_disk = 0, used_gpus = 0;
  std::set<std::uint32_t> used_ports;
  // Every offered port below this one is in use: dynamic ports are taken
  // from here, so a placement does not rescan the ports taken before it.
  std::uint32_t free_port_hint = 0;
  std::size_t port_capacity() const;
};

enum class TaskState { staging, running };

struct Task {
  std::string id, app_id, agent_id, host;
  std::vector<std::uint32_t> ports;
  TimePoint staged_at{};
  std::optional<TimePoint> started_at;
  std::string version;  // the app's config version the task runs
  TaskState state = TaskState::staging;
  double cpus = 0, mem = 0, disk = 0, gpus = 0;
  std::uint64_t launched_in_cycle = 0;
  // A task fault matched at launch: the task fails (TASK_FAILED with
  // failure_message) instead of running when 0, or this long after it runs.
  std::optional<std::chrono::milliseconds> fails_after_running;
  std::string failure_message;
};

// Marathon's RateLimiter entry of an app: the launch delay of one config
// version (lastConfigChangeAt), grown by backoffFactor with every failure.
struct LaunchDelay {
  std::string config;  // the app's last_config_change_at it belongs to
  TimePoint deadline{};
  std::chrono::nanoseconds delay{0};
};

// A validated app definition and what the cluster needs of it.
struct AppSpec {
  std::string id;
  int instances = 1;
  double cpus = 1, mem = 128, disk = 0, gpus = 0;
  int port_count = 0;                       // host ports needed per instance
  std::vector<std::uint32_t> fixed_ports;   // requirePorts: these exact host ports
  std::vector<std::string> accepted_roles;  // empty: "*"
  std::vector<std::vector<std::string>> constraints;
  bool has_health_checks = false;
  json::object definition;  // normalized, without version fields
};

struct UnusedOffer {
  std::string offer_id, agent_id, hostname, role;
  double cpus = 0, mem = 0, disk = 0, gpus = 0;
  std::vector<PortRange> ports;
  TimePoint at{};
  std::vector<Reason> reasons;
};

// Marathon's statistics of one launch attempt (the app's stay in the queue).
struct LaunchAttempt {
  TimePoint since{};
  long processed = 0, unused = 0;
  std::optional<TimePoint> last_unused_at, last_used_at;
  std::array<long, kReasonCount> first_reason{};        // over the whole attempt
  std::map<std::string, UnusedOffer> last_by_agent;      // last unused offer per agent
};

// The JSON of an app for one set of embeds (Api::write_app), as it was at one
// revision of the app.
struct AppRendering {
  unsigned embeds = 0;
  std::uint64_t revision = 0;
  std::string json;  // empty: not rendered yet
};

// The JSON of a group without its subgroups for one set of embeds
// (Api::write_group), as it was at one revision of the group.
struct GroupRendering {
  unsigned embeds = 0;
  std::uint64_t revision = 0;
  std::string head;      // id and apps; empty: not rendered yet
  std::string tail;      // pods, dependencies, version and the closing brace
  std::size_t size = 0;  // of the last answer with this group at its top, subgroups included
};

// Renderings kept per app and per group: those of the embed sets most recently asked for.
inline constexpr std::size_t kRenderingsKept = 2;

struct App {
  AppSpec spec;
  std::string group_id;
  std::string version, last_scaling_at, last_config_change_at;
  std::vector<Task> tasks;
  std::string last_failure_json;  // empty: none
  std::optional<LaunchAttempt> launch;
  std::optional<LaunchDelay> delay;  // see Simulator::launch_delay
  std::string json_cache;  // definition and versions, without the closing brace
  // New (Simulator::changed) whenever anything the app's JSON shows changes:
  // definition and versions, tasks, last task failure, deployments touching it.
  std::uint64_t revision = 0;
  std::vector<AppRendering> renderings;  // most recently used first
};

struct Group {
  std::string id;
  std::string version;
  std::set<std::string> apps;
  std::set<std::string> groups;
  json::array dependencies;
  // New (Simulator::changed) whenever its JSON without its subgroups changes:
  // version, dependencies, its apps and anything they show.
  std::uint64_t revision = 0;
  std::vector<GroupRendering> renderings;  // most recently used first
};

struct Action {
  std::string action;
  std::string app;
};

struct Deployment {
  std::string id, version;
  std::vector<std::string> affected_apps;
  std::vector<std::vector<Action>> steps;
  std::size_t current = 0;  // index of the running step
  std::optional<TimePoint> finished_at;  // all steps done; kept while a lock_hold fault lasts
  std::map<std::string, std::optional<AppSpec>> before;  // app specs before, for rollback
};

struct Request {
  std::string method;
  std::string target;  // path and query, as sent
  std::string body;
  std::string authorization;
  std::string user_agent;
  std::string host;  // Host header: Location headers are absolute URIs, as Jersey writes them
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // fault: answer after this long
  bool reset = false;                  // fault: drop the connection, no answer
  bool event_stream = false;           // switch the connection to server-sent events
  std::vector<std::string> event_types;  // filter of the event stream; empty: all
};

// A JSON answer, and Marathon's error shape {"message": msg} (defined in api.cpp).
Response json_response(int status, std::string body);
Response message(int status, const std::string& msg);

struct RequestRecord {
  std::uint64_t seq = 0;
  std::string method, target, user_agent;
  int status = 0;  // 0: connection reset by a fault
  TimePoint at{};
};

// Target state of a change: apps to create or replace, apps to remove.
struct ChangeSet {
  std::map<std::string, std::optional<AppSpec>> apps;
  std::set<std::string> restart_apps;
  std::set<std::string> new_groups;
  std::set<std::string> removed_groups;
  std::map<std::string, json::array> group_dependencies;
  std::string snapshot_group;  // group whose definition is recorded for rollback
};

// The tasksStats of an app (embed app.taskStats), as Marathon's TaskStatsByVersion.
void append_task_stats(std::string& out, const App& app, TimePoint now);

class Simulator {
 public:
  explicit Simulator(const SimOptions& options);
  ~Simulator();

  // Answers one HTTP request. Thread: the server's.
  Response handle(const Request& request);

  // One offer cycle: stage -> run, kill what must go, match offers, advance deployments.
  void run_offer_cycle();
  // Deterministic mode: moves the clock by `d`, running every offer cycle whose time comes.
  void advance(std::chrono::milliseconds d);

  // Server-sent events: `send` gets complete frames. Returns an id for unsubscribe.
  std::uint64_t subscribe(std::vector<std::string> types, std::function<void(const std::string&)> send,
                          const std::string& remote);
  void unsubscribe(std::uint64_t id);

  bool deterministic() const { return options_.deterministic; }
  std::chrono::milliseconds offer_period() const { return options_.offer_period; }
  TimePoint now() const { return clock_->now(); }
  void set_listen_address(std::string host_port) { leader_ = std::move(host_port); }

  // Task faults (task_faults.cpp). add_task_fault assigns an id when none is
  // given; false when the id is taken.
  bool add_task_fault(TaskFault fault);
  const std::vector<TaskFault>& task_faults() const { return task_faults_; }

  // Read access for tests and the benchmark.
  const std::map<std::string, Group>& groups() const { return groups_; }
  const std::unordered_map<std::string, App>& apps() const { return apps_; }
  const std::map<std::string, Agent>& agents() const { return agents_; }
  const std::set<std::string>& unsettled() const { return unsettled_; }
  const std::vector<Deployment>& deployments() const { return deployments_; }
  // Tasks of all apps, kept as they come and go (GET /_sim/state is polled
  // every few milliseconds by benchmarks).
  std::size_t task_count() const { return live_tasks_; }
  std::uint64_t cycles() const { return cycle_; }

  // Groups in GET /v2/groups and apps in GET /v2/groups and GET /v2/apps are
  // copied from renderings kept while they are unchanged (on by default). Off,
  // everything is rendered afresh and the kept renderings are neither read nor
  // replaced: tests compare the two answers.
  void set_render_cache(bool on) { render_cache_ = on; }
  bool render_cache() const { return render_cache_; }

 private:
  friend class Api;
  struct Subscriber {
    std::set<std::string> types;
    std::function<void(const std::string&)> send;
  };

  // model (state.cpp)
  std::string next_version();
  std::string new_uuid();
  void emit(const std::string& type, json::object data);
  // Whether any event stream subscriber takes events of this type: events
  // nobody takes are neither built nor serialized.
  bool wants(const std::string& type) const;
  std::string add_agent(AgentSpec spec);
  bool remove_agent(const std::string& id);
  void kill_task(App* app, Task&& task, const char* state, const std::string& message);
  void release(const Task& t);
  void launch_into_queue(const std::vector<App*>& candidates);
  void progress_deployments();
  bool action_done(const Action& a) const;
  std::vector<std::string> locking_deployments(const std::set<std::string>& apps) const;
  void cancel_deployment(std::size_t index, bool emit_failed);
  void refresh_json(App& app);
  // Every change to what the JSON of an app, or of a group without its
  // subgroups, shows goes through these; kept renderings are stale after.
  // An app's change is also its group's. changed(App&) also puts the app in
  // unsettled_; locks_changed (deployments locking it) does not.
  void changed(App& app);
  void changed(Group& group) { group.revision = ++revision_; }
  void locks_changed(const std::string& app_id);
  void ensure_group(const std::string& id, const std::string& version);
  void touch_ancestors(const std::string& id, const std::string& version);
  void collect_apps(const std::string& group_id, std::vector<std::string>& out) const;
  void collect_groups(const std::string& group_id, std::vector<std::string>& out) const;
  json::value group_definition(const std::string& group_id) const;
  std::vector<std::vector<Action>> plan_steps(const ChangeSet& c) const;

  // Outcome of committing a change: deployment id and version, or a ready error response.
  struct Committed {
    std::string deployment_id, version;
    std::vector<std::vector<Action>> steps;
  };
  std::variant<Committed, Response> commit(ChangeSet change, bool force, bool dry_run);

  // task faults and launch backoff (task_faults.cpp)
  Response task_faults_endpoint(const Request& r, const std::string& path);
  // Arms `t` with the first task fault matching its app, if any.
  void apply_task_faults(const App& app, Task& t);
  // Fails the task at `index` of `app`: TASK_FAILED, lastTaskFailure, more delay.
  void fail_task(App& app, std::size_t index);
  // The app's current delay, or null: one of another config version, or one
  // whose deadline passed a minute ago (Marathon's viable-task reset), is dropped.
  const LaunchDelay* launch_delay(App& app);
  void add_delay(App& app);
  std::vector<TaskFault> task_faults_;
  std::uint64_t task_fault_counter_ = 0;

  // DC/OS login (login.cpp): POST /acs/api/v1/auth/login, and whether a
  // request carries a valid token (the static --token or one issued here).
  struct IssuedToken {
    std::string uid, token;
    TimePoint issued_at{}, expires_at{};
  };
  Response login(const Request& r);
  bool authorized(const Request& r) const;
  Response unauthorized() const;
  Response logins_endpoint() const;  // GET /_sim/logins
  std::string login_secret_;         // HS256 key of the issued tokens, made at the first login
  std::vector<IssuedToken> issued_tokens_;
  std::uint64_t login_counter_ = 0;

  SimOptions options_;
  std::unique_ptr<TimeSource> clock_;
  std::mt19937_64 rng_;
  std::string leader_ = "127.0.0.1:8080";
  std::string framework_id_;

  std::map<std::string, Group> groups_;
  std::unordered_map<std::string, App> apps_;
  // Apps an offer cycle may have work for: every app changed since it was
  // last seen settled (all its instances running, at its current config).
  // An offer cycle and GET /v2/queue look at these only, as Marathon's launch
  // queue holds only apps with instances to launch: with 20,000 settled apps a
  // cycle costs nothing instead of a scan of every task.
  std::set<std::string> unsettled_;
  bool settled(const App& app) const;
  std::vector<App*> unsettled_apps();
  std::map<std::string, Agent> agents_;
  std::uint64_t agent_counter_ = 0;
  std::vector<Task> terminating_;  // tasks of removed apps, killed in the next cycle
  std::vector<Deployment> deployments_;
  std::unordered_map<std::string, std::vector<std::string>> locks_;  // app id -> deployment ids
  void lock_apps(const Deployment& d);
  void unlock_apps(const Deployment& d);
  std::map<std::string, std::map<std::string, json::value>> group_history_;  // id -> version -> definition
  std::map<std::string, std::map<std::string, AppSpec>> app_history_;        // id -> version -> spec
  TimePoint last_version_{};
  std::uint64_t cycle_ = 0;
  std::size_t live_tasks_ = 0;
  TimePoint next_cycle_at_{};
  std::uint64_t offer_counter_ = 0;
  std::uint64_t task_counter_ = 0;
  std::uint64_t revision_ = 0;  // revisions are unique over all apps and groups, past and present
  bool render_cache_ = true;

  std::map<std::uint64_t, Subscriber> subscribers_;
  std::uint64_t subscriber_counter_ = 0;

  std::deque<RequestRecord> request_log_;
  std::uint64_t request_seq_ = 0;
};

}  // namespace hmc::marathon_sim
