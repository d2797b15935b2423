#include "validation.hpp"

#include "ids.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstdio>
#include <set>

namespace hmc::marathon_sim {

namespace {

enum class Kind { string, number, integer, boolean, array, object, string_array, string_map, object_array };

const char* expected(Kind k) {
  switch (k) {
    case Kind::string: return "error.expected.jsstring";
    case Kind::number: return "error.expected.jsnumber";
    case Kind::integer: return "error.expected.jsnumber";
    case Kind::boolean: return "error.expected.jsboolean";
    case Kind::array:
    case Kind::string_array:
    case Kind::object_array: return "error.expected.jsarray";
    case Kind::object:
    case Kind::string_map: return "error.expected.jsobject";
  }
  return "error.expected.jsvalue";
}

struct Field {
  const char* name;
  Kind kind;
};

constexpr Field kFields[] = {
    {"id", Kind::string},           {"cmd", Kind::string},
    {"args", Kind::string_array},   {"user", Kind::string},
    {"instances", Kind::integer},   {"cpus", Kind::number},
    {"mem", Kind::number},          {"disk", Kind::number},
    {"gpus", Kind::number},         {"executor", Kind::string},
    {"constraints", Kind::array},   {"labels", Kind::string_map},
    {"env", Kind::object},          {"container", Kind::object},
    {"portDefinitions", Kind::object_array}, {"ports", Kind::array},
    {"requirePorts", Kind::boolean}, {"acceptedResourceRoles", Kind::string_array},
    {"dependencies", Kind::string_array}, {"healthChecks", Kind::object_array},
    {"readinessChecks", Kind::object_array}, {"fetch", Kind::object_array},
    {"uris", Kind::string_array},   {"upgradeStrategy", Kind::object},
    {"backoffSeconds", Kind::number}, {"backoffFactor", Kind::number},
    {"maxLaunchDelaySeconds", Kind::number}, {"secrets", Kind::object},
    {"networks", Kind::object_array}, {"killSelection", Kind::string},
    {"tty", Kind::boolean},         {"role", Kind::string},
    {"ipAddress", Kind::object},    {"residency", Kind::object},
    {"check", Kind::object},        {"storeUrls", Kind::string_array},
};

// Fields Marathon computes; ignored on input.
constexpr const char* kReadOnly[] = {"version",        "versionInfo",   "tasks",          "tasksStaged",
                                     "tasksRunning",   "tasksHealthy",  "tasksUnhealthy", "deployments",
                                     "lastTaskFailure", "readinessCheckResults", "tasksStats", "taskStats"};

bool is_integer(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  if (v.is_double()) {
    const double d = v.get_double();
    return std::floor(d) == d;
  }
  return false;
}

double number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return 0;
}

std::string fmt_number(double d, bool as_double) {
  char buf[64];
  if (as_double) {
    std::snprintf(buf, sizeof buf, "%g", d);
    std::string s = buf;
    if (s.find('.') == std::string::npos && s.find('e') == std::string::npos) s += ".0";
    return s;
  }
  std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
  return buf;
}

bool check_kind(const json::value& v, Kind k, const std::string& path, Violations& out) {
  auto bad = [&](const std::string& p, Kind kk) {
    out.type(p, expected(kk));
    return false;
  };
  switch (k) {
    case Kind::string: return v.is_string() || bad(path, k);
    case Kind::number: return v.is_number() || bad(path, k);
    case Kind::integer: return (v.is_number() && is_integer(v)) || bad(path, k);
    case Kind::boolean: return v.is_bool() || bad(path, k);
    case Kind::array: return v.is_array() || bad(path, k);
    case Kind::object: return v.is_object() || bad(path, k);
    case Kind::string_array: {
      if (!v.is_array()) return bad(path, k);
      bool ok = true;
      std::size_t i = 0;
      for (const auto& e : v.get_array()) {
        if (!e.is_string()) ok = bad(path + "(" + std::to_string(i) + ")", Kind::string);
        ++i;
      }
      return ok;
    }
    case Kind::object_array: {
      if (!v.is_array()) return bad(path, k);
      bool ok = true;
      std::size_t i = 0;
      for (const auto& e : v.get_array()) {
        if (!e.is_object()) ok = bad(path + "(" + std::to_string(i) + ")", Kind::object);
        ++i;
      }
      return ok;
    }
    case Kind::string_map: {
      if (!v.is_object()) return bad(path, k);
      bool ok = true;
      for (const auto& kv : v.get_object())
        if (!kv.value().is_string()) ok = bad(path + "/" + std::string(kv.key()), Kind::string);
      return ok;
    }
  }
  return true;
}

void set_default(json::object& o, const char* key, json::value v) {
  if (!o.contains(key)) o[key] = std::move(v);
}

const json::object* obj_at(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}
const json::array* arr_at(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_array() ? &it->value().get_array() : nullptr;
}
std::string str_at(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string{};
}

}  // namespace

