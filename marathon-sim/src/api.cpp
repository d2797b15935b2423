// The HTTP API: routing, request bodies, response bodies. Shapes follow
// Marathon's v2 API (docs/marathon-sim.md lists what is simulated).
#include "hmc/common/json_text.hpp"
#include "ids.hpp"
#include "simulator.hpp"
#include "validation.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace hmc::marathon_sim {

namespace {

struct Query {
  std::vector<std::pair<std::string, std::string>> params;
  bool has(std::string_view k) const {
    return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == k; });
  }
  std::string get(std::string_view k, std::string def = {}) const {
    for (const auto& p : params)
      if (p.first == k) return p.second;
    return def;
  }
  std::vector<std::string> all(std::string_view k) const {
    std::vector<std::string> out;
    for (const auto& p : params)
      if (p.first == k) {
        // Marathon also takes comma-separated values.
        std::string_view v = p.second;
        while (!v.empty()) {
          auto c = v.find(',');
          if (c != 0) out.emplace_back(v.substr(0, c));
          if (c == std::string_view::npos) break;
          v = v.substr(c + 1);
        }
      }
    return out;
  }
  bool flag(std::string_view k, bool def = false) const {
    if (!has(k)) return def;
    auto v = get(k);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v.empty() || v == "true" || v == "1";
  }
};

void append_str(std::string& out, std::string_view s) { json_text::append_string(out, s); }

void append_num(std::string& out, double d) {
  char buf[32];
  if (std::floor(d) == d && std::fabs(d) < 1e15) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
  else std::snprintf(buf, sizeof buf, "%.17g", d);
  out += buf;
}

Response change_result(int status, const std::string& deployment_id, const std::string& version) {
  Response r;
  r.status = status;
  std::string body = "{\"version\":";
  append_str(body, version);
  body += ",\"deploymentId\":";
  append_str(body, deployment_id);
  body += '}';
  r.body = std::move(body);
  r.headers.emplace_back("Marathon-Deployment-Id", deployment_id);
  return r;
}

std::string parent_id(const std::string& id) {
  const auto slash = id.rfind('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return id.substr(0, slash);
}

struct AppEmbed {
  bool counts = false, deployments = false, tasks = false, last_task_failure = false, readiness = false,
       task_stats = false;
  unsigned bits() const {
    return (counts ? 1u : 0u) | (deployments ? 2u : 0u) | (tasks ? 4u : 0u) | (last_task_failure ? 8u : 0u) |
           (readiness ? 16u : 0u) | (task_stats ? 32u : 0u);
  }
};

struct GroupEmbed {
  bool groups = false, apps = false, pods = false;
  AppEmbed app;
  // `groups` does not change a group's own part, only the size of the whole answer.
  unsigned bits() const {
    return app.bits() | (groups ? 64u : 0u) | (apps ? 128u : 0u) | (pods ? 256u : 0u);
  }
};

// The kept rendering for `embeds`, moved to the front (most recently used
// first); when none is kept, a new one not rendered yet in place of the least
// recently used.
template <class Rendering>
Rendering& kept_rendering(std::vector<Rendering>& kept, unsigned embeds) {
  auto it = std::find_if(kept.begin(), kept.end(), [&](const Rendering& r) { return r.embeds == embeds; });
  if (it == kept.end()) {
    if (kept.size() == kRenderingsKept) kept.pop_back();
    kept.emplace_back().embeds = embeds;
    it = kept.end() - 1;
  }
  std::rotate(kept.begin(), it, it + 1);
  return kept.front();
}

// A JSON array of a group's members, in the group's order; ids no longer in
// `all` are skipped. `write` appends one member to `out`.
template <class Ids, class Map, class Write>
void append_members(std::string& out, const Ids& ids, Map& all, Write write) {
  out += '[';
  bool first = true;
  for (const auto& id : ids) {
    auto it = all.find(id);
    if (it == all.end()) continue;
    if (!first) out += ',';
    first = false;
    write(it->second);
  }
  out += ']';
}

}  // namespace

Response json_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response message(int status, const std::string& msg) {
  return json_response(status, json::serialize(json::object{{"message", msg}}));
}

class Api {
 public:
  Api(Simulator& s, const Request& r) : s_(s), base_(r.host.empty() ? std::string{} : "http://" + r.host) {}

  Response route(const Request& r, const std::string& path, const Query& q);
  Response admin(const Request& r, const std::string& path, const Query& q);

 private:
  Response groups(const Request& r, const std::string& id, const Query& q);
  Response apps(const Request& r, const std::string& rest, const Query& q);
  Response deployments(const Request& r, const std::string& rest, const Query& q);
  Response queue(const Query& q);
  Response info();

  std::optional<json::value> parse_body(const Request& r, Response& error);
  bool read_group(const json::object& body, const std::string& group_id, const std::string& prefix,
                  Violations& out, ChangeSet& c);
  void remove_group_contents(const std::string& group_id, ChangeSet& c, bool remove_self);
  Response committed(std::variant<Simulator::Committed, Response> v, int status, bool dry_run,
                     const std::string& location = {});

  void deployment_index();
  void write_app(std::string& out, const App& app, const AppEmbed& e);
  void append_app(std::string& out, App& app, const AppEmbed& e);
  void write_task(std::string& out, const Task& t);
  void write_group(std::string& out, Group& g, const GroupEmbed& e);
  void write_deployment(std::string& out, const Deployment& d);
  void write_steps(std::string& out, const std::vector<std::vector<Action>>& steps);

  Simulator& s_;
  std::string base_;  // scheme and authority for Location headers
  std::unordered_map<std::string, std::vector<const std::string*>> deps_by_app_;
  bool deps_indexed_ = false;  // deps_by_app_ is built when an app rendering first needs it
};

// ---------- JSON writers ----------

void Api::deployment_index() {
  deps_by_app_.clear();
  for (const auto& d : s_.deployments_)
    for (const auto& a : d.affected_apps) deps_by_app_[a].push_back(&d.id);
  deps_indexed_ = true;
}

void Api::write_task(std::string& out, const Task& t) {
  out += "{\"appId\":";
  append_str(out, t.app_id);
  out += ",\"healthCheckResults\":[],\"host\":";
  append_str(out, t.host);
  out += ",\"id\":";
  append_str(out, t.id);
  out += ",\"ipAddresses\":[],\"ports\":[";
  for (std::size_t i = 0; i < t.ports.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(t.ports[i]);
  }
  out += "],\"servicePorts\":[],\"slaveId\":";
  append_str(out, t.agent_id);
  out += ",\"stagedAt\":";
  append_str(out, format_time(t.staged_at));
  if (t.started_at) {
    out += ",\"startedAt\":";
    append_str(out, format_time(*t.started_at));
  }
  out += ",\"state\":";
  out += t.state == TaskState::running ? "\"TASK_RUNNING\"" : "\"TASK_STAGING\"";
  out += ",\"version\":";
  append_str(out, t.version);
  out += ",\"localVolumes\":[],\"role\":\"*\"}";
}

