// Marathon's JSON bodies into the reconciler's observed model, plus the
// small text helpers of the client. No Beast here: this translation unit is
// rebuilt often and should stay quick to compile.

#include "hmc/marathon/marathon_client.hpp"
#include "marathon_internal.hpp"

#include <boost/json.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace hmc::marathon {

namespace json = boost::json;

namespace {

Error invalid(std::string message) {
  return make_error(ErrorSource::marathon, ErrorKind::invalid, std::move(message));
}

// A structural mismatch deep inside a body. Thrown only within this file and
// turned into an hmc::Error at each public parser's boundary, so the walkers
// below read as plain field access.
struct ShapeError {
  std::string message;
};

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "something else";
}

std::string at(const std::string& where, std::string_view key) {
  std::string s = where;
  if (!s.empty() && !key.empty()) s += '.';
  s += key;
  return s;
}

// Paths are built only on failure: `where` names the object, `key` (may be
// empty) the member; the happy path allocates nothing for them.
[[noreturn]] void wrong_type(const std::string& where, std::string_view key, const char* expected,
                             const json::value& v) {
  throw ShapeError{at(where, key) + ": expected " + expected + ", got " + kind_name(v)};
}

[[noreturn]] void wrong_type(const std::string& where, const char* expected, const json::value& v) {
  wrong_type(where, {}, expected, v);
}

std::string at(const std::string& where, std::size_t index) {
  return where + "[" + std::to_string(index) + "]";
}

// A member, or nullptr when absent or null (Marathon writes both for "unset").
const json::value* field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

const json::object& as_object(const json::value& v, const std::string& where, std::string_view key = {}) {
  if (!v.is_object()) wrong_type(where, key, "an object", v);
  return v.get_object();
}

const json::object* get_object(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = field(o, key);
  if (v == nullptr) return nullptr;
  return &as_object(*v, where, key);
}

const json::array* get_array(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = field(o, key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) wrong_type(where, key, "an array", *v);
  return &v->get_array();
}

std::string as_string(const json::value& v, const std::string& where, std::string_view key = {}) {
  if (!v.is_string()) wrong_type(where, key, "a string", v);
  return std::string(v.get_string());
}

std::string get_string(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = field(o, key);
  if (v == nullptr) return {};
  return as_string(*v, where, key);
}

double as_number(const json::value& v, const std::string& where, std::string_view key = {}) {
  switch (v.kind()) {
    case json::kind::int64: return static_cast<double>(v.get_int64());
    case json::kind::uint64: return static_cast<double>(v.get_uint64());
    case json::kind::double_: return v.get_double();
    default: wrong_type(where, key, "a number", v);
  }
}

double get_number(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = field(o, key);
  if (v == nullptr) return 0;
  return as_number(*v, where, key);
}

int clamp_int(double d) {
  if (!(d == d)) return 0;  // NaN cannot come from JSON, but stay total
  if (d >= static_cast<double>(std::numeric_limits<int>::max())) return std::numeric_limits<int>::max();
  if (d <= static_cast<double>(std::numeric_limits<int>::min())) return std::numeric_limits<int>::min();
  return static_cast<int>(d);
}

int get_int(const json::object& o, std::string_view key, const std::string& where) {
  return clamp_int(get_number(o, key, where));
}

bool get_bool(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = field(o, key);
  if (v == nullptr) return false;
  if (!v->is_bool()) wrong_type(where, key, "a boolean", *v);
  return v->get_bool();
}

// Malformed timestamps are treated as absent: they only feed "waiting since"
// hints, never decisions that need them.
std::optional<TimePoint> get_time(const json::object& o, std::string_view key, const std::string& where) {
  const std::string s = get_string(o, key, where);
  if (s.empty()) return std::nullopt;
  return parse_time(s);
}

std::vector<std::string> get_strings(const json::object& o, std::string_view key, const std::string& where) {
  std::vector<std::string> out;
  if (const json::array* a = get_array(o, key, where)) {
    const std::string base = at(where, key);
    out.reserve(a->size());
    for (std::size_t i = 0; i < a->size(); ++i) out.push_back(as_string((*a)[i], at(base, i)));
  }
  return out;
}