void Violations::type(const std::string& path, std::string msg) {
  for (auto& v : type_errors) {
    if (v.path == path) {
      v.errors.push_back(std::move(msg));
      return;
    }
  }
  type_errors.push_back({path, {std::move(msg)}});
}

void Violations::rule(const std::string& path, std::string msg) {
  for (auto& v : rules) {
    if (v.path == path) {
      v.errors.push_back(std::move(msg));
      return;
    }
  }
  rules.push_back({path, {std::move(msg)}});
}

std::string Violations::body() const {
  json::object o;
  const auto& list = type_errors.empty() ? rules : type_errors;
  o["message"] = type_errors.empty() ? "Object is not valid" : "Invalid JSON";
  json::array details;
  for (const auto& v : list) {
    json::array errs;
    for (const auto& e : v.errors) errs.push_back(json::string(e));
    details.push_back(json::object{{"path", v.path}, {"errors", std::move(errs)}});
  }
  o["details"] = std::move(details);
  return json::serialize(o);
}

std::string join_path(const std::string& prefix, const std::string& field) {
  if (field.empty()) return prefix.empty() ? "/" : prefix;
  return prefix + "/" + field;
}

void derive_needs(AppSpec& spec) {
  const auto& d = spec.definition;
  spec.instances = d.contains("instances") ? static_cast<int>(number(d.at("instances"))) : 1;
  spec.cpus = d.contains("cpus") ? number(d.at("cpus")) : 1;
  spec.mem = d.contains("mem") ? number(d.at("mem")) : 128;
  spec.disk = d.contains("disk") ? number(d.at("disk")) : 0;
  spec.gpus = d.contains("gpus") ? number(d.at("gpus")) : 0;
  spec.accepted_roles.clear();
  if (auto* roles = arr_at(d, "acceptedResourceRoles"))
    for (const auto& r : *roles)
      if (r.is_string()) spec.accepted_roles.emplace_back(r.get_string());
  spec.constraints.clear();
  if (auto* cs = arr_at(d, "constraints")) {
    for (const auto& c : *cs) {
      std::vector<std::string> parts;
      if (c.is_array())
        for (const auto& p : c.get_array())
          if (p.is_string()) parts.emplace_back(p.get_string());
      spec.constraints.push_back(std::move(parts));
    }
  }
  auto* hc = arr_at(d, "healthChecks");
  spec.has_health_checks = hc && !hc->empty();

  spec.port_count = 0;
  spec.fixed_ports.clear();
  const auto* container = obj_at(d, "container");
  const auto* docker = container ? obj_at(*container, "docker") : nullptr;
  const std::string legacy_network = docker ? str_at(*docker, "network") : std::string{};
  std::string mode = "host";
  if (auto* nets = arr_at(d, "networks"); nets && !nets->empty() && nets->front().is_object())
    mode = str_at(nets->front().get_object(), "mode");
  if (legacy_network == "BRIDGE") mode = "container/bridge";
  else if (legacy_network == "USER") mode = "container";
  else if (legacy_network == "HOST") mode = "host";
  const bool require_ports = d.contains("requirePorts") && d.at("requirePorts").is_bool() && d.at("requirePorts").get_bool();
  if (mode != "host") {
    const json::array* mappings = container ? arr_at(*container, "portMappings") : nullptr;
    if (!mappings && docker) mappings = arr_at(*docker, "portMappings");
    if (mappings) {
      for (const auto& m : *mappings) {
        if (!m.is_object()) continue;
        const auto& mo = m.get_object();
        auto hp = mo.find("hostPort");
        if (hp == mo.end()) {
          if (mode == "container/bridge") ++spec.port_count;
          continue;
        }
        const auto p = static_cast<std::uint32_t>(number(hp->value()));
        if (p == 0) ++spec.port_count;
        else spec.fixed_ports.push_back(p);
      }
    }
    return;
  }
  const json::array* defs = arr_at(d, "portDefinitions");
  std::vector<std::uint32_t> ports;
  if (defs) {
    for (const auto& p : *defs)
      if (p.is_object()) ports.push_back(p.get_object().contains("port") ? static_cast<std::uint32_t>(number(p.get_object().at("port"))) : 0);
  } else if (auto* legacy = arr_at(d, "ports")) {
    for (const auto& p : *legacy) ports.push_back(static_cast<std::uint32_t>(number(p)));
  }
  for (auto p : ports) {
    if (require_ports && p != 0) spec.fixed_ports.push_back(p);
    else ++spec.port_count;
  }
}

