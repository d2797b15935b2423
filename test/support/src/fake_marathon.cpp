#include "hmc/testing/fake_marathon.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <thread>

namespace hmc::testing {

namespace json = boost::json;

namespace {

Error marathon_error(ErrorKind kind, int code, std::string message) {
  return make_error(ErrorSource::marathon, kind, std::move(message), code);
}

std::string normalize(std::string_view id) {
  std::string out(id);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out.empty() || out.front() != '/') out.insert(0, "/");
  return out;
}

std::string parent_of(const std::string& id) {
  const auto slash = id.rfind('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return id.substr(0, slash);
}

bool route_is(const std::vector<std::string>& types, const std::string& type) {
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

}  // namespace

// ----- State -----

void FakeMarathon::set_auto_complete(bool on) {
  std::lock_guard lock(mutex_);
  auto_complete_ = on;
}

void FakeMarathon::complete_deployments() {
  std::lock_guard lock(mutex_);
  complete_apps(nullptr);
  deployments_.clear();
}

void FakeMarathon::complete_deployments_per_list(int n) {
  std::lock_guard lock(mutex_);
  complete_per_list_ = std::max(0, n);
}

void FakeMarathon::complete_apps(const std::vector<std::string>* app_ids) {
  for (auto& [id, group] : groups_) {
    for (auto& app : group.apps) {
      if (app_ids && std::find(app_ids->begin(), app_ids->end(), app.id) == app_ids->end()) continue;
      app.deployment_ids.clear();
      app.tasks_running = app.instances;
      app.tasks_healthy = app.instances;
      app.tasks_staged = 0;
    }
  }
}

void FakeMarathon::put_group(reconciler::ObservedGroup group) {
  std::lock_guard lock(mutex_);
  group.id = normalize(group.id);
  groups_[group.id] = std::move(group);
}

void FakeMarathon::remove_group(const std::string& group_id) {
  std::lock_guard lock(mutex_);
  groups_.erase(normalize(group_id));
}

std::optional<reconciler::ObservedGroup> FakeMarathon::group(const std::string& group_id) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find(normalize(group_id));
  if (it == groups_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, reconciler::ObservedGroup> FakeMarathon::groups() const {
  std::lock_guard lock(mutex_);
  return groups_;
}

void FakeMarathon::set_deployments(std::vector<reconciler::ObservedDeployment> deployments) {
  std::lock_guard lock(mutex_);
  deployments_ = std::move(deployments);
}

std::vector<reconciler::ObservedDeployment> FakeMarathon::deployments() const {
  std::lock_guard lock(mutex_);
  return deployments_;
}

void FakeMarathon::set_queue(std::vector<reconciler::QueueEntry> queue) {
  std::lock_guard lock(mutex_);
  queue_ = std::move(queue);
}

void FakeMarathon::set_info(std::string body) {
  std::lock_guard lock(mutex_);
  info_ = std::move(body);
}

// ----- Failures and calls -----

void FakeMarathon::fail_next(const std::string& method, Error error, int times) {
  std::lock_guard lock(mutex_);
  failures_[method] = Failure{std::move(error), times};
}

void FakeMarathon::fail_always(const std::string& method, Error error) {
  std::lock_guard lock(mutex_);
  failures_[method] = Failure{std::move(error), -1};
}

void FakeMarathon::clear_failures() {
  std::lock_guard lock(mutex_);
  failures_.clear();
}

std::vector<FakeMarathon::Call> FakeMarathon::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

int FakeMarathon::count(const std::string& method) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(calls_.begin(), calls_.end(),
                                        [&](const Call& c) { return c.method == method; }));
}

void FakeMarathon::clear_calls() {
  std::lock_guard lock(mutex_);
  calls_.clear();
}

std::optional<Error> FakeMarathon::take_failure(const std::string& method) {
  auto it = failures_.find(method);
  if (it == failures_.end()) return std::nullopt;
  Error e = it->second.error;
  if (it->second.remaining > 0 && --it->second.remaining == 0) failures_.erase(it);
  return e;
}

void FakeMarathon::record(const std::string& method, const std::string& route, const std::string& http_method,
                          const Call& call, int code) {
  (void)method;
  calls_.push_back(call);
  if (observer_) observer_(marathon::RequestRecord{http_method, route, code, std::chrono::nanoseconds{0}});
}

// ----- Helpers -----

std::string FakeMarathon::next_version() {
  const TimePoint now = time_ ? time_->now() : Clock::now();
  return format_time(now + std::chrono::milliseconds{static_cast<long long>(++counter_)});
}

std::string FakeMarathon::start_deployment(const std::vector<std::string>& apps, const std::string& action) {
  reconciler::ObservedDeployment d;
  d.id = "fake-deployment-" + std::to_string(++counter_);
  d.version = next_version();
  d.affected_apps = apps;
  for (const auto& app : apps) d.current_actions.push_back({action, app});
  d.current_step = 1;
  d.total_steps = 1;
  deployments_.push_back(d);
  return d.id;
}

std::optional<Error> FakeMarathon::lock_of(const reconciler::ObservedGroup& group, bool force) {
  std::vector<std::string> locking;
  for (const auto& d : deployments_) {
    for (const auto& app : group.apps) {
      if (std::find(d.affected_apps.begin(), d.affected_apps.end(), app.id) != d.affected_apps.end()) {
        locking.push_back(d.id);
        break;
      }
    }
  }
  if (locking.empty()) return std::nullopt;
  if (!force) {
    std::string ids;
    for (const auto& id : locking) ids += (ids.empty() ? "" : ", ") + id;
    return marathon_error(ErrorKind::locked, 409,
                          "HTTP 409: locked by deployments " + ids +
                              ": App is locked by one or more deployments. Override with the option "
                              "'?force=true'.");
  }
  // force: Marathon cancels the conflicting deployments without rollback.
  std::erase_if(deployments_, [&](const reconciler::ObservedDeployment& d) {
    return std::find(locking.begin(), locking.end(), d.id) != locking.end();
  });
  for (auto& [id, g] : groups_) {
    for (auto& app : g.apps) {
      std::erase_if(app.deployment_ids, [&](const std::string& d) {
        return std::find(locking.begin(), locking.end(), d) != locking.end();
      });
    }
  }
  return std::nullopt;
}

Result<reconciler::ObservedGroup> FakeMarathon::group_from_body(const std::string& body,
                                                                 const std::string& id_hint) const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return marathon_error(ErrorKind::invalid, 400, "HTTP 400: Invalid JSON");
  }
  json::object& o = v.as_object();
  if (!id_hint.empty()) o["id"] = id_hint;
  const json::value* id = o.if_contains("id");
  if (id == nullptr || !id->is_string()) {
    return marathon_error(ErrorKind::invalid, 422, "HTTP 422: Object is not valid (/id: must be set)");
  }
  const std::string group_id = normalize(id->get_string());
  o["id"] = group_id;
  if (json::array* apps = o.contains("apps") && o["apps"].is_array() ? &o["apps"].as_array() : nullptr) {
    for (json::value& app : *apps) {
      if (!app.is_object()) continue;
      json::value* app_id = app.as_object().if_contains("id");
      if (app_id != nullptr && app_id->is_string() && !app_id->get_string().starts_with("/")) {
        *app_id = group_id + "/" + std::string(app_id->get_string());
      }
    }
  }
  json::object wrapper;
  wrapper["id"] = "/";
  wrapper["groups"] = json::array{v};
  auto parsed = marathon::parse_groups(json::serialize(wrapper), "/");
  if (!parsed) {
    return marathon_error(ErrorKind::invalid, 422, "HTTP 422: Object is not valid (" + parsed.error().message + ")");
  }
  auto it = parsed->find(group_id);
  if (it == parsed->end()) return marathon_error(ErrorKind::invalid, 422, "HTTP 422: Object is not valid");
  return it->second;
}