Result<json::value> parse_document(std::string_view body, const char* what) {
  json::parse_options opts;
  opts.max_depth = 128;
  boost::system::error_code ec;
  // The document lives in blocks of its own, freed at once with it: a root
  // group of thousands of apps would otherwise leave the heap fragmented
  // around the snapshot built from it.
  json::value v = json::parse(body, ec, json::make_shared_resource<json::monotonic_resource>(), opts);
  if (ec) {
    return invalid(std::string(what) + ": not valid JSON (" + ec.message() + ")" +
                   (body.empty() ? ": empty body" : ""));
  }
  return v;
}

reconciler::ObservedApp parse_app(const json::value& v, const std::string& where) {
  const json::object& o = as_object(v, where);
  reconciler::ObservedApp app;
  app.id = get_string(o, "id", where);
  if (app.id.empty()) throw ShapeError{where + ": app without an id"};
  const std::string here = where + "(" + app.id + ")";
  app.instances = get_int(o, "instances", here);
  app.cpus = get_number(o, "cpus", here);
  app.mem = get_number(o, "mem", here);
  app.disk = get_number(o, "disk", here);
  app.cmd_digest = reconciler::text_digest(get_string(o, "cmd", here));
  app.version = get_string(o, "version", here);
  if (const json::object* container = get_object(o, "container", here)) {
    const json::value* docker = field(*container, "docker");
    if (docker != nullptr) {
      if (!docker->is_object()) wrong_type(at(here, "container"), "docker", "an object", *docker);
      const json::value* image = field(docker->get_object(), "image");
      if (image != nullptr) app.image = as_string(*image, at(here, "container.docker"), "image");
    }
  }
  if (const json::object* labels = get_object(o, "labels", here)) {
    for (const auto& kv : *labels) {
      if (!kv.value().is_string()) wrong_type(at(here, "labels"), kv.key(), "a string", kv.value());
      // Other labels (the topology's own) are not compared: not kept.
      if (kv.key().starts_with(reconciler::kOwnLabelPrefix))
        app.labels[std::string(kv.key())] = std::string(kv.value().get_string());
    }
  }
  app.tasks_staged = get_int(o, "tasksStaged", here);
  app.tasks_running = get_int(o, "tasksRunning", here);
  app.tasks_healthy = get_int(o, "tasksHealthy", here);
  app.tasks_unhealthy = get_int(o, "tasksUnhealthy", here);
  if (const json::array* deployments = get_array(o, "deployments", here)) {
    const std::string d = at(here, "deployments");
    for (std::size_t i = 0; i < deployments->size(); ++i) {
      const std::string di = at(d, i);
      const std::string id = get_string(as_object((*deployments)[i], di), "id", di);
      if (!id.empty()) app.deployment_ids.push_back(id);
    }
  }
  if (const json::object* failure = get_object(o, "lastTaskFailure", here)) {
    const std::string w = at(here, "lastTaskFailure");
    app.last_task_failure = get_string(*failure, "message", w);
    reconciler::TaskFailure f;
    f.task_id = get_string(*failure, "taskId", w);
    f.message = app.last_task_failure;
    f.state = get_string(*failure, "state", w);
    f.host = get_string(*failure, "host", w);
    f.timestamp = get_time(*failure, "timestamp", w);
    f.version = get_time(*failure, "version", w);
    app.failure = std::move(f);
  }
  if (const json::object* info = get_object(o, "versionInfo", here))
    app.config_version = get_time(*info, "lastConfigChangeAt", at(here, "versionInfo"));
  if (!app.config_version && !app.version.empty()) app.config_version = parse_time(app.version);
  return app;
}

std::string group_id(const json::object& g, const std::string& where) {
  return get_string(g, "id", where);
}