void Api::write_app(std::string& out, const App& app, const AppEmbed& e) {
  out += app.json_cache;
  if (e.counts) {
    int staged = 0, running = 0;
    for (const auto& t : app.tasks) (t.state == TaskState::running ? running : staged)++;
    out += ",\"tasksStaged\":" + std::to_string(staged) + ",\"tasksRunning\":" + std::to_string(running) +
           ",\"tasksHealthy\":" + std::to_string(app.spec.has_health_checks ? running : 0) + ",\"tasksUnhealthy\":0";
  }
  if (e.deployments) {
    if (!deps_indexed_) deployment_index();
    out += ",\"deployments\":[";
    auto it = deps_by_app_.find(app.spec.id);
    if (it != deps_by_app_.end()) {
      for (std::size_t i = 0; i < it->second.size(); ++i) {
        if (i) out += ',';
        out += "{\"id\":";
        append_str(out, *it->second[i]);
        out += '}';
      }
    }
    out += ']';
  }
  if (e.tasks) {
    out += ",\"tasks\":[";
    for (std::size_t i = 0; i < app.tasks.size(); ++i) {
      if (i) out += ',';
      write_task(out, app.tasks[i]);
    }
    out += ']';
  }
  if (e.last_task_failure && !app.last_failure_json.empty()) {
    out += ",\"lastTaskFailure\":";
    out += app.last_failure_json;
  }
  if (e.readiness) out += ",\"readinessCheckResults\":[]";
  if (e.task_stats) {
    out += ",\"tasksStats\":";
    append_task_stats(out, app, s_.now());
  }
  out += '}';
}

// write_app, copied from the app's kept rendering while that is current.
void Api::append_app(std::string& out, App& app, const AppEmbed& e) {
  // Task lifetimes in tasksStats change with the clock alone: never kept.
  if (!s_.render_cache_ || e.task_stats) return write_app(out, app, e);
  auto& kept = kept_rendering(app.renderings, e.bits());
  if (!kept.json.empty() && kept.revision == app.revision) {
    out += kept.json;
    return;
  }
  const auto from = out.size();
  write_app(out, app, e);
  kept.revision = app.revision;
  kept.json.assign(out, from);
}

// The group's own part is copied from its kept rendering while that is
// current; subgroups are written in between, each the same way.
void Api::write_group(std::string& out, Group& g, const GroupEmbed& e) {
  const auto from = out.size();
  GroupRendering* kept = s_.render_cache_ && !e.app.task_stats ? &kept_rendering(g.renderings, e.bits()) : nullptr;
  const bool current = kept && !kept->head.empty() && kept->revision == g.revision;
  if (current) {
    out += kept->head;
  } else {
    out += "{\"id\":";
    append_str(out, g.id);
    if (e.apps) {
      out += ",\"apps\":";
      append_members(out, g.apps, s_.apps_, [&](App& app) { append_app(out, app, e.app); });
    }
    if (kept) kept->head.assign(out, from);
  }
  if (e.groups) {
    out += ",\"groups\":";
    append_members(out, g.groups, s_.groups_, [&](Group& sub) { write_group(out, sub, e); });
  }
  if (current) {
    out += kept->tail;
  } else {
    const auto tail_from = out.size();
    if (e.pods) out += ",\"pods\":[]";
    out += ",\"dependencies\":";
    if (g.dependencies.empty()) out += "[]";
    else out += json::serialize(g.dependencies);
    out += ",\"version\":";
    append_str(out, g.version);
    out += '}';
    if (kept) {
      kept->tail.assign(out, tail_from);
      kept->revision = g.revision;
    }
  }
  if (kept) kept->size = out.size() - from;
}

void Api::write_steps(std::string& out, const std::vector<std::vector<Action>>& steps) {
  out += '[';
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (i) out += ',';
    out += "{\"actions\":[";
    for (std::size_t j = 0; j < steps[i].size(); ++j) {
      if (j) out += ',';
      out += "{\"action\":";
      append_str(out, steps[i][j].action);
      out += ",\"app\":";
      append_str(out, steps[i][j].app);
      out += '}';
    }
    out += "]}";
  }
  out += ']';
}

void Api::write_deployment(std::string& out, const Deployment& d) {
  out += "{\"id\":";
  append_str(out, d.id);
  out += ",\"version\":";
  append_str(out, d.version);
  out += ",\"affectedApps\":[";
  for (std::size_t i = 0; i < d.affected_apps.size(); ++i) {
    if (i) out += ',';
    append_str(out, d.affected_apps[i]);
  }
  out += "],\"affectedPods\":[],\"steps\":";
  write_steps(out, d.steps);
  out += ",\"currentActions\":[";
  if (d.current < d.steps.size()) {
    const auto& step = d.steps[d.current];
    for (std::size_t j = 0; j < step.size(); ++j) {
      if (j) out += ',';
      out += "{\"action\":";
      append_str(out, step[j].action);
      out += ",\"app\":";
      append_str(out, step[j].app);
      out += ",\"readinessCheckResults\":[]}";
    }
  }
  out += "],\"currentStep\":" + std::to_string(std::min(d.current + 1, d.steps.size())) +
         ",\"totalSteps\":" + std::to_string(d.steps.size()) + '}';
}

// ---------- requests ----------

std::optional<json::value> Api::parse_body(const Request& r, Response& error) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec) {
    json::object o;
    o["message"] = "Invalid JSON";
    json::array details;
    details.push_back(json::object{{"path", "/"}, {"errors", json::array{json::string("Unexpected input: " + ec.message())}}});
    o["details"] = std::move(details);
    error = json_response(400, json::serialize(o));
    return std::nullopt;
  }
  return v;
}

void Api::remove_group_contents(const std::string& group_id, ChangeSet& c, bool remove_self) {
  std::vector<std::string> apps, groups;
  s_.collect_apps(group_id, apps);
  s_.collect_groups(group_id, groups);
  for (const auto& a : apps) c.apps[a] = std::nullopt;
  for (const auto& g : groups)
    if (g != group_id || remove_self) c.removed_groups.insert(g);
}