// ----- MarathonClient -----

Result<reconciler::MarathonSnapshot> FakeMarathon::observe(const std::string& group_root) {
  std::lock_guard lock(mutex_);
  const std::string root = normalize(group_root);
  const Call call{"observe", root, {}, false, 0};
  if (auto e = take_failure("observe")) {
    record("observe", "/v2/groups/{id}", "GET", call, e->code);
    return *e;
  }
  record("observe", "/v2/groups/{id}", "GET", call, 200);
  if (observer_) {
    observer_(marathon::RequestRecord{"GET", "/v2/deployments", 200, std::chrono::nanoseconds{0}});
    observer_(marathon::RequestRecord{"GET", "/v2/queue", 200, std::chrono::nanoseconds{0}});
  }
  reconciler::MarathonSnapshot snapshot;
  snapshot.started_at = time_ ? time_->now() : Clock::now();
  for (const auto& [id, group] : groups_) {
    if (parent_of(id) == root) snapshot.groups[id] = group;
  }
  snapshot.deployments = deployments_;
  snapshot.queue = queue_;
  return snapshot;
}

Result<std::vector<reconciler::ObservedDeployment>> FakeMarathon::list_deployments() {
  std::lock_guard lock(mutex_);
  const Call call{"list_deployments", {}, {}, false, 0};
  if (auto e = take_failure("list_deployments")) {
    record("list_deployments", "/v2/deployments", "GET", call, e->code);
    return *e;
  }
  record("list_deployments", "/v2/deployments", "GET", call, 200);
  const auto done = std::min(deployments_.size(), static_cast<std::size_t>(complete_per_list_));
  for (std::size_t i = 0; i < done; ++i) complete_apps(&deployments_[i].affected_apps);
  deployments_.erase(deployments_.begin(), deployments_.begin() + static_cast<std::ptrdiff_t>(done));
  return deployments_;
}