// The group with id `target`: the document itself (the usual answer of
// GET /v2/groups/<target>) or a descendant when an ancestor was fetched.
const json::object* find_group(const json::object& g, const std::string& target, const std::string& where,
                               bool top) {
  const std::string id = group_id(g, where);
  if ((id.empty() && top) || detail::normalize_group_id(id) == target) return &g;
  const json::array* subgroups = get_array(g, "groups", where);
  if (subgroups == nullptr) return nullptr;
  for (std::size_t i = 0; i < subgroups->size(); ++i) {
    const std::string wi = at(at(where, "groups"), i);
    const json::object& sub = as_object((*subgroups)[i], wi);
    const std::string sub_id = detail::normalize_group_id(group_id(sub, wi));
    const bool ancestor = sub_id == "/" || target.compare(0, sub_id.size() + 1, sub_id + "/") == 0 ||
                          sub_id == target;
    if (!ancestor) continue;
    if (const json::object* found = find_group(sub, target, wi, false)) return found;
  }
  return nullptr;
}

reconciler::RejectReason parse_reject(const json::value& v, const std::string& where) {
  const json::object& o = as_object(v, where);
  reconciler::RejectReason r;
  r.reason = get_string(o, "reason", where);
  r.declined = get_int(o, "declined", where);
  r.processed = get_int(o, "processed", where);
  return r;
}

std::vector<reconciler::RejectReason> get_rejects(const json::object& o, std::string_view key,
                                                  const std::string& where) {
  std::vector<reconciler::RejectReason> out;
  if (const json::array* a = get_array(o, key, where)) {
    for (std::size_t i = 0; i < a->size(); ++i) out.push_back(parse_reject((*a)[i], at(at(where, key), i)));
  }
  return out;
}

// Mesos resources: {"name", "scalar": n | {"value": n}, "ranges": [...]}.
void add_resource(reconciler::OfferResources& res, const json::value& v, const std::string& where) {
  const json::object& o = as_object(v, where);
  const std::string name = get_string(o, "name", where);
  double scalar = 0;
  if (const json::value* s = field(o, "scalar")) {
    if (s->is_object()) {
      scalar = get_number(s->get_object(), "value", at(where, "scalar"));
    } else {
      scalar = as_number(*s, at(where, "scalar"));
    }
  }
  if (name == "cpus") res.cpus += scalar;
  if (name == "mem") res.mem += scalar;
  if (name == "disk") res.disk += scalar;
  if (name != "ports") return;
  const json::value* ranges_value = field(o, "ranges");
  if (ranges_value == nullptr) return;
  // Mesos' own JSON nests the list as {"range": [...]}.
  const json::array* ranges = nullptr;
  if (ranges_value->is_object()) {
    ranges = get_array(ranges_value->get_object(), "range", at(where, "ranges"));
  } else if (ranges_value->is_array()) {
    ranges = &ranges_value->get_array();
  } else {
    wrong_type(at(where, "ranges"), "an array", *ranges_value);
  }
  if (ranges == nullptr) return;
  double count = res.ports;
  for (std::size_t i = 0; i < ranges->size(); ++i) {
    const std::string ri = at(at(where, "ranges"), i);
    const json::object& r = as_object((*ranges)[i], ri);
    const double begin = get_number(r, "begin", ri);
    const double end = get_number(r, "end", ri);
    if (end >= begin) count += end - begin + 1;
  }
  res.ports = clamp_int(count);
}

reconciler::UnusedOffer parse_unused_offer(const json::value& v, const std::string& where) {
  const json::object& o = as_object(v, where);
  reconciler::UnusedOffer u;
  if (const json::object* offer = get_object(o, "offer", where)) {
    const std::string w = at(where, "offer");
    u.offer_id = get_string(*offer, "id", w);
    u.agent_id = get_string(*offer, "agentId", w);
    u.hostname = get_string(*offer, "hostname", w);
    if (const json::array* resources = get_array(*offer, "resources", w)) {
      for (std::size_t i = 0; i < resources->size(); ++i) {
        add_resource(u.resources, (*resources)[i], at(at(w, "resources"), i));
      }
    }
  }
  u.reasons = get_strings(o, "reason", where);
  u.timestamp = get_time(o, "timestamp", where);
  return u;
}