bool Api::read_group(const json::object& body, const std::string& group_id, const std::string& prefix,
                     Violations& out, ChangeSet& c) {
  const auto before = out.type_errors.size() + out.rules.size();
  auto typed = [&](const char* key, bool ok, const char* expected) {
    auto it = body.find(key);
    if (it == body.end() || it->value().is_null()) return false;
    if (!ok) {
      out.type(join_path(prefix, key), expected);
      return false;
    }
    return true;
  };
  const bool has_apps = body.contains("apps") && typed("apps", body.at("apps").is_array(), "error.expected.jsarray");
  const bool has_groups =
      body.contains("groups") && typed("groups", body.at("groups").is_array(), "error.expected.jsarray");
  const bool has_deps = body.contains("dependencies") &&
                        typed("dependencies", body.at("dependencies").is_array(), "error.expected.jsarray");
  auto existing = s_.groups_.find(group_id);
  if (has_apps) {
    std::set<std::string> given;
    std::size_t i = 0;
    for (const auto& a : body.at("apps").get_array()) {
      const auto p = prefix + "/apps(" + std::to_string(i++) + ")";
      auto spec = read_app(a, p, group_id, out, nullptr, s_.options_.features);
      if (!spec) continue;
      if (parent_id(spec->id) != group_id) {
        out.rule(p + "/id", "identifier is not child of '" + group_id + "'. Hint: use relative paths.");
        continue;
      }
      if (!given.insert(spec->id).second) {
        out.rule(join_path(prefix, "apps"), "Duplicate app ids: " + spec->id);
        continue;
      }
      if (s_.groups_.count(spec->id)) {
        out.rule(p + "/id", "An app with id [" + spec->id + "] conflicts with a group of the same id");
        continue;
      }
      c.apps[spec->id] = std::move(*spec);
    }
    if (existing != s_.groups_.end())
      for (const auto& a : existing->second.apps)
        if (!given.count(a)) c.apps[a] = std::nullopt;
  }
  if (has_groups) {
    std::set<std::string> given;
    std::size_t i = 0;
    for (const auto& g : body.at("groups").get_array()) {
      const auto p = prefix + "/groups(" + std::to_string(i++) + ")";
      if (!g.is_object()) {
        out.type(p, "error.expected.jsobject");
        continue;
      }
      const auto& go = g.get_object();
      auto idv = go.find("id");
      if (idv == go.end() || !idv->value().is_string()) {
        out.type(p + "/id", idv == go.end() ? "error.path.missing" : "error.expected.jsstring");
        continue;
      }
      std::string err;
      auto sub = resolve_id(idv->value().get_string(), group_id, &err);
      if (!sub) {
        out.rule(p + "/id", err);
        continue;
      }
      if (parent_id(*sub) != group_id || *sub == "/") {
        out.rule(p + "/id", "identifier is not child of '" + group_id + "'. Hint: use relative paths.");
        continue;
      }
      if (!given.insert(*sub).second) {
        out.rule(join_path(prefix, "groups"), "Duplicate group ids: " + *sub);
        continue;
      }
      read_group(go, *sub, p, out, c);
    }
    if (existing != s_.groups_.end())
      for (const auto& sub : existing->second.groups)
        if (!given.count(sub)) remove_group_contents(sub, c, true);
  }
  if (has_deps) {
    json::array deps;
    std::size_t i = 0;
    for (const auto& d : body.at("dependencies").get_array()) {
      const auto p = join_path(prefix, "dependencies(" + std::to_string(i++) + ")");
      if (!d.is_string()) {
        out.type(p, "error.expected.jsstring");
        continue;
      }
      std::string err;
      auto id = resolve_id(d.get_string(), group_id, &err);
      if (!id) out.rule(p, err);
      else deps.push_back(json::string(*id));
    }
    c.group_dependencies[group_id] = std::move(deps);
  }
  if (existing == s_.groups_.end()) c.new_groups.insert(group_id);
  return out.type_errors.size() + out.rules.size() == before;
}

Response Api::committed(std::variant<Simulator::Committed, Response> v, int status, bool dry_run,
                        const std::string& location) {
  if (auto* err = std::get_if<Response>(&v)) return std::move(*err);
  auto& c = std::get<Simulator::Committed>(v);
  if (dry_run) {
    std::string body = "{\"steps\":";
    write_steps(body, c.steps);
    body += '}';
    return json_response(200, std::move(body));
  }
  auto r = change_result(status, c.deployment_id, c.version);
  if (!location.empty()) r.headers.emplace_back("Location", base_ + location);
  return r;
}

Response Api::groups(const Request& r, const std::string& raw_id, const Query& q) {
  std::string err;
  auto resolved = resolve_id(raw_id, "/", &err);
  if (!resolved) return message(404, "Group '" + raw_id + "' does not exist");
  std::string id = *resolved;
  const bool force = q.flag("force");

  if (r.method == "GET") {
    bool versions = false;
    if (id.size() >= 9 && id.ends_with("/versions")) {
      versions = true;
      id = parent_id(id);
    }
    auto it = s_.groups_.find(id);
    if (it == s_.groups_.end()) return message(404, "Group '" + id + "' does not exist");
    if (versions) {
      json::array vs;
      auto h = s_.group_history_.find(id);
      if (h != s_.group_history_.end())
        for (auto v = h->second.rbegin(); v != h->second.rend(); ++v) vs.push_back(json::string(v->first));
      if (vs.empty()) vs.push_back(json::string(it->second.version));
      return json_response(200, json::serialize(vs));
    }
    GroupEmbed e;
    const auto embeds = q.all("embed");
    if (embeds.empty()) {
      e.groups = e.apps = e.pods = true;
    } else {
      for (const auto& x : embeds) {
        if (x == "group.groups") e.groups = true;
        else if (x == "group.apps") e.apps = true;
        else if (x == "group.pods") e.pods = true;
        else if (x == "group.apps.counts") e.app.counts = true;
        else if (x == "group.apps.deployments") e.app.deployments = true;
        else if (x == "group.apps.tasks") e.app.tasks = true;
        else if (x == "group.apps.lastTaskFailure") e.app.last_task_failure = true;
        else if (x == "group.apps.readiness") e.app.readiness = true;
        else if (x == "group.apps.taskStats") e.app.task_stats = true;
      }
    }
    // The size of the last such answer, when known, saves growing the answer while it is written.
    std::size_t expected = s_.apps_.size() * 1024 + 256;
    for (const auto& kept : it->second.renderings)
      if (kept.embeds == e.bits() && kept.size > 0) expected = kept.size + kept.size / 16 + 4096;
    std::string out;
    out.reserve(expected);
    write_group(out, it->second, e);
    return json_response(200, std::move(out));
  }

  if (r.method == "DELETE") {
    if (!s_.groups_.count(id)) return message(404, "Group '" + id + "' does not exist");
    ChangeSet c;
    remove_group_contents(id, c, id != "/");
    c.snapshot_group = parent_id(id);
    return committed(s_.commit(std::move(c), force, false), 200, false);
  }

  if (r.method != "POST" && r.method != "PUT") return message(405, "HTTP 405 Method Not Allowed");
  Response error;
  auto body = parse_body(r, error);
  if (!body) return error;
  if (!body->is_object()) {
    Violations v;
    v.type("/", "error.expected.jsobject");
    return json_response(422, v.body());
  }
  const auto& obj = body->get_object();
  Violations v;

  if (r.method == "POST") {
    auto idv = obj.find("id");
    if (idv == obj.end() || !idv->value().is_string()) {
      v.type("/id", idv == obj.end() ? "error.path.missing" : "error.expected.jsstring");
      return json_response(422, v.body());
    }
    auto target = resolve_id(idv->value().get_string(), id, &err);
    if (!target) {
      v.rule("/id", err);
      return json_response(422, v.body());
    }
    if (s_.groups_.count(*target))
      return message(409, "Group " + *target + " is already created. Use PUT to change this group.");
    if (s_.apps_.count(*target))
      return message(409, "An app with id [" + *target + "] already exists.");
    ChangeSet c;
    c.snapshot_group = *target;
    if (!read_group(obj, *target, "", v, c) || !v.empty()) return json_response(422, v.body());
    return committed(s_.commit(std::move(c), force, false), 201, false, "/v2/groups" + *target);
  }

  // PUT: rollback, scale or structural update.
  const bool dry_run = q.flag("dryRun");
  const bool has_version = obj.contains("version");
  const bool has_scale = obj.contains("scaleBy");
  const bool structural = obj.contains("apps") || obj.contains("groups") || obj.contains("dependencies");
  if (has_version && (has_scale || structural)) {
    v.rule("/version", "not allowed in conjunction with other properties.");
    return json_response(422, v.body());
  }
  if (has_scale && structural) {
    v.rule("/scaleBy", "not allowed in conjunction with other properties.");
    return json_response(422, v.body());
  }
  ChangeSet c;
  c.snapshot_group = id;
  if (has_version) {
    const auto& vv = obj.at("version");
    if (!vv.is_string()) {
      v.type("/version", "error.expected.jsstring");
      return json_response(422, v.body());
    }
    auto h = s_.group_history_.find(id);
    const std::string version(vv.get_string());
    if (h == s_.group_history_.end() || !h->second.count(version))
      return message(404, "Group '" + id + "' in version '" + version + "' does not exist");
    const auto snapshot = h->second.at(version);
    if (!read_group(snapshot.get_object(), id, "", v, c)) return json_response(422, v.body());
    return committed(s_.commit(std::move(c), force, dry_run), 200, dry_run);
  }
  if (has_scale) {
    const auto& sv = obj.at("scaleBy");
    if (!sv.is_number()) {
      v.type("/scaleBy", "error.expected.jsnumber");
      return json_response(422, v.body());
    }
    const double factor = sv.to_number<double>();
    if (factor < 0) {
      v.rule("/scaleBy", "got " + std::to_string(factor) + ", expected 0.0 or more");
      return json_response(422, v.body());
    }
    if (!s_.groups_.count(id)) return message(404, "Group '" + id + "' does not exist");
    std::vector<std::string> apps;
    s_.collect_apps(id, apps);
    for (const auto& a : apps) {
      AppSpec spec = s_.apps_.at(a).spec;
      spec.instances = static_cast<int>(std::ceil(spec.instances * factor - 1e-9));
      spec.definition["instances"] = spec.instances;
      c.apps[a] = std::move(spec);
    }
    return committed(s_.commit(std::move(c), force, dry_run), 200, dry_run);
  }
  if (id == "/" && obj.contains("id") && obj.at("id").is_string()) {
    // PUT /v2/groups with an id in the body updates that group.
    auto target = resolve_id(obj.at("id").get_string(), "/", &err);
    if (!target) {
      v.rule("/id", err);
      return json_response(422, v.body());
    }
    id = *target;
    c.snapshot_group = id;
  }
  if (s_.apps_.count(id)) {
    v.rule("/id", "An app with id [" + id + "] already exists.");
    return json_response(422, v.body());
  }
  if (!read_group(obj, id, "", v, c) || !v.empty()) return json_response(422, v.body());
  return committed(s_.commit(std::move(c), force, dry_run), 200, dry_run);
}

