#include "hmc/reconciler/status.hpp"

#include "json_util.hpp"
#include "restart_codec.hpp"

#include <algorithm>
#include <cmath>

namespace hmc::reconciler {

namespace json = boost::json;
using detail::sv;

const char* to_string(Phase p) noexcept {
  switch (p) {
    case Phase::Pending: return "Pending";
    case Phase::Deploying: return "Deploying";
    case Phase::Running: return "Running";
    case Phase::Waiting: return "Waiting";
    case Phase::Suspended: return "Suspended";
    case Phase::Killing: return "Killing";
    case Phase::Failed: return "Failed";
  }
  return "Unknown";
}

const char* to_string(Health h) noexcept {
  switch (h) {
    case Health::Healthy: return "Healthy";
    case Health::Progressing: return "Progressing";
    case Health::Degraded: return "Degraded";
    case Health::Suspended: return "Suspended";
    case Health::Missing: return "Missing";
    case Health::Unknown: return "Unknown";
  }
  return "Unknown";
}

const char* to_string(ConditionStatus s) noexcept {
  switch (s) {
    case ConditionStatus::True: return "True";
    case ConditionStatus::False: return "False";
    case ConditionStatus::Unknown: return "Unknown";
  }
  return "Unknown";
}

std::optional<Phase> parse_phase(std::string_view s) noexcept {
  for (auto p : {Phase::Pending, Phase::Deploying, Phase::Running, Phase::Waiting,
                 Phase::Suspended, Phase::Killing, Phase::Failed})
    if (s == to_string(p)) return p;
  return std::nullopt;
}

std::optional<Health> parse_health(std::string_view s) noexcept {
  for (auto h : {Health::Healthy, Health::Progressing, Health::Degraded, Health::Suspended,
                 Health::Missing, Health::Unknown})
    if (s == to_string(h)) return h;
  return std::nullopt;
}

std::optional<ConditionStatus> parse_condition_status(std::string_view s) noexcept {
  for (auto c : {ConditionStatus::True, ConditionStatus::False, ConditionStatus::Unknown})
    if (s == to_string(c)) return c;
  return std::nullopt;
}

void set_condition(std::vector<Condition>& conds, Condition c) {
  for (auto& existing : conds) {
    if (existing.type != c.type) continue;
    if (existing.status == c.status) c.last_transition_time = existing.last_transition_time;
    existing = std::move(c);
    return;
  }
  conds.push_back(std::move(c));
}

const Condition* find_condition(const std::vector<Condition>& conds, std::string_view type) {
  for (const auto& c : conds)
    if (c.type == type) return &c;
  return nullptr;
}

namespace {

json::array reasons_json(const std::vector<WaitingReason>& rs) {
  json::array a;
  for (const auto& r : rs) {
    json::object o;
    o["reason"] = r.reason;
    o["declined"] = r.declined;
    o["processed"] = r.processed;
    a.emplace_back(std::move(o));
  }
  return a;
}

// Lenient readers: a field of the wrong type keeps its default.
std::string get_str(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(sv(it->value().get_string()));
}

long long get_int(const json::object& o, std::string_view k, long long def = 0) {
  auto it = o.find(k);
  if (it == o.end()) return def;
  const auto& v = it->value();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return v.get_uint64() > 0x7fffffffffffffffULL ? def : static_cast<long long>(v.get_uint64());
  if (v.is_double() && std::isfinite(v.get_double()) && std::fabs(v.get_double()) < 9e18)
    return static_cast<long long>(v.get_double());
  return def;
}

int get_int32(const json::object& o, std::string_view k, int def = 0) {
  return static_cast<int>(std::clamp(get_int(o, k, def), -2147483647LL, 2147483647LL));
}

std::optional<TimePoint> get_time(const json::object& o, std::string_view k) {
  auto s = get_str(o, k);
  if (s.empty()) return std::nullopt;
  return parse_time(s);
}

const json::array* get_array(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  if (it == o.end() || !it->value().is_array()) return nullptr;
  return &it->value().get_array();
}

std::vector<std::string> get_strings(const json::object& o, std::string_view k) {
  std::vector<std::string> out;
  if (auto* a = get_array(o, k))
    for (const auto& e : *a)
      if (e.is_string()) out.emplace_back(sv(e.get_string()));
  return out;
}

std::vector<WaitingReason> get_reasons(const json::object& o) {
  std::vector<WaitingReason> out;
  if (auto* a = get_array(o, "reasons"))
    for (const auto& e : *a)
      if (e.is_object()) {
        const auto& r = e.get_object();
        out.push_back({get_str(r, "reason"), get_int32(r, "declined"), get_int32(r, "processed")});
      }
  return out;
}

}  // namespace

std::string to_json(const TopologyStatus& s) {
  json::object o;
  o["schemaVersion"] = s.schema_version;
  o["name"] = s.name;
  o["observedGeneration"] = s.observed_generation;
  o["phase"] = to_string(s.phase);
  o["health"] = to_string(s.health);
  json::array conds;
  for (const auto& c : s.conditions) {
    json::object co;
    co["type"] = c.type;
    co["status"] = to_string(c.status);
    co["reason"] = c.reason;
    co["message"] = c.message;
    co["lastTransitionTime"] = format_time(c.last_transition_time);
    conds.emplace_back(std::move(co));
  }
  o["conditions"] = std::move(conds);
  o["groupId"] = s.group_id;
  o["deploymentIds"] = detail::string_array(s.deployment_ids);
  json::array apps;
  for (const auto& a : s.apps) {
    json::object ao;
    ao["id"] = a.id;
    ao["instances"] = a.instances;
    ao["tasksRunning"] = a.tasks_running;
    ao["tasksStaged"] = a.tasks_staged;
    apps.emplace_back(std::move(ao));
  }
  o["apps"] = std::move(apps);
  o["runningContainers"] = s.running_containers;
  o["totalContainers"] = s.total_containers;
  if (s.waiting) {
    json::object w;
    w["kind"] = s.waiting->kind;
    w["summary"] = s.waiting->summary;
    if (s.waiting->since) w["since"] = format_time(*s.waiting->since);
    w["apps"] = detail::string_array(s.waiting->apps);
    w["reasons"] = reasons_json(s.waiting->reasons);
    o["waiting"] = std::move(w);
  }
  if (!s.failures.empty()) {
    json::array fs;
    for (const auto& f : s.failures) {
      json::object fo;
      fo["app"] = f.app;
      if (f.config_version) fo["configVersion"] = format_time(*f.config_version);
      fo["taskId"] = f.task_id;
      json::array times;
      for (const auto& t : f.times) times.emplace_back(format_time(t));
      fo["times"] = std::move(times);
      fs.emplace_back(std::move(fo));
    }
    o["failures"] = std::move(fs);
  }
  if (!s.restarted.empty()) o["restarted"] = detail::restart_json(s.restarted);
  o["lastError"] = s.last_error;
  o["retryCount"] = s.retry_count;
  if (s.next_retry_time) o["nextRetryTime"] = format_time(*s.next_retry_time);
  o["leader"] = s.leader;
  o["updatedAt"] = format_time(s.updated_at);
  return json::serialize(o);
}

std::optional<TopologyStatus> parse_status(std::string_view text) {
  std::string err;
  const json::value root = detail::parse_bounded(text, err);
  if (!err.empty() || !root.is_object()) return std::nullopt;
  const auto& o = root.get_object();
  TopologyStatus s;
  s.schema_version = get_int32(o, "schemaVersion", kStatusSchemaVersion);
  s.name = get_str(o, "name");
  s.observed_generation = get_int(o, "observedGeneration", -1);
  if (auto p = parse_phase(get_str(o, "phase"))) s.phase = *p;
  if (auto h = parse_health(get_str(o, "health"))) s.health = *h;
  if (auto* a = get_array(o, "conditions"))
    for (const auto& e : *a) {
      if (!e.is_object()) continue;
      const auto& co = e.get_object();
      Condition c;
      c.type = get_str(co, "type");
      if (c.type.empty()) continue;
      c.status = parse_condition_status(get_str(co, "status")).value_or(ConditionStatus::Unknown);
      c.reason = get_str(co, "reason");
      c.message = get_str(co, "message");
      c.last_transition_time = get_time(co, "lastTransitionTime").value_or(TimePoint{});
      s.conditions.push_back(std::move(c));
    }
  s.group_id = get_str(o, "groupId");
  s.deployment_ids = get_strings(o, "deploymentIds");
  if (auto* a = get_array(o, "apps"))
    for (const auto& e : *a) {
      if (!e.is_object()) continue;
      const auto& ao = e.get_object();
      s.apps.push_back({get_str(ao, "id"), get_int32(ao, "instances"), get_int32(ao, "tasksRunning"),
                        get_int32(ao, "tasksStaged")});
    }
  s.running_containers = get_int32(o, "runningContainers");
  s.total_containers = get_int32(o, "totalContainers");
  if (auto it = o.find("waiting"); it != o.end() && it->value().is_object()) {
    const auto& wo = it->value().get_object();
    WaitingDiagnosis w;
    w.kind = get_str(wo, "kind");
    w.summary = get_str(wo, "summary");
    w.since = get_time(wo, "since");
    w.apps = get_strings(wo, "apps");
    w.reasons = get_reasons(wo);
    s.waiting = std::move(w);
  }
  if (auto* a = get_array(o, "failures"))
    for (const auto& e : *a) {
      if (!e.is_object()) continue;
      const auto& fo = e.get_object();
      AppFailures f;
      f.app = get_str(fo, "app");
      if (f.app.empty()) continue;
      f.config_version = get_time(fo, "configVersion");
      f.task_id = get_str(fo, "taskId");
      for (const auto& t : get_strings(fo, "times"))
        if (auto tp = parse_time(t); tp && f.times.size() < kMaxFailureTimes) f.times.push_back(*tp);
      s.failures.push_back(std::move(f));
    }
  if (auto it = o.find("restarted"); it != o.end()) s.restarted = detail::read_restart(it->value());
  s.last_error = get_str(o, "lastError");
  s.retry_count = get_int32(o, "retryCount");
  s.next_retry_time = get_time(o, "nextRetryTime");
  s.leader = get_str(o, "leader");
  s.updated_at = get_time(o, "updatedAt").value_or(TimePoint{});
  return s;
}

}  // namespace hmc::reconciler