namespace {

// With the secrets feature, as Marathon's SecretValidation: every secret has
// a non-empty `source`, and an env value {"secret": name} names a defined one.
void check_secrets(const json::object& def, const std::string& path, Violations& out) {
  const json::object* secrets = obj_at(def, "secrets");
  if (secrets) {
    for (const auto& kv : *secrets) {
      const auto p = join_path(path, "secrets/" + std::string(kv.key()));
      if (kv.key().empty()) out.rule(join_path(path, "secrets"), "must not be empty");
      if (!kv.value().is_object()) {
        out.type(p, "error.expected.jsobject");
        continue;
      }
      auto src = kv.value().get_object().find("source");
      if (src == kv.value().get_object().end() || !src->value().is_string())
        out.type(p + "/source", src == kv.value().get_object().end() ? "error.path.missing" : "error.expected.jsstring");
      else if (src->value().get_string().empty())
        out.rule(p + "/source", "must not be empty");
    }
  }
  const json::object* env = obj_at(def, "env");
  if (!env) return;
  for (const auto& kv : *env) {
    if (!kv.value().is_object()) continue;
    const auto p = join_path(path, "env/" + std::string(kv.key()) + "/secret");
    auto ref = kv.value().get_object().find("secret");
    if (ref == kv.value().get_object().end() || !ref->value().is_string()) {
      out.type(p, ref == kv.value().get_object().end() ? "error.path.missing" : "error.expected.jsstring");
      continue;
    }
    if (!secrets || !secrets->contains(ref->value().get_string())) out.rule(p, "references an undefined secret");
  }
}

// As Marathon's AppValidation: a health check Marathon itself runs (HTTP,
// HTTPS, TCP; MESOS_* checks run on the agent and are not checked here)
// needs its portIndex to address one of the app's ports: the port
// definitions, or the container's port mappings when there are any. Without
// portIndex and port it uses the first port. An app without portDefinitions
// in host mode gets one default port.
void check_health_check_ports(const json::object& def, const std::string& path, Violations& out) {
  const json::array* checks = arr_at(def, "healthChecks");
  if (!checks) return;
  std::size_t ports = 1;
  if (const json::array* pds = arr_at(def, "portDefinitions")) ports = pds->size();
  if (const json::object* c = obj_at(def, "container")) {
    const json::array* mappings = arr_at(*c, "portMappings");
    if (!mappings)
      if (const json::object* dk = obj_at(*c, "docker")) mappings = arr_at(*dk, "portMappings");
    if (mappings && !mappings->empty()) ports = mappings->size();
  }
  std::size_t i = 0;
  for (const auto& hc : *checks) {
    const auto p = join_path(path, "healthChecks(" + std::to_string(i++) + ")");
    if (!hc.is_object()) continue;
    const auto& o = hc.get_object();
    const std::string protocol = o.contains("protocol") ? str_at(o, "protocol") : "HTTP";
    if (o.contains("command") || (protocol != "HTTP" && protocol != "HTTPS" && protocol != "TCP")) continue;
    bool valid = true;
    if (auto it = o.find("portIndex"); it != o.end()) {
      valid = it->value().is_number() && number(it->value()) >= 0 && number(it->value()) < static_cast<double>(ports);
    } else if (!o.contains("port")) {
      valid = ports > 0;
    }
    if (!valid) out.rule(p, "Health check port indices must address an element of the ports array or container port mappings.");
  }
}

}  // namespace