Response Api::apps(const Request& r, const std::string& rest, const Query& q) {
  // rest: "" or "/<id>[/restart|/tasks|/versions[/<v>]]"
  std::string id = rest;
  std::string suffix;
  for (const char* s : {"/restart", "/tasks", "/versions"}) {
    auto pos = id.rfind(s);
    if (pos != std::string::npos && pos > 0 &&
        (id.size() == pos + std::strlen(s) || (std::string_view(s) == "/versions" && id[pos + std::strlen(s)] == '/'))) {
      suffix = id.substr(pos + 1);
      id = id.substr(0, pos);
      break;
    }
  }
  std::string err;
  if (!id.empty()) {
    auto resolved = resolve_id(id, "/", &err);
    if (!resolved) return message(404, "App '" + id + "' does not exist");
    id = *resolved;
  }
  const bool force = q.flag("force");
  AppEmbed e;
  for (const auto& x : q.all("embed")) {
    if (x == "apps.counts" || x == "app.counts") e.counts = true;
    else if (x == "apps.deployments" || x == "app.deployments") e.deployments = true;
    else if (x == "apps.tasks" || x == "app.tasks") e.tasks = true;
    else if (x == "apps.lastTaskFailure" || x == "app.lastTaskFailure") e.last_task_failure = true;
    else if (x == "apps.readiness" || x == "app.readiness") e.readiness = true;
    else if (x == "apps.taskStats" || x == "app.taskStats") e.task_stats = true;
  }

  if (r.method == "GET") {
    if (id.empty()) {
      // Counts and deployments are always present in the list.
      e.counts = e.deployments = true;
      const auto filter_id = q.get("id");
      const auto filter_cmd = q.get("cmd");
      const auto label = q.get("label");
      std::vector<App*> list;
      for (auto& [aid, app] : s_.apps_) {
        if (!filter_id.empty() && aid.find(filter_id) == std::string::npos) continue;
        if (!filter_cmd.empty()) {
          auto c = app.spec.definition.find("cmd");
          if (c == app.spec.definition.end() || !c->value().is_string() ||
              std::string_view(c->value().get_string()).find(filter_cmd) == std::string_view::npos)
            continue;
        }
        if (!label.empty()) {
          const auto* labels = app.spec.definition.if_contains("labels");
          auto eq = label.find("==");
          const std::string key = label.substr(0, eq);
          if (!labels || !labels->is_object() || !labels->get_object().contains(key)) continue;
          if (eq != std::string::npos) {
            const auto& lv = labels->get_object().at(key);
            if (!lv.is_string() || lv.get_string() != label.substr(eq + 2)) continue;
          }
        }
        list.push_back(&app);
      }
      std::sort(list.begin(), list.end(), [](const App* a, const App* b) { return a->spec.id < b->spec.id; });
      std::string out = "{\"apps\":[";
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (i) out += ',';
        append_app(out, *list[i], e);
      }
      out += "]}";
      return json_response(200, std::move(out));
    }
    auto it = s_.apps_.find(id);
    if (it == s_.apps_.end()) return message(404, "App '" + id + "' does not exist");
    const auto& app = it->second;
    if (suffix == "tasks") {
      std::string out = "{\"tasks\":[";
      for (std::size_t i = 0; i < app.tasks.size(); ++i) {
        if (i) out += ',';
        write_task(out, app.tasks[i]);
      }
      out += "]}";
      return json_response(200, std::move(out));
    }
    if (suffix == "versions") {
      json::array vs;
      auto h = s_.app_history_.find(id);
      if (h != s_.app_history_.end())
        for (auto v = h->second.rbegin(); v != h->second.rend(); ++v) vs.push_back(json::string(v->first));
      return json_response(200, json::serialize(json::object{{"versions", vs}}));
    }
    if (suffix.starts_with("versions/")) {
      const auto version = suffix.substr(9);
      auto h = s_.app_history_.find(id);
      if (h == s_.app_history_.end() || !h->second.count(version))
        return message(404, "App '" + id + "' does not exist in version " + version);
      json::object def = h->second.at(version).definition;
      def["version"] = version;
      return json_response(200, json::serialize(def));
    }
    e.counts = e.deployments = e.tasks = e.last_task_failure = true;
    std::string out = "{\"app\":";
    write_app(out, app, e);
    out += '}';
    return json_response(200, std::move(out));
  }

  if (r.method == "DELETE") {
    if (id.empty()) return message(405, "HTTP 405 Method Not Allowed");
    if (!s_.apps_.count(id)) return message(404, "App '" + id + "' does not exist");
    ChangeSet c;
    c.apps[id] = std::nullopt;
    c.snapshot_group = parent_id(id);
    return committed(s_.commit(std::move(c), q.flag("force", true), false), 200, false);
  }

  if (r.method == "POST" && suffix == "restart") {
    auto it = s_.apps_.find(id);
    if (it == s_.apps_.end()) return message(404, "App '" + id + "' does not exist");
    ChangeSet c;
    c.apps[id] = it->second.spec;
    c.restart_apps.insert(id);
    return committed(s_.commit(std::move(c), force, false), 200, false);
  }

  Response error;
  auto body = parse_body(r, error);
  if (!body) return error;
  Violations v;

  if (r.method == "POST" && id.empty()) {
    auto spec = read_app(*body, "", "/", v, nullptr, s_.options_.features);
    if (!spec) return json_response(422, v.body());
    if (s_.apps_.count(spec->id)) return message(409, "An app with id [" + spec->id + "] already exists.");
    if (s_.groups_.count(spec->id)) return message(409, "A group with id [" + spec->id + "] already exists.");
    const auto new_id = spec->id;
    ChangeSet c;
    c.apps[new_id] = std::move(*spec);
    c.snapshot_group = parent_id(new_id);
    auto result = s_.commit(std::move(c), force, false);
    if (auto* err2 = std::get_if<Response>(&result)) return std::move(*err2);
    const auto& done = std::get<Simulator::Committed>(result);
    deployment_index();
    Response out;
    out.status = 201;
    e.counts = e.deployments = e.tasks = true;
    write_app(out.body, s_.apps_.at(new_id), e);
    out.headers.emplace_back("Location", base_ + "/v2/apps" + new_id);
    out.headers.emplace_back("Marathon-Deployment-Id", done.deployment_id);
    return out;
  }

  if ((r.method == "PUT" || r.method == "PATCH") && id.empty()) {
    // Bulk update: an array of (partial) app definitions.
    if (!body->is_array()) {
      v.type("/", "error.expected.jsarray");
      return json_response(422, v.body());
    }
    ChangeSet c;
    std::size_t i = 0;
    for (const auto& a : body->get_array()) {
      const auto p = "/(" + std::to_string(i++) + ")";
      const AppSpec* current = nullptr;
      if (a.is_object() && a.get_object().contains("id") && a.get_object().at("id").is_string()) {
        auto aid = resolve_id(a.get_object().at("id").get_string(), "/", nullptr);
        if (aid) {
          auto it = s_.apps_.find(*aid);
          if (it != s_.apps_.end()) current = &it->second.spec;
        }
      }
      auto spec = read_app(a, p, "/", v, current, s_.options_.features);
      if (spec) c.apps[spec->id] = std::move(*spec);
    }
    if (!v.empty()) return json_response(422, v.body());
    return committed(s_.commit(std::move(c), force, false), 200, false);
  }

  if ((r.method == "PUT" || r.method == "PATCH") && suffix.empty()) {
    if (!body->is_object()) {
      v.type("/", "error.expected.jsobject");
      return json_response(422, v.body());
    }
    auto it = s_.apps_.find(id);
    const auto& obj = body->get_object();
    if (obj.contains("version") && obj.at("version").is_string()) {
      // Rollback to an earlier version of the app.
      const std::string version(obj.at("version").get_string());
      if (it == s_.apps_.end()) return message(404, "App '" + id + "' does not exist");
      auto h = s_.app_history_.find(id);
      if (h == s_.app_history_.end() || !h->second.count(version))
        return message(404, "App '" + id + "' does not exist in version " + version);
      ChangeSet c;
      c.apps[id] = h->second.at(version);
      return committed(s_.commit(std::move(c), force, false), 200, false);
    }
    json::object with_id = obj;
    with_id["id"] = id;
    const bool partial = q.flag("partialUpdate", true) || r.method == "PATCH";
    auto spec = read_app(with_id, "", "/", v, it != s_.apps_.end() && partial ? &it->second.spec : nullptr,
                         s_.options_.features);
    if (!spec) return json_response(422, v.body());
    const bool created = it == s_.apps_.end();
    if (created && s_.groups_.count(id)) return message(409, "A group with id [" + id + "] already exists.");
    ChangeSet c;
    c.apps[id] = std::move(*spec);
    c.snapshot_group = parent_id(id);
    return committed(s_.commit(std::move(c), force, false), created ? 201 : 200, false,
                     created ? "/v2/apps" + id : std::string{});
  }
  return message(405, "HTTP 405 Method Not Allowed");
}