void FakeMarathon::set_create_delay(std::chrono::milliseconds delay) { create_delay_ms_ = delay.count(); }

Result<marathon::ChangeResult> FakeMarathon::create_group(const std::string& body) {
  if (const auto d = create_delay_ms_.load()) std::this_thread::sleep_for(std::chrono::milliseconds{d});
  std::lock_guard lock(mutex_);
  Call call{"create_group", {}, body, false, 0};
  if (auto e = take_failure("create_group")) {
    record("create_group", "/v2/groups", "POST", call, e->code);
    return *e;
  }
  auto group = group_from_body(body, {});
  if (!group) {
    record("create_group", "/v2/groups", "POST", call, group.error().code);
    return group.error();
  }
  call.id = group->id;
  if (groups_.contains(group->id)) {
    record("create_group", "/v2/groups", "POST", call, 409);
    return marathon_error(ErrorKind::conflict, 409,
                          "HTTP 409: Group " + group->id + " is already created. Use PUT to change this group.");
  }
  marathon::ChangeResult result;
  result.version = next_version();
  group->version = result.version;
  std::vector<std::string> app_ids;
  for (auto& app : group->apps) {
    app.version = result.version;
    app_ids.push_back(app.id);
    if (auto_complete_) {
      app.tasks_running = app.instances;
      app.tasks_healthy = app.instances;
    }
  }
  if (!auto_complete_ && !app_ids.empty()) {
    result.deployment_id = start_deployment(app_ids, "StartApplication");
    for (auto& app : group->apps) app.deployment_ids.push_back(result.deployment_id);
  }
  groups_[group->id] = std::move(*group);
  record("create_group", "/v2/groups", "POST", call, 201);
  return result;
}

Result<marathon::ChangeResult> FakeMarathon::update_group(const std::string& group_id, const std::string& body,
                                                          bool force) {
  const std::string id = normalize(group_id);
  {
    // A scaleBy body is a scale: same semantics as scale_group.
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec && v.is_object() && v.as_object().contains("scaleBy") && v.as_object()["scaleBy"].is_number()) {
      return scale_group(id, v.as_object()["scaleBy"].to_number<double>(), force);
    }
  }
  std::lock_guard lock(mutex_);
  const Call call{"update_group", id, body, force, 0};
  if (auto e = take_failure("update_group")) {
    record("update_group", "/v2/groups/{id}", "PUT", call, e->code);
    return *e;
  }
  auto group = group_from_body(body, id);
  if (!group) {
    record("update_group", "/v2/groups/{id}", "PUT", call, group.error().code);
    return group.error();
  }
  auto existing = groups_.find(id);
  if (existing != groups_.end()) {
    if (auto e = lock_of(existing->second, force)) {
      record("update_group", "/v2/groups/{id}", "PUT", call, 409);
      return *e;
    }
  }
  marathon::ChangeResult result;
  result.version = next_version();
  group->version = result.version;
  std::vector<std::string> app_ids;
  for (auto& app : group->apps) {
    app.version = result.version;
    app_ids.push_back(app.id);
    if (auto_complete_) {
      app.tasks_running = app.instances;
      app.tasks_healthy = app.instances;
    } else if (existing != groups_.end()) {
      for (const auto& old : existing->second.apps) {
        if (old.id == app.id) app.tasks_running = old.tasks_running;
      }
    }
  }
  if (!auto_complete_) {
    if (existing != groups_.end()) {
      for (const auto& old : existing->second.apps) {
        if (std::find(app_ids.begin(), app_ids.end(), old.id) == app_ids.end()) app_ids.push_back(old.id);
      }
    }
    if (!app_ids.empty()) {
      result.deployment_id = start_deployment(app_ids, "RestartApplication");
      for (auto& app : group->apps) app.deployment_ids.push_back(result.deployment_id);
    }
  }
  groups_[id] = std::move(*group);
  record("update_group", "/v2/groups/{id}", "PUT", call, 200);
  return result;
}