reconciler::QueueEntry parse_queue_entry(const json::value& v, const std::string& where) {
  const json::object& o = as_object(v, where);
  reconciler::QueueEntry e;
  if (const json::object* app = get_object(o, "app", where)) {
    e.app_id = get_string(*app, "id", at(where, "app"));
  } else if (const json::object* pod = get_object(o, "pod", where)) {
    e.app_id = get_string(*pod, "id", at(where, "pod"));
  }
  if (e.app_id.empty()) throw ShapeError{where + ": entry without app.id or pod.id"};
  const std::string here = where + "(" + e.app_id + ")";
  e.count = get_int(o, "count", here);
  if (const json::object* delay = get_object(o, "delay", here)) {
    e.overdue = get_bool(*delay, "overdue", at(here, "delay"));
    e.delay_time_left_seconds = get_number(*delay, "timeLeftSeconds", at(here, "delay"));
  }
  e.since = get_time(o, "since", here);
  if (const json::object* summary = get_object(o, "processedOffersSummary", here)) {
    const std::string s = at(here, "processedOffersSummary");
    e.processed_offers = get_int(*summary, "processedOffersCount", s);
    e.unused_offers = get_int(*summary, "unusedOffersCount", s);
    e.last_unused_offer_at = get_time(*summary, "lastUnusedOfferAt", s);
    e.last_used_offer_at = get_time(*summary, "lastUsedOfferAt", s);
    e.reject_summary_last_offers = get_rejects(*summary, "rejectSummaryLastOffers", s);
    e.reject_summary_launch_attempt = get_rejects(*summary, "rejectSummaryLaunchAttempt", s);
  }
  if (const json::array* offers = get_array(o, "lastUnusedOffers", here)) {
    for (std::size_t i = 0; i < offers->size(); ++i) {
      e.last_unused_offers.push_back(parse_unused_offer((*offers)[i], at(at(here, "lastUnusedOffers"), i)));
    }
  }
  return e;
}

reconciler::ObservedDeployment parse_deployment(const json::value& v, const std::string& where) {
  const json::object& o = as_object(v, where);
  reconciler::ObservedDeployment d;
  d.id = get_string(o, "id", where);
  if (d.id.empty()) throw ShapeError{where + ": deployment without an id"};
  const std::string here = where + "(" + d.id + ")";
  d.version = get_string(o, "version", here);
  d.affected_apps = get_strings(o, "affectedApps", here);
  if (const json::array* actions = get_array(o, "currentActions", here)) {
    for (std::size_t i = 0; i < actions->size(); ++i) {
      const std::string ai = at(at(here, "currentActions"), i);
      const json::object& a = as_object((*actions)[i], ai);
      reconciler::DeploymentAction action;
      action.action = get_string(a, "action", ai);
      action.app = get_string(a, "app", ai);
      if (action.app.empty()) action.app = get_string(a, "pod", ai);
      d.current_actions.push_back(std::move(action));
    }
  }
  d.current_step = get_int(o, "currentStep", here);
  d.total_steps = get_int(o, "totalSteps", here);
  return d;
}

// Printable, bounded excerpt of an unexpected body for error messages.
std::string excerpt(std::string_view body, std::size_t max = 200) {
  std::string out;
  for (char c : body.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  if (body.size() > max) out += "...";
  return out;
}

}  // namespace

Result<std::map<std::string, reconciler::ObservedGroup>> parse_groups(std::string_view body,
                                                                      const std::string& group_root) {
  auto doc = parse_document(body, "groups");
  if (!doc) return doc.error();
  try {
    const json::object& root = as_object(*doc, "group");
    const std::string target = detail::normalize_group_id(group_root);
    std::map<std::string, reconciler::ObservedGroup> out;
    const json::object* g = find_group(root, target, "group", true);
    if (g == nullptr) return out;
    const std::string where = "group(" + target + ")";
    if (const json::array* subgroups = get_array(*g, "groups", where)) {
      for (std::size_t i = 0; i < subgroups->size(); ++i) {
        const std::string wi = at(at(where, "groups"), i);
        const json::object& sub = as_object((*subgroups)[i], wi);
        reconciler::ObservedGroup group;
        group.id = detail::normalize_group_id(group_id(sub, wi));
        if (group.id.empty() || group.id == "/") throw ShapeError{wi + ": group without an id"};
        group.version = get_string(sub, "version", wi);
        if (const json::array* apps = get_array(sub, "apps", wi)) {
          group.apps.reserve(apps->size());
          for (std::size_t j = 0; j < apps->size(); ++j) {
            group.apps.push_back(parse_app((*apps)[j], at(at(wi, "apps"), j)));
          }
        }
        out[group.id] = std::move(group);
      }
    }
    return out;
  } catch (const ShapeError& e) {
    return invalid("groups: " + e.message);
  }
}