Response Api::deployments(const Request& r, const std::string& rest, const Query& q) {
  if (r.method == "GET" && rest.empty()) {
    std::string out = "[";
    for (std::size_t i = 0; i < s_.deployments_.size(); ++i) {
      if (i) out += ',';
      write_deployment(out, s_.deployments_[i]);
    }
    out += ']';
    return json_response(200, std::move(out));
  }
  const auto id = rest.size() > 1 ? rest.substr(1) : std::string{};
  std::size_t index = s_.deployments_.size();
  for (std::size_t i = 0; i < s_.deployments_.size(); ++i)
    if (s_.deployments_[i].id == id) index = i;
  if (r.method == "GET") {
    if (index == s_.deployments_.size()) return message(404, "DeploymentPlan " + id + " does not exist");
    std::string out;
    write_deployment(out, s_.deployments_[index]);
    return json_response(200, std::move(out));
  }
  if (r.method != "DELETE") return message(405, "HTTP 405 Method Not Allowed");
  if (index == s_.deployments_.size()) return message(404, "DeploymentPlan " + id + " does not exist");
  if (q.flag("force")) {
    s_.cancel_deployment(index, true);
    Response out;
    out.status = 202;
    out.body.clear();
    return out;
  }
  // Roll back: a new deployment that restores the apps as they were before.
  ChangeSet c;
  for (const auto& [app, spec] : s_.deployments_[index].before) c.apps[app] = spec;
  s_.cancel_deployment(index, true);
  auto result = s_.commit(std::move(c), true, false);
  if (auto* err = std::get_if<Response>(&result)) return std::move(*err);
  const auto& done = std::get<Simulator::Committed>(result);
  Response out = json_response(200, json::serialize(json::object{{"deploymentId", done.deployment_id}, {"version", done.version}}));
  out.headers.emplace_back("Marathon-Deployment-Id", done.deployment_id);
  return out;
}