Result<marathon::ChangeResult> FakeMarathon::scale_group(const std::string& group_id, double factor, bool force) {
  std::lock_guard lock(mutex_);
  const std::string id = normalize(group_id);
  const Call call{"scale_group", id, {}, force, factor};
  if (auto e = take_failure("scale_group")) {
    record("scale_group", "/v2/groups/{id}", "PUT", call, e->code);
    return *e;
  }
  if (!std::isfinite(factor) || factor < 0) {
    record("scale_group", "/v2/groups/{id}", "PUT", call, 422);
    return marathon_error(ErrorKind::invalid, 422, "HTTP 422: scaleBy must be >= 0");
  }
  auto it = groups_.find(id);
  if (it == groups_.end()) {
    record("scale_group", "/v2/groups/{id}", "PUT", call, 404);
    return marathon_error(ErrorKind::not_found, 404, "HTTP 404: Group '" + id + "' does not exist");
  }
  if (auto e = lock_of(it->second, force)) {
    record("scale_group", "/v2/groups/{id}", "PUT", call, 409);
    return *e;
  }
  marathon::ChangeResult result;
  result.version = next_version();
  it->second.version = result.version;
  std::vector<std::string> app_ids;
  for (auto& app : it->second.apps) {
    app.instances = static_cast<int>(std::ceil(app.instances * factor));
    app.version = result.version;
    app_ids.push_back(app.id);
    if (auto_complete_) {
      app.tasks_running = app.instances;
      app.tasks_healthy = app.instances;
    }
  }
  if (!auto_complete_ && !app_ids.empty()) {
    result.deployment_id = start_deployment(app_ids, "ScaleApplication");
    for (auto& app : it->second.apps) app.deployment_ids.push_back(result.deployment_id);
  }
  record("scale_group", "/v2/groups/{id}", "PUT", call, 200);
  return result;
}

Result<marathon::ChangeResult> FakeMarathon::delete_group(const std::string& group_id, bool force) {
  std::lock_guard lock(mutex_);
  const std::string id = normalize(group_id);
  const Call call{"delete_group", id, {}, force, 0};
  if (auto e = take_failure("delete_group")) {
    record("delete_group", "/v2/groups/{id}", "DELETE", call, e->code);
    return *e;
  }
  auto it = groups_.find(id);
  if (it == groups_.end()) {
    record("delete_group", "/v2/groups/{id}", "DELETE", call, 404);
    return marathon_error(ErrorKind::not_found, 404, "HTTP 404: Group '" + id + "' does not exist");
  }
  if (auto e = lock_of(it->second, force)) {
    record("delete_group", "/v2/groups/{id}", "DELETE", call, 409);
    return *e;
  }
  marathon::ChangeResult result;
  result.version = next_version();
  if (!auto_complete_) {
    std::vector<std::string> app_ids;
    for (const auto& app : it->second.apps) app_ids.push_back(app.id);
    if (!app_ids.empty()) result.deployment_id = start_deployment(app_ids, "StopApplication");
  }
  groups_.erase(it);
  record("delete_group", "/v2/groups/{id}", "DELETE", call, 200);
  return result;
}

Result<void> FakeMarathon::cancel_deployment(const std::string& deployment_id) {
  std::lock_guard lock(mutex_);
  const Call call{"cancel_deployment", deployment_id, {}, true, 0};
  if (auto e = take_failure("cancel_deployment")) {
    record("cancel_deployment", "/v2/deployments/{id}", "DELETE", call, e->code);
    return *e;
  }
  const auto removed = std::erase_if(
      deployments_, [&](const reconciler::ObservedDeployment& d) { return d.id == deployment_id; });
  if (removed == 0) {
    record("cancel_deployment", "/v2/deployments/{id}", "DELETE", call, 404);
    return marathon_error(ErrorKind::not_found, 404,
                          "HTTP 404: DeploymentPlan " + deployment_id + " does not exist");
  }
  for (auto& [id, group] : groups_) {
    for (auto& app : group.apps) std::erase(app.deployment_ids, deployment_id);
  }
  record("cancel_deployment", "/v2/deployments/{id}", "DELETE", call, 202);
  return {};
}