Result<std::vector<reconciler::ObservedDeployment>> parse_deployments(std::string_view body) {
  auto doc = parse_document(body, "deployments");
  if (!doc) return doc.error();
  try {
    if (!doc->is_array()) wrong_type("deployments", "an array", *doc);
    const json::array& a = doc->get_array();
    std::vector<reconciler::ObservedDeployment> out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out.push_back(parse_deployment(a[i], at("deployments", i)));
    return out;
  } catch (const ShapeError& e) {
    return invalid("deployments: " + e.message);
  }
}

Result<std::vector<reconciler::QueueEntry>> parse_queue(std::string_view body) {
  auto doc = parse_document(body, "queue");
  if (!doc) return doc.error();
  try {
    const json::object& root = as_object(*doc, "queue document");
    std::vector<reconciler::QueueEntry> out;
    const json::array* q = get_array(root, "queue", "");
    if (q == nullptr) throw ShapeError{"missing the \"queue\" array"};
    out.reserve(q->size());
    for (std::size_t i = 0; i < q->size(); ++i) out.push_back(parse_queue_entry((*q)[i], at("queue", i)));
    return out;
  } catch (const ShapeError& e) {
    return invalid("queue: " + e.message);
  }
}

namespace detail {

Result<BaseUrl> parse_base_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return invalid("marathon URL '" + std::string(url) + "': " + parsed.error().message());
  const auto& u = *parsed;
  BaseUrl out;
  const std::string scheme(u.scheme());
  if (scheme == "https") {
    out.https = true;
  } else if (scheme != "http") {
    return invalid("marathon URL '" + std::string(url) + "': scheme must be http or https");
  }
  out.host = std::string(u.encoded_host_address());
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) return invalid("marathon URL '" + std::string(url) + "': no host");
  if (u.has_userinfo()) return invalid("marathon URL: credentials in the URL are not supported; use a token");
  if (u.has_query() || u.has_fragment()) {
    return invalid("marathon URL '" + std::string(url) + "': query or fragment not allowed");
  }
  out.port = u.has_port() ? std::string(u.port()) : (out.https ? "443" : "80");
  if (out.port.empty() || (u.has_port() && u.port_number() == 0)) {
    return invalid("marathon URL '" + std::string(url) + "': bad port");
  }
  out.path_prefix = std::string(u.encoded_path());
  while (!out.path_prefix.empty() && out.path_prefix.back() == '/') out.path_prefix.pop_back();
  if (!out.path_prefix.empty() && out.path_prefix.front() != '/') out.path_prefix.insert(0, "/");
  return out;
}