Response Api::queue(const Query& q) {
  bool last_unused = false;
  for (const auto& x : q.all("embed"))
    if (x == "lastUnusedOffers") last_unused = true;
  const auto now = s_.clock_->now();
  // Only an unsettled app can have instances to launch; they come in id order.
  std::vector<App*> list;
  for (App* app : s_.unsettled_apps())
    if (app->tasks.size() < static_cast<std::size_t>(app->spec.instances)) list.push_back(app);
  std::string out = "{\"queue\":[";
  AppEmbed none;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const App& app = *list[i];
    if (i) out += ',';
    out += "{\"app\":";
    write_app(out, app, none);
    out += ",\"count\":" + std::to_string(app.spec.instances - static_cast<int>(app.tasks.size()));
    // As QueueResource: timeLeftSeconds = max(0, whole seconds to the
    // deadline), overdue once it passed; without a delay the app is overdue.
    long long time_left = 0;
    bool overdue = true;
    if (const auto* delay = s_.launch_delay(*list[i])) {
      const auto left = delay->deadline - now;
      time_left = std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(left).count());
      overdue = left < TimePoint::duration::zero();
    }
    out += ",\"role\":\"*\",\"delay\":{\"timeLeftSeconds\":" + std::to_string(time_left) +
           ",\"overdue\":" + (overdue ? "true" : "false") + "},\"since\":";
    LaunchAttempt empty;
    empty.since = now;
    const LaunchAttempt& l = app.launch ? *app.launch : empty;
    append_str(out, format_time(l.since));
    out += ",\"processedOffersSummary\":{\"processedOffersCount\":" + std::to_string(l.processed) +
           ",\"unusedOffersCount\":" + std::to_string(l.unused);
    if (l.last_unused_at) {
      out += ",\"lastUnusedOfferAt\":";
      append_str(out, format_time(*l.last_unused_at));
    }
    if (l.last_used_at) {
      out += ",\"lastUsedOfferAt\":";
      append_str(out, format_time(*l.last_used_at));
    }
    auto funnel = [&](const std::array<long, kReasonCount>& declined, long processed) {
      out += '[';
      for (int r = 0; r < kReasonCount; ++r) {
        if (r) out += ',';
        out += "{\"reason\":\"";
        out += reason_name(static_cast<Reason>(r));
        out += "\",\"declined\":" + std::to_string(declined[r]) + ",\"processed\":" + std::to_string(processed) + '}';
        processed -= declined[r];
      }
      out += ']';
    };
    std::array<long, kReasonCount> last{};
    for (const auto& [agent, offer] : l.last_by_agent) ++last[static_cast<int>(offer.reasons.front())];
    out += ",\"rejectSummaryLastOffers\":";
    funnel(last, static_cast<long>(l.last_by_agent.size()));
    out += ",\"rejectSummaryLaunchAttempt\":";
    funnel(l.first_reason, l.processed);
    out += '}';
    if (last_unused) {
      out += ",\"lastUnusedOffers\":[";
      bool first = true;
      for (const auto& [agent, o] : l.last_by_agent) {
        if (!first) out += ',';
        first = false;
        out += "{\"offer\":{\"id\":";
        append_str(out, o.offer_id);
        out += ",\"agentId\":";
        append_str(out, o.agent_id);
        out += ",\"hostname\":";
        append_str(out, o.hostname);
        out += ",\"resources\":[";
        auto scalar = [&](const char* name, double v, bool comma) {
          if (comma) out += ',';
          out += "{\"name\":\"";
          out += name;
          out += "\",\"role\":";
          append_str(out, o.role);
          out += ",\"scalar\":";
          append_num(out, v);
          out += '}';
        };
        scalar("cpus", o.cpus, false);
        scalar("mem", o.mem, true);
        scalar("disk", o.disk, true);
        if (o.gpus > 0) scalar("gpus", o.gpus, true);
        out += ",{\"name\":\"ports\",\"role\":";
        append_str(out, o.role);
        out += ",\"ranges\":[";
        for (std::size_t k = 0; k < o.ports.size(); ++k) {
          if (k) out += ',';
          out += "{\"begin\":" + std::to_string(o.ports[k].begin) + ",\"end\":" + std::to_string(o.ports[k].end) + '}';
        }
        out += "]}],\"attributes\":[";
        const auto& attrs = s_.agents_.count(o.agent_id) ? s_.agents_.at(o.agent_id).spec.attributes
                                                          : std::map<std::string, std::string>{};
        bool afirst = true;
        for (const auto& [k, v] : attrs) {
          if (!afirst) out += ',';
          afirst = false;
          out += "{\"name\":";
          append_str(out, k);
          out += ",\"text\":";
          append_str(out, v);
          out += '}';
        }
        out += "]},\"timestamp\":";
        append_str(out, format_time(o.at));
        out += ",\"reason\":[";
        for (std::size_t k = 0; k < o.reasons.size(); ++k) {
          if (k) out += ',';
          out += '"';
          out += reason_name(o.reasons[k]);
          out += '"';
        }
        out += "]}";
      }
      out += ']';
    }
    out += '}';
  }
  out += "]}";
  return json_response(200, std::move(out));
}

Response Api::info() {
  json::object o;
  o["name"] = "marathon";
  o["version"] = "1.10.17";
  o["buildref"] = "marathon-sim";
  o["elected"] = true;
  o["leader"] = s_.leader_;
  o["frameworkId"] = s_.framework_id_;
  json::object mc;
  mc["checkpoint"] = true;
  mc["decline_offer_duration"] = 120000;
  mc["default_network_name"] = "dcos";
  mc["env_vars_prefix"] = "";
  mc["executor"] = "//cmd";
  mc["failover_timeout"] = 604800;
  mc["features"] = json::array{};
  mc["framework_name"] = "marathon";
  mc["ha"] = true;
  mc["hostname"] = "127.0.0.1";
  mc["launch_token"] = 100;
  mc["launch_token_refresh_interval"] = 30000;
  mc["leader_proxy_connection_timeout_ms"] = 5000;
  mc["leader_proxy_read_timeout_ms"] = 10000;
  mc["local_port_max"] = 20000;
  mc["local_port_min"] = 10000;
  mc["master"] = "zk://127.0.0.1:2181/mesos";
  mc["max_instances_per_offer"] = 5;
  mc["mesos_bridge_name"] = "mesos-bridge";
  mc["mesos_heartbeat_failure_threshold"] = 5;
  mc["mesos_heartbeat_interval"] = 15000;
  mc["mesos_leader_ui_url"] = "http://127.0.0.1:5050/";
  mc["mesos_role"] = "*";
  mc["mesos_user"] = "root";
  mc["min_revive_offers_interval"] = 5000;
  mc["offer_matching_timeout"] = 3000;
  mc["on_elected_prepare_timeout"] = 180000;
  mc["reconciliation_initial_delay"] = 15000;
  mc["reconciliation_interval"] = 600000;
  mc["scale_apps_initial_delay"] = 15000;
  mc["scale_apps_interval"] = 300000;
  mc["store_cache"] = true;
  mc["task_launch_confirm_timeout"] = 300000;
  mc["task_launch_timeout"] = 300000;
  mc["task_lost_expunge_initial_delay"] = 300000;
  mc["task_lost_expunge_interval"] = 30000;
  mc["task_reservation_timeout"] = 20000;
  mc["webui_url"] = "http://" + s_.leader_;
  mc["access_control_allow_origin"] = json::array{};
  o["marathon_config"] = std::move(mc);
  json::object zk;
  zk["zk"] = "zk://127.0.0.1:2181/marathon";
  zk["zk_compression"] = true;
  zk["zk_compression_threshold"] = 65536;
  zk["zk_connection_timeout"] = 10000;
  zk["zk_max_node_size"] = 1024000;
  zk["zk_max_versions"] = 50;
  zk["zk_session_timeout"] = 10000;
  zk["zk_timeout"] = 10000;
  o["zookeeper_config"] = std::move(zk);
  o["http_config"] = json::object{{"http_port", 8080}, {"https_port", 8443}};
  return json_response(200, json::serialize(o));
}