Result<marathon::ChangeResult> FakeMarathon::restart_app(const std::string& app_id, bool force) {
  std::lock_guard lock(mutex_);
  const std::string id = normalize(app_id);
  const Call call{"restart_app", id, {}, force, 0};
  if (auto e = take_failure("restart_app")) {
    record("restart_app", "/v2/apps/{id}/restart", "POST", call, e->code);
    return *e;
  }
  auto g = groups_.find(parent_of(id));
  reconciler::ObservedApp* app = nullptr;
  if (g != groups_.end())
    for (auto& a : g->second.apps)
      if (a.id == id) app = &a;
  if (app == nullptr) {
    record("restart_app", "/v2/apps/{id}/restart", "POST", call, 404);
    return marathon_error(ErrorKind::not_found, 404, "HTTP 404: App '" + id + "' does not exist");
  }
  reconciler::ObservedGroup just_this;
  just_this.apps.push_back(*app);
  if (auto e = lock_of(just_this, force)) {
    record("restart_app", "/v2/apps/{id}/restart", "POST", call, 409);
    return *e;
  }
  marathon::ChangeResult result;
  result.version = next_version();
  app->version = result.version;
  app->config_version = parse_time(result.version);
  if (auto_complete_) {
    app->tasks_running = app->instances;
    app->tasks_healthy = app->instances;
  } else {
    result.deployment_id = start_deployment({id}, "RestartApplication");
    app->deployment_ids.push_back(result.deployment_id);
  }
  std::erase_if(queue_, [&](const reconciler::QueueEntry& q) { return q.app_id == id; });
  record("restart_app", "/v2/apps/{id}/restart", "POST", call, 200);
  return result;
}

Result<void> FakeMarathon::reset_launch_delay(const std::string& app_id) {
  std::lock_guard lock(mutex_);
  const std::string id = normalize(app_id);
  const Call call{"reset_launch_delay", id, {}, false, 0};
  if (auto e = take_failure("reset_launch_delay")) {
    record("reset_launch_delay", "/v2/queue/{id}/delay", "DELETE", call, e->code);
    return *e;
  }
  bool queued = false;
  for (auto& q : queue_)
    if (q.app_id == id) {
      q.delay_time_left_seconds = 0;
      q.overdue = true;
      queued = true;
    }
  // As the real client: 404 (not in the launch queue) is no delay, a success.
  record("reset_launch_delay", "/v2/queue/{id}/delay", "DELETE", call, queued ? 204 : 404);
  return {};
}

Result<std::string> FakeMarathon::info() {
  std::lock_guard lock(mutex_);
  const Call call{"info", {}, {}, false, 0};
  if (auto e = take_failure("info")) {
    record("info", "/v2/info", "GET", call, e->code);
    return *e;
  }
  record("info", "/v2/info", "GET", call, 200);
  return info_;
}

void FakeMarathon::subscribe_events(std::vector<std::string> event_types,
                                    std::function<void(const std::string&, const std::string&)> on_event) {
  std::lock_guard lock(mutex_);
  subscribers_.push_back(Subscriber{std::move(event_types), std::move(on_event)});
}

void FakeMarathon::pause_events(bool paused) {
  std::lock_guard lock(mutex_);
  if (paused && !events_paused_) ++event_pauses_;
  events_paused_ = paused;
}

bool FakeMarathon::events_paused() const {
  std::lock_guard lock(mutex_);
  return events_paused_;
}

int FakeMarathon::event_pauses() const {
  std::lock_guard lock(mutex_);
  return event_pauses_;
}

void FakeMarathon::set_request_observer(marathon::RequestObserver observer) {
  std::lock_guard lock(mutex_);
  observer_ = std::move(observer);
}

void FakeMarathon::emit_event(const std::string& type, const std::string& data) {
  std::vector<Subscriber> subscribers;
  {
    std::lock_guard lock(mutex_);
    if (events_paused_) return;  // the streams are closed
    subscribers = subscribers_;
  }
  for (const auto& s : subscribers) {
    if (route_is(s.types, type)) s.on_event(type, data);
  }
}

int FakeMarathon::subscriber_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(subscribers_.size());
}

}  // namespace hmc::testing