std::optional<AppSpec> read_app(const json::value& v, const std::string& path, const std::string& base,
                                Violations& out, const AppSpec* current, const Features& features) {
  if (!v.is_object()) {
    out.type(join_path(path, ""), "error.expected.jsobject");
    return std::nullopt;
  }
  const auto& in = v.get_object();
  const std::size_t type_errors_before = out.type_errors.size();
  const std::size_t rules_before = out.rules.size();
  for (const auto& f : kFields) {
    auto it = in.find(f.name);
    if (it == in.end() || it->value().is_null()) continue;
    check_kind(it->value(), f.kind, join_path(path, f.name), out);
  }
  if (out.type_errors.size() != type_errors_before) return std::nullopt;

  json::object def = current ? current->definition : json::object{};
  for (const auto& kv : in) {
    if (kv.value().is_null()) def.erase(kv.key());
    else def[kv.key()] = kv.value();
  }
  for (const auto* ro : kReadOnly) def.erase(ro);

  AppSpec spec;
  if (!def.contains("id")) {
    out.type(join_path(path, "id"), "error.path.missing");
    return std::nullopt;
  }
  std::string err;
  auto id = resolve_id(def.at("id").get_string(), base, &err);
  if (!id) {
    out.rule(join_path(path, "id"), err);
  } else if (*id == "/") {
    out.rule(join_path(path, "id"), "Path must contain at least one path element");
  } else if (reserved_last_segment(*id)) {
    out.rule(join_path(path, "id"), "must not end with any of the following strings: restart, tasks, versions");
  }
  if (id) spec.id = *id;
  def["id"] = spec.id;

  auto min_check = [&](const char* key, double min, bool as_double) {
    auto it = def.find(key);
    if (it == def.end()) return;
    const double n = number(it->value());
    if (n < min)
      out.rule(join_path(path, key), "got " + fmt_number(n, as_double) + ", expected " + fmt_number(min, as_double) + " or more");
  };
  min_check("instances", 0, false);
  min_check("cpus", 0.001, true);
  min_check("mem", 0, true);
  min_check("disk", 0, true);
  min_check("gpus", 0, true);
  min_check("backoffSeconds", 0, false);
  min_check("backoffFactor", 1, true);
  min_check("maxLaunchDelaySeconds", 0, false);

  const std::string cmd = str_at(def, "cmd");
  if (def.contains("cmd") && cmd.empty()) out.rule(join_path(path, "cmd"), "must not be empty");
  const bool has_cmd = !cmd.empty();
  const auto* args = arr_at(def, "args");
  const bool has_args = args && !args->empty();
  bool has_image = false;
  if (auto* c = obj_at(def, "container")) {
    if (auto* dk = obj_at(*c, "docker")) has_image = !str_at(*dk, "image").empty();
    if (!has_image) {
      if (auto* m = obj_at(*c, "mesos")) has_image = !str_at(*m, "image").empty();
    }
    const auto type = str_at(*c, "type");
    if (!type.empty() && type != "DOCKER" && type != "MESOS")
      out.rule(join_path(path, "container/type"), "must be one of DOCKER, MESOS");
    if (type == "DOCKER" && !has_image) out.rule(join_path(path, "container/docker/image"), "must not be empty");
  }
  if (!((has_cmd != has_args) || (!(has_cmd && has_args) && has_image)))
    out.rule(join_path(path, ""), "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.");

  bool secret_refs = false;
  if (auto* env = obj_at(def, "env")) {
    for (const auto& kv : *env) {
      if (kv.value().is_object()) secret_refs = true;
      else if (!kv.value().is_string())
        out.type(join_path(path, "env/" + std::string(kv.key())), "error.expected.jsstring");
    }
  }
  if (auto* s = obj_at(def, "secrets"); ((s && !s->empty()) || secret_refs) && !features.secrets)
    out.rule(join_path(path, "secrets"), "Feature secrets is not enabled. Enable with --enable_features secrets)");
  else if (features.secrets) check_secrets(def, path, out);

  if (auto* cs = arr_at(def, "constraints")) {
    static const std::set<std::string> ops = {"UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"};
    std::size_t i = 0;
    for (const auto& c : *cs) {
      const auto p = join_path(path, "constraints(" + std::to_string(i++) + ")");
      if (!c.is_array() || c.get_array().size() < 2 || c.get_array().size() > 3) {
        out.rule(p, "Each constraint must have either 2 or 3 fields");
        continue;
      }
      bool strings = true;
      for (const auto& e : c.get_array()) strings = strings && e.is_string();
      if (!strings) {
        out.type(p, "error.expected.jsstring");
        continue;
      }
      const std::string op(c.get_array()[1].get_string());
      const std::string val = c.get_array().size() > 2 ? std::string(c.get_array()[2].get_string()) : "";
      if (!ops.count(op))
        out.rule(p, "Constraint operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS");
      else if ((op == "LIKE" || op == "UNLIKE") && c.get_array().size() < 3)
        out.rule(p, "A regular expression value must be provided");
      else if (op == "MAX_PER" && (val.empty() || val.find_first_not_of("0123456789") != std::string::npos))
        out.rule(p, "Value was not a valid integer");
    }
  }
  if (auto* pds = arr_at(def, "portDefinitions")) {
    std::set<std::string> names;
    std::size_t i = 0;
    for (const auto& pd : *pds) {
      const auto p = join_path(path, "portDefinitions(" + std::to_string(i++) + ")");
      const auto& o = pd.get_object();
      if (auto it = o.find("port"); it != o.end()) {
        if (!it->value().is_number() || !is_integer(it->value())) out.type(p + "/port", "error.expected.jsnumber");
        else if (number(it->value()) < 0 || number(it->value()) > 65535)
          out.rule(p + "/port", "got " + fmt_number(number(it->value()), false) + ", expected between 0 and 65535");
      }
      const auto name = str_at(o, "name");
      if (!name.empty() && !names.insert(name).second)
        out.rule(join_path(path, "portDefinitions"), "Port names must be unique.");
    }
  }
  check_health_check_ports(def, path, out);
  if (auto* deps = arr_at(def, "dependencies")) {
    std::size_t i = 0;
    for (const auto& d : *deps) {
      std::string e;
      if (!resolve_id(d.get_string(), base, &e)) out.rule(join_path(path, "dependencies(" + std::to_string(i) + ")"), e);
      ++i;
    }
  }
  if (auto* us = obj_at(def, "upgradeStrategy")) {
    for (const char* k : {"minimumHealthCapacity", "maximumOverCapacity"}) {
      auto it = us->find(k);
      if (it == us->end()) continue;
      if (!it->value().is_number()) {
        out.type(join_path(path, std::string("upgradeStrategy/") + k), "error.expected.jsnumber");
        continue;
      }
      const double n = number(it->value());
      if (n < 0 || n > 1)
        out.rule(join_path(path, std::string("upgradeStrategy/") + k), "got " + fmt_number(n, true) + ", expected between 0.0 and 1.0");
    }
  }
  if (out.type_errors.size() != type_errors_before || out.rules.size() != rules_before) return std::nullopt;

  // Defaults, as Marathon fills them in.
  set_default(def, "backoffFactor", 1.15);
  set_default(def, "backoffSeconds", 1);
  set_default(def, "constraints", json::array{});
  set_default(def, "cpus", 1);
  set_default(def, "dependencies", json::array{});
  set_default(def, "disk", 0);
  set_default(def, "env", json::object{});
  set_default(def, "executor", "");
  if (!def.contains("fetch")) {
    json::array fetch;
    if (auto* uris = arr_at(def, "uris"))
      for (const auto& u : *uris)
        fetch.push_back(json::object{{"uri", u}, {"extract", true}, {"executable", false}, {"cache", false}});
    def["fetch"] = std::move(fetch);
  }
  set_default(def, "gpus", 0);
  set_default(def, "healthChecks", json::array{});
  set_default(def, "instances", 1);
  set_default(def, "labels", json::object{});
  set_default(def, "maxLaunchDelaySeconds", 300);
  set_default(def, "mem", 128);
  set_default(def, "requirePorts", false);
  set_default(def, "upgradeStrategy", json::object{{"maximumOverCapacity", 1}, {"minimumHealthCapacity", 1}});
  set_default(def, "killSelection", "YOUNGEST_FIRST");
  set_default(def, "unreachableStrategy", json::object{{"inactiveAfterSeconds", 0}, {"expungeAfterSeconds", 0}});
  std::string legacy_network;
  if (auto* c = obj_at(def, "container"))
    if (auto* dk = obj_at(*c, "docker")) legacy_network = str_at(*dk, "network");
  if (!def.contains("networks")) {
    if (legacy_network == "BRIDGE") def["networks"] = json::array{json::object{{"mode", "container/bridge"}}};
    else if (legacy_network == "USER") def["networks"] = json::array{json::object{{"mode", "container"}}};
    else def["networks"] = json::array{json::object{{"mode", "host"}}};
  }
  const auto mode = str_at(def.at("networks").get_array().empty() || !def.at("networks").get_array().front().is_object()
                               ? json::object{}
                               : def.at("networks").get_array().front().get_object(),
                           "mode");
  if ((mode.empty() || mode == "host") && !def.contains("portDefinitions")) {
    json::array pds;
    if (auto* legacy = arr_at(def, "ports")) {
      for (const auto& p : *legacy) pds.push_back(json::object{{"port", p}, {"protocol", "tcp"}});
    } else {
      pds.push_back(json::object{{"port", 0}, {"protocol", "tcp"}, {"name", "default"}});
    }
    def["portDefinitions"] = std::move(pds);
  }
  spec.definition = std::move(def);
  derive_needs(spec);
  return spec;
}

}  // namespace hmc::marathon_sim