Response Api::route(const Request& r, const std::string& path, const Query& q) {
  if (path == "/ping") {
    Response out;
    out.body = "pong";
    out.content_type = "text/plain; charset=utf-8";
    return out;
  }
  if (path == "/v2/info") return r.method == "GET" ? info() : message(405, "HTTP 405 Method Not Allowed");
  if (path == "/v2/leader") return json_response(200, json::serialize(json::object{{"leader", s_.leader_}}));
  if (path == "/v2/groups" || path.starts_with("/v2/groups/"))
    return groups(r, path.size() > 10 ? path.substr(10) : "/", q);
  if (path == "/v2/apps" || path.starts_with("/v2/apps/")) return apps(r, path.substr(8), q);
  if (path == "/v2/deployments" || path.starts_with("/v2/deployments/")) return deployments(r, path.substr(15), q);
  if (path == "/v2/queue" && r.method == "GET") return queue(q);
  if (path.starts_with("/v2/queue/") && path.ends_with("/delay") && r.method == "DELETE") {
    std::string err;
    const auto raw = path.substr(9, path.size() - 9 - 6);
    auto id = resolve_id(raw, "/", &err);
    auto it = id ? s_.apps_.find(*id) : s_.apps_.end();
    // As Marathon's QueueResource.resetDelay: 404 unless the app has
    // instances scheduled to launch, i.e. it is one GET /v2/queue lists.
    const bool queued = it != s_.apps_.end() && s_.unsettled().count(it->first) &&
                        it->second.tasks.size() < static_cast<std::size_t>(it->second.spec.instances);
    if (!queued) return message(404, "Application " + (id ? *id : raw) + " not found in tasks queue.");
    it->second.delay.reset();  // the launch backoff of its config version, as LaunchQueue.resetDelay
    Response out;
    out.status = 204;
    return out;
  }
  if (path == "/v2/tasks" && r.method == "GET") {
    std::vector<const App*> list;
    for (const auto& [id, app] : s_.apps_) list.push_back(&app);
    std::sort(list.begin(), list.end(), [](const App* a, const App* b) { return a->spec.id < b->spec.id; });
    std::string out = "{\"tasks\":[";
    bool first = true;
    for (const auto* app : list) {
      for (const auto& t : app->tasks) {
        if (!first) out += ',';
        first = false;
        write_task(out, t);
      }
    }
    out += "]}";
    return json_response(200, std::move(out));
  }
  if (path == "/v2/events" && r.method == "GET") {
    Response out;
    out.event_stream = true;
    out.content_type = "text/event-stream";
    out.event_types = q.all("event_type");
    return out;
  }
  if (path == "/v2/pods" || path.starts_with("/v2/pods/")) {
    if (r.method == "GET" && path == "/v2/pods") return json_response(200, "[]");
    return message(501, "Pods are not simulated by marathon-sim");
  }
  return message(404, "HTTP 404 Not Found");
}

// ---------- admin endpoints ----------