Error error_from_response(std::string_view what, int status, std::string_view body) {
  std::string message;
  std::string details;
  std::vector<std::string> deployments;
  bool has_deployments = false;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const json::object& o = v.get_object();
    if (const json::value* m = field(o, "message"); m != nullptr && m->is_string()) {
      message = std::string(m->get_string());
    }
    if (const json::value* d = field(o, "details"); d != nullptr && d->is_array()) {
      for (const json::value& item : d->get_array()) {
        if (!details.empty()) details += "; ";
        const json::object* io = item.if_object();
        const json::value* path = io ? field(*io, "path") : nullptr;
        const json::value* errors = io ? field(*io, "errors") : nullptr;
        if (path != nullptr && path->is_string() && errors != nullptr && errors->is_array()) {
          details += std::string(path->get_string()) + ":";
          for (const json::value& e : errors->get_array()) {
            details += " ";
            details += e.is_string() ? std::string(e.get_string()) : json::serialize(e);
          }
        } else {
          details += json::serialize(item);
        }
      }
    }
    if (const json::value* d = field(o, "deployments"); d != nullptr && d->is_array()) {
      has_deployments = true;
      for (const json::value& item : d->get_array()) {
        const json::object* io = item.if_object();
        const json::value* id = io ? field(*io, "id") : nullptr;
        if (id != nullptr && id->is_string()) deployments.emplace_back(id->get_string());
      }
    }
  } else if (!body.empty()) {
    message = excerpt(body);
  }

  ErrorKind kind = ErrorKind::internal;
  if (status == 404) {
    kind = ErrorKind::not_found;
  } else if (status == 409) {
    kind = has_deployments ? ErrorKind::locked : ErrorKind::conflict;
  } else if (status == 400 || status == 422) {
    kind = ErrorKind::invalid;
  } else if (status == 403 && message.starts_with("Max number (")) {
    // TooManyRunningDeploymentsException: --max_running_deployments run.
    // Not a permission problem: retry once some have finished.
    kind = ErrorKind::unavailable;
  } else if (status == 401 || status == 403) {
    kind = ErrorKind::unauthorized;
  } else if (status >= 500 || status == 408 || status == 429) {
    kind = ErrorKind::unavailable;
  } else if (status >= 400) {
    kind = ErrorKind::invalid;
  }

  std::string text = std::string(what) + ": HTTP " + std::to_string(status);
  if (kind == ErrorKind::locked) {
    text += ": locked by deployment";
    text += deployments.size() == 1 ? " " : "s ";
    for (std::size_t i = 0; i < deployments.size(); ++i) text += (i ? ", " : "") + deployments[i];
  }
  if (!message.empty()) text += ": " + message;
  if (!details.empty()) text += " (" + excerpt(details, 1000) + ")";
  return make_error(ErrorSource::marathon, kind, std::move(text), status);
}

ChangeResult parse_change_result(std::string_view body, std::string_view deployment_header) {
  ChangeResult r;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const json::object& o = v.get_object();
    if (const json::value* d = field(o, "deploymentId"); d != nullptr && d->is_string()) {
      r.deployment_id = std::string(d->get_string());
    }
    if (const json::value* ver = field(o, "version"); ver != nullptr && ver->is_string()) {
      r.version = std::string(ver->get_string());
    }
  }
  if (r.deployment_id.empty()) r.deployment_id = std::string(deployment_header);
  return r;
}

Result<std::string> scale_body(double factor) {
  if (!std::isfinite(factor) || factor < 0) {
    return invalid("scale factor must be a finite number >= 0, got " + std::to_string(factor));
  }
  json::object o;
  // Whole factors as integers: {"scaleBy":0}, as the DC/OS UI sends them.
  if (factor == std::floor(factor) && factor < 1e15) {
    o["scaleBy"] = static_cast<std::int64_t>(factor);
  } else {
    o["scaleBy"] = factor;
  }
  return json::serialize(o);
}

std::string encode_path(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(id.size());
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                       u == '-' || u == '.' || u == '_' || u == '~' || u == '/';
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

std::string normalize_group_id(std::string_view id) {
  std::string out(id);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out.empty() || out.front() != '/') out.insert(0, "/");
  return out;
}

void SseParser::reset() {
  partial_.clear();
  event_.clear();
  data_.clear();
  has_data_ = false;
  oversized_ = false;
  last_was_cr_ = false;
}

void SseParser::feed(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && last_was_cr_) {  // the LF of a CRLF pair
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      line(partial_);
      partial_.clear();
      continue;
    }
    if (partial_.size() + data_.size() < max_frame_) {
      partial_ += c;
    } else {
      oversized_ = true;
    }
  }
}

void SseParser::line(std::string_view l) {
  if (l.empty()) {
    if (has_data_ && !oversized_) on_event_(event_.empty() ? "message" : event_, data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    oversized_ = false;
    return;
  }
  if (l.front() == ':') return;  // comment / keep-alive
  const std::size_t colon = l.find(':');
  std::string_view name = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (name == "event") {
    event_ = std::string(value);
  } else if (name == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
  }
}

}  // namespace detail
}  // namespace hmc::marathon