namespace {

json::object agent_json(const Agent& a) {
  json::object o;
  o["id"] = a.spec.id;
  o["hostname"] = a.spec.hostname;
  o["cpus"] = a.spec.cpus;
  o["mem"] = a.spec.mem;
  o["disk"] = a.spec.disk;
  o["gpus"] = a.spec.gpus;
  json::array ports;
  for (const auto& r : a.spec.ports) ports.push_back(json::string(std::to_string(r.begin) + "-" + std::to_string(r.end)));
  o["ports"] = std::move(ports);
  o["role"] = a.spec.role;
  o["maintenance"] = a.spec.maintenance;
  json::object attrs;
  for (const auto& [k, v] : a.spec.attributes) attrs[k] = v;
  o["attributes"] = std::move(attrs);
  o["used"] = json::object{{"cpus", a.used_cpus},
                           {"mem", a.used_mem},
                           {"disk", a.used_disk},
                           {"gpus", a.used_gpus},
                           {"ports", a.used_ports.size()}};
  return o;
}

std::string ms_string(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

json::object faults_json(const Faults& f) {
  return json::object{{"latency", ms_string(f.latency)},
                      {"errorRate", f.error_rate},
                      {"errorStatus", f.error_status},
                      {"resetRate", f.reset_rate},
                      {"lockHold", ms_string(f.lock_hold)},
                      {"freezeOffers", f.freeze_offers}};
}

}  // namespace

Response Api::admin(const Request& r, const std::string& path, const Query& q) {
  auto bad = [](const std::string& msg) { return message(400, msg); };
  if (path == "/_sim/requests") {
    if (r.method == "DELETE") {
      s_.request_log_.clear();
      return json_response(200, "{}");
    }
    std::uint64_t since = 0;
    if (q.has("since")) since = std::strtoull(q.get("since").c_str(), nullptr, 10);
    std::string out = "{\"requests\":[";
    bool first = true;
    for (const auto& rec : s_.request_log_) {
      if (rec.seq <= since) continue;
      if (!first) out += ',';
      first = false;
      out += "{\"seq\":" + std::to_string(rec.seq) + ",\"method\":";
      append_str(out, rec.method);
      out += ",\"path\":";
      append_str(out, rec.target);
      out += ",\"status\":" + std::to_string(rec.status) + ",\"userAgent\":";
      append_str(out, rec.user_agent);
      out += ",\"at\":";
      append_str(out, format_time(rec.at));
      out += '}';
    }
    out += "]}";
    return json_response(200, std::move(out));
  }
  if (path == "/_sim/agents" && r.method == "GET") {
    json::array list;
    for (const auto& [id, a] : s_.agents_) list.push_back(agent_json(a));
    return json_response(200, json::serialize(json::object{{"agents", list}}));
  }
  if (path == "/_sim/agents" && r.method == "POST") {
    AgentSpec spec;
    try {
      if (r.body.empty() || r.body.front() != '{') {
        spec = parse_agent_spec(r.body);
      } else {
        boost::system::error_code ec;
        auto v = json::parse(r.body, ec);
        if (ec || !v.is_object()) return bad("agent: body is not a JSON object");
        std::string text;
        for (const auto& kv : v.get_object()) {
          std::string val;
          if (kv.key() == "attributes" && kv.value().is_object()) {
            for (const auto& at : kv.value().get_object())
              if (at.value().is_string())
                text += "attr." + std::string(at.key()) + "=" + std::string(at.value().get_string()) + ",";
            continue;
          }
          if (kv.key() == "ports" && kv.value().is_array()) {
            for (const auto& p : kv.value().get_array())
              if (p.is_string()) val += (val.empty() ? "" : ";") + std::string(p.get_string());
          } else if (kv.value().is_string()) {
            val = kv.value().get_string();
          } else if (kv.value().is_bool()) {
            val = kv.value().get_bool() ? "true" : "false";
          } else if (kv.value().is_number()) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.17g", kv.value().to_number<double>());
            val = buf;
          } else {
            return bad("agent: '" + std::string(kv.key()) + "' has an unsupported type");
          }
          text += std::string(kv.key()) + "=" + val + ",";
        }
        spec = parse_agent_spec(text);
      }
    } catch (const std::exception& e) {
      return bad(e.what());
    }
    if (!spec.id.empty() && s_.agents_.count(spec.id)) return message(409, "agent " + spec.id + " exists");
    const auto id = s_.add_agent(spec);
    return json_response(201, json::serialize(agent_json(s_.agents_.at(id))));
  }
  if (path.starts_with("/_sim/agents/") && r.method == "DELETE") {
    const auto id = path.substr(13);
    if (!s_.remove_agent(id)) return message(404, "agent " + id + " does not exist");
    return json_response(200, "{}");
  }
  if (path == "/_sim/faults") {
    if (r.method == "GET") return json_response(200, json::serialize(faults_json(s_.options_.faults)));
    if (r.method != "PUT" && r.method != "POST") return message(405, "HTTP 405 Method Not Allowed");
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_object()) return bad("faults: body is not a JSON object");
    Faults f = s_.options_.faults;
    for (const auto& kv : v.get_object()) {
      const std::string key(kv.key());
      const auto& val = kv.value();
      auto dur = [&](std::chrono::milliseconds& out) -> bool {
        if (val.is_number()) {
          out = std::chrono::milliseconds{static_cast<long long>(val.to_number<double>())};
          return true;
        }
        if (!val.is_string()) return false;
        auto d = parse_duration(val.get_string(), nullptr);
        if (!d) return false;
        out = *d;
        return true;
      };
      auto rate = [&](double& out) -> bool {
        if (!val.is_number()) return false;
        out = val.to_number<double>();
        return out >= 0 && out <= 1;
      };
      bool ok;
      if (key == "latency") ok = dur(f.latency);
      else if (key == "lockHold") ok = dur(f.lock_hold);
      else if (key == "errorRate") ok = rate(f.error_rate);
      else if (key == "resetRate") ok = rate(f.reset_rate);
      else if (key == "errorStatus")
        ok = val.is_number() && (f.error_status = val.to_number<int>(), f.error_status >= 500 && f.error_status <= 599);
      else if (key == "freezeOffers") ok = val.is_bool() && (f.freeze_offers = val.get_bool(), true);
      else return bad("faults: unknown key '" + key + "' (known: latency, errorRate, errorStatus, resetRate, lockHold, freezeOffers)");
      if (!ok) return bad("faults: bad value for '" + key + "'");
    }
    s_.options_.faults = f;
    return json_response(200, json::serialize(faults_json(f)));
  }
  if (path == "/_sim/task-faults" || path.starts_with("/_sim/task-faults/")) return s_.task_faults_endpoint(r, path);
  if (path == "/_sim/logins" && r.method == "GET") return s_.logins_endpoint();
  if (path == "/_sim/tick" && r.method == "POST") {
    long cycles = 1;
    std::optional<std::chrono::milliseconds> duration;
    if (q.has("duration")) {
      std::string err;
      duration = parse_duration(q.get("duration"), &err);
      if (!duration) return bad(err);
    }
    if (q.has("cycles")) {
      cycles = std::strtol(q.get("cycles").c_str(), nullptr, 10);
      if (cycles < 0 || cycles > 100000) return bad("tick: cycles must be between 0 and 100000");
    }
    if (s_.deterministic()) {
      s_.advance(duration ? *duration : s_.offer_period() * cycles);
    } else {
      for (long i = 0; i < cycles; ++i) s_.run_offer_cycle();
    }
    return json_response(200, json::serialize(json::object{{"cycle", s_.cycle_}, {"now", format_time(s_.now())}}));
  }
  if (path == "/_sim/state" && r.method == "GET") {
    return json_response(200, json::serialize(json::object{{"apps", s_.apps_.size()},
                                                           {"groups", s_.groups_.size()},
                                                           {"tasks", s_.task_count()},
                                                           {"deployments", s_.deployments_.size()},
                                                           {"agents", s_.agents_.size()},
                                                           {"cycle", s_.cycle_},
                                                           {"now", format_time(s_.now())},
                                                           {"deterministic", s_.deterministic()}}));
  }
  return message(404, "HTTP 404 Not Found");
}

// ---------- entry ----------

Response Simulator::handle(const Request& request) {
  Api api(*this, request);
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) return message(400, "Invalid request target");
  std::string path = parsed->path();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  Query q;
  for (auto p : parsed->params()) q.params.emplace_back(p.key, p.value);

  if (path.starts_with("/_sim/")) {
    try {
      return api.admin(request, path, q);
    } catch (const std::exception& e) {
      return message(400, e.what());
    }
  }

  Response out;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto& f = options_.faults;
  if (options_.login.enabled() && path == "/acs/api/v1/auth/login") {
    out = login(request);  // the IAM's, not Marathon's: no Marathon faults
  } else if (f.reset_rate > 0 && uniform(rng_) < f.reset_rate) {
    out.reset = true;
    out.status = 0;
  } else if (f.error_rate > 0 && uniform(rng_) < f.error_rate) {
    out = message(f.error_status, "Simulated failure: the service is temporarily unavailable");
  } else if (!authorized(request)) {
    out = unauthorized();
  } else {
    try {
      out = api.route(request, path, q);
    } catch (const std::exception& e) {
      out = message(500, std::string("marathon-sim internal error: ") + e.what());
    }
  }
  out.delay = f.latency;
  RequestRecord rec;
  rec.seq = ++request_seq_;
  rec.method = request.method;
  rec.target = request.target;
  rec.user_agent = request.user_agent;
  rec.status = out.status;
  rec.at = clock_->now();
  request_log_.push_back(std::move(rec));
  while (request_log_.size() > options_.request_log_limit) request_log_.pop_front();
  return out;
}

}  // namespace hmc::marathon_sim
