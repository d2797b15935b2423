#include "hmc/reconciler/desired.hpp"

#include "json_util.hpp"
#include "restart_codec.hpp"

#include "hmc/common/base64.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

namespace hmc::reconciler {

namespace json = boost::json;
using detail::sv;

namespace {

constexpr double kMaxCpus = 1024;
constexpr double kMaxMem = 16.0 * 1024 * 1024;   // 16 TiB in MB
constexpr double kMaxDisk = 1024.0 * 1024 * 1024;  // 1 PiB in MB
constexpr std::size_t kMaxString = 4096;

// Flags the controller sets itself; a user's executorArgs may not override them.
constexpr std::array<std::string_view, 19> kManagedFlags = {
    "--shard", "--topology-name", "--topology-id", "--topology-defn-file",
    "--state-manager-connection", "--state-manager-root", "--cluster", "--role",
    "--environment", "--server-port", "--tmanager-controller-port", "--tmanager-stats-port",
    "--shell-port", "--metrics-manager-port", "--scheduler-port",
    "--metricscache-manager-server-port", "--metricscache-manager-stats-port",
    "--checkpoint-manager-port", "--master-port"};

constexpr std::array<std::string_view, 7> kConstraintOperators = {
    "UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"};

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool has_control_or_invalid(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// cluster, role, environ, topology ids: they end up on a shell command line.
std::string check_token(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 253) return "must be at most 253 characters";
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return "may only contain letters, digits, '-', '_' and '.'";
  }
  return {};
}

std::string check_uri(std::string_view s) {
  const auto pos = s.find("://");
  if (pos == std::string_view::npos || pos == 0)
    return "must be a URI of the form scheme://...";
  const auto scheme = s.substr(0, pos);
  if (!(scheme[0] >= 'a' && scheme[0] <= 'z') && !(scheme[0] >= 'A' && scheme[0] <= 'Z'))
    return "must be a URI of the form scheme://... (the scheme must start with a letter)";
  for (char c : scheme) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    if (!ok) return "must be a URI of the form scheme://... (invalid character in the scheme)";
  }
  const auto rest = s.substr(pos + 3);
  if (rest.empty()) return "must be a URI of the form scheme://... (nothing after the scheme)";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '"' || c == '\'' || c == '`' || c == '\\')
      return "must be a URI without spaces, quotes or control characters";
  }
  if (s.size() > kMaxString) return "must be at most 4096 characters";
  return {};
}

std::string check_image(std::string_view s) {
  if (s.size() > 512) return "must be at most 512 characters";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    const bool ok = std::isalnum(u) || c == '.' || c == '-' || c == '_' || c == '/' || c == ':' ||
                    c == '@';
    if (!ok) return "must be a docker image reference (letters, digits, . - _ / : @)";
  }
  return {};
}

std::string check_env_name(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return "must start with a letter or '_'";
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return "may only contain letters, digits and '_'";
  return {};
}

void check_resource(std::vector<FieldError>& errs, const char* path, double v, double max) {
  if (!std::isfinite(v)) errs.push_back({path, "must be a finite number"});
  else if (v <= 0) errs.push_back({path, "must be > 0"});
  else if (v > max) errs.push_back({path, "must be <= " + std::to_string(static_cast<long long>(max))});
}

void validate_into(const DesiredTopology& t, std::vector<FieldError>& errs) {
  if (t.schema_version != kDesiredSchemaVersion)
    errs.push_back({"/schemaVersion", "must be 1"});
  if (auto r = check_name(t.name); !r.empty()) errs.push_back({"/name", r});
  if (auto r = check_token(t.cluster); !r.empty()) errs.push_back({"/cluster", r});
  if (auto r = check_token(t.role); !r.empty()) errs.push_back({"/role", r});
  if (auto r = check_token(t.environ); !r.empty()) errs.push_back({"/environ", r});
  if (t.containers < 1) errs.push_back({"/containers", "must be >= 1"});
  else if (t.containers > kMaxContainers)
    errs.push_back({"/containers", "must be <= " + std::to_string(kMaxContainers)});
  check_resource(errs, "/resources/cpus", t.resources.cpus, kMaxCpus);
  check_resource(errs, "/resources/mem", t.resources.mem, kMaxMem);
  check_resource(errs, "/resources/disk", t.resources.disk, kMaxDisk);
  if (auto r = check_image(t.image); !r.empty()) errs.push_back({"/image", r});
  if (t.package.empty()) errs.push_back({"/package", "is required"});
  else if (auto r = check_uri(t.package); !r.empty()) errs.push_back({"/package", r});
  if (!t.core_uri.empty())
    if (auto r = check_uri(t.core_uri); !r.empty()) errs.push_back({"/coreUri", r});
  if (!t.topology_id.empty())
    if (auto r = check_token(t.topology_id); !r.empty()) errs.push_back({"/topologyId", r});
  if (!t.topology_defn_file.empty()) {
    if (auto r = check_token(t.topology_defn_file); !r.empty())
      errs.push_back({"/topologyDefnFile", r});
  }
  if (!t.topology_defn.empty()) {
    // Decoding only checks the encoding; the Topology inside is checked by
    // the controller (hmc::heron_state::decode_topology), which reports it
    // the same way (SpecValid=False).
    const auto bytes = base64_decode(t.topology_defn);
    if (!bytes) errs.push_back({"/topologyDefn", "must be standard base64 (RFC 4648, with padding)"});
    else if (bytes->size() > kMaxTopologyDefnBytes)
      errs.push_back({"/topologyDefn", "must decode to at most " + std::to_string(kMaxTopologyDefnBytes) +
                                           " bytes (it decodes to " + std::to_string(bytes->size()) + ")"});
  }
  if (!t.submission_user.empty())
    if (auto r = check_token(t.submission_user); !r.empty()) errs.push_back({"/submissionUser", r});
  if (t.executor_args.size() > 256) errs.push_back({"/executorArgs", "must have at most 256 entries"});
  for (std::size_t i = 0; i < t.executor_args.size(); ++i) {
    const auto& a = t.executor_args[i];
    const std::string path = "/executorArgs/" + std::to_string(i);
    if (a.empty()) errs.push_back({path, "must not be empty"});
    else if (has_control_or_invalid(a)) errs.push_back({path, "must not contain control characters"});
    else if (a.size() > kMaxString) errs.push_back({path, "must be at most 4096 characters"});
    else {
      const auto flag = std::string_view(a).substr(0, a.find('='));
      if (std::find(kManagedFlags.begin(), kManagedFlags.end(), flag) != kManagedFlags.end())
        errs.push_back({path, "sets " + std::string(flag) + ", which the controller sets itself"});
    }
  }
  for (const auto& [k, v] : t.env) {
    const std::string path = "/env/" + k;
    if (auto r = check_env_name(k); !r.empty()) errs.push_back({path, "name " + r});
    else if (k.rfind("MESOS_", 0) == 0 || k.rfind("MARATHON_", 0) == 0 ||
             (k.rfind("PORT", 0) == 0 && k.size() > 4 &&
              std::all_of(k.begin() + 4, k.end(), [](char c) { return c >= '0' && c <= '9'; })) ||
             k == "PORT" || k == "PORTS" || k == "HOST")
      errs.push_back({path, "is set by Mesos or Marathon and may not be overridden"});
    if (v.find('\0') != std::string::npos)
      errs.push_back({path, "must not contain NUL"});
    if (v.size() > kMaxString) errs.push_back({path, "must be at most 4096 characters"});
  }
  for (const auto& [k, v] : t.labels) {
    const std::string path = "/labels/" + k;
    if (k.empty()) errs.push_back({"/labels", "label names must not be empty"});
    else if (k.rfind("heron-marathon/", 0) == 0 || k == "environment")
      errs.push_back({path, "is reserved for the controller"});
    else if (k.size() > 253 || has_control_or_invalid(k))
      errs.push_back({path, "name must be at most 253 characters without control characters"});
    if (v.size() > kMaxString || has_control_or_invalid(v))
      errs.push_back({path, "value must be at most 4096 characters without control characters"});
  }
  // Beside a topologyDefn without a containers override the count is the
  // packing plan's, which only the controller knows: bound by the maximum
  // (the reconciler restarts only apps that exist).
  detail::validate_restart(t.restart, t.containers_set ? t.containers : kMaxContainers, errs);
  for (std::size_t i = 0; i < t.constraints.size(); ++i) {
    const auto& c = t.constraints[i];
    const std::string path = "/constraints/" + std::to_string(i);
    if (c.size() < 2 || c.size() > 3) {
      errs.push_back({path, "must be [field, operator] or [field, operator, value]"});
      continue;
    }
    if (c[0].empty()) errs.push_back({path + "/0", "field must not be empty"});
    if (std::find(kConstraintOperators.begin(), kConstraintOperators.end(), c[1]) ==
        kConstraintOperators.end())
      errs.push_back({path + "/1",
                      "operator must be one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS"});
    for (const auto& s : c)
      if (has_control_or_invalid(s)) {
        errs.push_back({path, "must not contain control characters"});
        break;
      }
  }
}

// --- parsing ---------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::vector<FieldError>& errs) : errs_(errs) {}

  bool str(const json::value& v, const std::string& path, std::string& out) {
    if (!v.is_string()) return fail(path, "must be a string");
    out = std::string(sv(v.get_string()));
    return true;
  }
  bool num(const json::value& v, const std::string& path, double& out) {
    if (v.is_double()) out = v.get_double();
    else if (v.is_int64()) out = static_cast<double>(v.get_int64());
    else if (v.is_uint64()) out = static_cast<double>(v.get_uint64());
    else return fail(path, "must be a number");
    return true;
  }
  bool integer(const json::value& v, const std::string& path, long long& out) {
    if (v.is_int64()) out = v.get_int64();
    else if (v.is_uint64()) out = v.get_uint64() > 1'000'000'000ULL ? 1'000'000'000LL
                                                                   : static_cast<long long>(v.get_uint64());
    else if (v.is_double()) {
      const double d = v.get_double();
      if (!std::isfinite(d) || d != std::floor(d)) return fail(path, "must be an integer");
      out = d > 1e9 ? 1'000'000'000LL : (d < -1e9 ? -1'000'000'000LL : static_cast<long long>(d));
    } else return fail(path, "must be an integer");
    return true;
  }
  bool str_map(const json::value& v, const std::string& path, std::map<std::string, std::string>& out) {
    if (!v.is_object()) return fail(path, "must be an object of strings");
    for (const auto& kv : v.get_object()) {
      const std::string key(sv(kv.key()));
      std::string s;
      if (str(kv.value(), path + "/" + key, s)) out[key] = std::move(s);
    }
    return true;
  }
  bool str_list(const json::value& v, const std::string& path, std::vector<std::string>& out) {
    if (!v.is_array()) return fail(path, "must be an array of strings");
    std::size_t i = 0;
    for (const auto& e : v.get_array()) {
      std::string s;
      if (str(e, path + "/" + std::to_string(i), s)) out.push_back(std::move(s));
      ++i;
    }
    return true;
  }
  bool fail(const std::string& path, std::string msg) {
    errs_.push_back({path, std::move(msg)});
    return false;
  }

 private:
  std::vector<FieldError>& errs_;
};

}  // namespace

std::string SpecErrors::to_string() const {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += (e.path.empty() ? "/" : e.path) + ": " + e.message;
  }
  return out;
}

void throw_exception_from_error(const SpecErrors& e, const boost::source_location&) {
  throw std::invalid_argument("invalid desired topology: " + e.to_string());
}

std::string check_name(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 63) return "must be at most 63 characters";
  if (name == "." || name == ".." || name == "restart" || name == "tasks" || name == "versions")
    return "'" + std::string(name) + "' is reserved by Marathon";
  // Marathon: dot-separated labels of [a-z0-9-], each starting and ending alphanumeric.
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                                        : dot - start);
    if (label.empty()) return "must not have empty parts between dots";
    for (char c : label) {
      if (c >= 'A' && c <= 'Z') return "must be lower case (Marathon refuses upper case ids)";
      if (!is_lower_alnum(c) && c != '-')
        return "may only contain lower case letters, digits, '-' and '.'";
    }
    if (!is_lower_alnum(label.front()) || !is_lower_alnum(label.back()))
      return "each part must start and end with a letter or digit";
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

const char* to_string(DesiredState s) noexcept {
  switch (s) {
    case DesiredState::running: return "running";
    case DesiredState::suspended: return "suspended";
    case DesiredState::killed: return "killed";
  }
  return "unknown";
}

std::optional<DesiredState> parse_desired_state(std::string_view s) noexcept {
  if (s == "running") return DesiredState::running;
  if (s == "suspended") return DesiredState::suspended;
  if (s == "killed") return DesiredState::killed;
  return std::nullopt;
}

const char* to_string(OnStuck s) noexcept { return s == OnStuck::suspend ? "suspend" : "wait"; }

std::optional<OnStuck> parse_on_stuck(std::string_view s) noexcept {
  if (s == "wait") return OnStuck::wait;
  if (s == "suspend") return OnStuck::suspend;
  return std::nullopt;
}

std::vector<FieldError> validate(const DesiredTopology& t) {
  std::vector<FieldError> errs;
  validate_into(t, errs);
  return errs;
}

boost::system::result<DesiredTopology, SpecErrors> parse_desired(std::string_view text) {
  SpecErrors out;
  auto& errs = out.errors;
  std::string perr;
  const json::value root = detail::parse_bounded(text, perr);
  if (!perr.empty()) {
    errs.push_back({"", "not valid JSON: " + perr});
    return out;
  }
  if (!root.is_object()) {
    errs.push_back({"", "must be a JSON object"});
    return out;
  }
  DesiredTopology t;
  Reader rd(errs);
  const std::size_t parse_errors_before = errs.size();
  std::set<std::string> type_failed;  // fields whose value could not be read at all
  auto mark = [&](bool ok, const char* path) {
    if (!ok) type_failed.insert(path);
  };
  bool saw_name = false, saw_cluster = false, saw_role = false, saw_package = false;
  bool saw_containers = false, saw_resources = false;
  for (const auto& kv : root.get_object()) {
    const std::string_view key = sv(kv.key());
    const json::value& v = kv.value();
    long long n = 0;
    if (key == "schemaVersion") {
      if (rd.integer(v, "/schemaVersion", n)) t.schema_version = static_cast<int>(std::clamp(n, -1000000LL, 1000000LL));
      else mark(false, "/schemaVersion");
    } else if (key == "name") {
      saw_name = true;
      mark(rd.str(v, "/name", t.name), "/name");
    } else if (key == "cluster") {
      saw_cluster = true;
      mark(rd.str(v, "/cluster", t.cluster), "/cluster");
    } else if (key == "role") {
      saw_role = true;
      mark(rd.str(v, "/role", t.role), "/role");
    } else if (key == "environ") {
      mark(rd.str(v, "/environ", t.environ), "/environ");
    } else if (key == "containers") {
      saw_containers = true;
      if (rd.integer(v, "/containers", n))
        t.containers = static_cast<int>(std::clamp(n, -1'000'000'000LL, 1'000'000'000LL));
      else mark(false, "/containers");
    } else if (key == "resources") {
      saw_resources = true;
      if (!v.is_object()) {
        rd.fail("/resources", "must be an object with cpus, mem, disk");
        type_failed.insert("/resources");
        continue;
      }
      for (const auto& r : v.get_object()) {
        const std::string_view rk = sv(r.key());
        const std::string path = "/resources/" + std::string(rk);
        if (rk == "cpus") mark(rd.num(r.value(), path, t.resources.cpus), "/resources/cpus");
        else if (rk == "mem") mark(rd.num(r.value(), path, t.resources.mem), "/resources/mem");
        else if (rk == "disk") mark(rd.num(r.value(), path, t.resources.disk), "/resources/disk");
        else rd.fail(path, "unknown field");
      }
    } else if (key == "image") {
      mark(rd.str(v, "/image", t.image), "/image");
    } else if (key == "package") {
      saw_package = true;
      mark(rd.str(v, "/package", t.package), "/package");
    } else if (key == "coreUri") {
      mark(rd.str(v, "/coreUri", t.core_uri), "/coreUri");
    } else if (key == "topologyId") {
      mark(rd.str(v, "/topologyId", t.topology_id), "/topologyId");
    } else if (key == "topologyDefnFile") {
      mark(rd.str(v, "/topologyDefnFile", t.topology_defn_file), "/topologyDefnFile");
    } else if (key == "topologyDefn") {
      mark(rd.str(v, "/topologyDefn", t.topology_defn), "/topologyDefn");
      if (t.topology_defn.empty() && v.is_string()) rd.fail("/topologyDefn", "must not be empty");
    } else if (key == "submissionUser") {
      mark(rd.str(v, "/submissionUser", t.submission_user), "/submissionUser");
    } else if (key == "executorArgs") {
      rd.str_list(v, "/executorArgs", t.executor_args);
    } else if (key == "env") {
      rd.str_map(v, "/env", t.env);
    } else if (key == "labels") {
      rd.str_map(v, "/labels", t.labels);
    } else if (key == "constraints") {
      if (!v.is_array()) {
        rd.fail("/constraints", "must be an array of [field, operator, value?] arrays");
        continue;
      }
      std::size_t i = 0;
      for (const auto& c : v.get_array()) {
        std::vector<std::string> triple;
        if (rd.str_list(c, "/constraints/" + std::to_string(i), triple))
          t.constraints.push_back(std::move(triple));
        ++i;
      }
    } else if (key == "state") {
      std::string s;
      if (rd.str(v, "/state", s)) {
        if (auto st = parse_desired_state(s)) t.state = *st;
        else rd.fail("/state", "must be one of running, suspended, killed");
      }
    } else if (key == "restart") {
      const std::size_t before = errs.size();
      detail::parse_restart(v, t.restart, errs);
      if (errs.size() != before) type_failed.insert("/restart");
    } else if (key == "onStuck") {
      std::string s;
      if (rd.str(v, "/onStuck", s)) {
        if (auto st = parse_on_stuck(s)) t.on_stuck = *st;
        else rd.fail("/onStuck", "must be one of wait, suspend");
      }
    } else {
      rd.fail("/" + std::string(key), "unknown field");
    }
  }
  if (!saw_name) errs.push_back({"/name", "is required"});
  if (!saw_cluster) errs.push_back({"/cluster", "is required"});
  if (!saw_role) errs.push_back({"/role", "is required"});
  if (!saw_package) errs.push_back({"/package", "is required"});
  // With a topology definition, absent sizes come from Heron's packing plan.
  if (!t.topology_defn.empty()) {
    t.containers_set = saw_containers;
    t.resources_set = saw_resources;
  }
  (void)parse_errors_before;

  // Rules on values; skip fields already reported as missing or of the wrong type.
  std::vector<FieldError> rules;
  validate_into(t, rules);
  for (auto& e : rules) {
    const bool reported = std::any_of(errs.begin(), errs.end(), [&](const FieldError& x) {
      return x.path == e.path;
    });
    if (!reported && !type_failed.count(e.path)) errs.push_back(std::move(e));
  }
  if (!errs.empty()) return out;
  return t;
}

std::string to_json(const DesiredTopology& t) {
  // Built by hand in a fixed key order: boost::json::object keeps insertion
  // order, and we want the canonical form stable across versions.
  json::object o;
  o["schemaVersion"] = t.schema_version;
  o["name"] = t.name;
  o["cluster"] = t.cluster;
  o["role"] = t.role;
  o["environ"] = t.environ;
  const bool with_defn = !t.topology_defn.empty();
  if (!with_defn || t.containers_set) o["containers"] = t.containers;
  if (!with_defn || t.resources_set) {
    json::object r;
    r["cpus"] = detail::number(t.resources.cpus);
    r["mem"] = detail::number(t.resources.mem);
    r["disk"] = detail::number(t.resources.disk);
    o["resources"] = std::move(r);
  }
  if (!t.image.empty()) o["image"] = t.image;
  o["package"] = t.package;
  if (!t.core_uri.empty()) o["coreUri"] = t.core_uri;
  if (!t.topology_id.empty()) o["topologyId"] = t.topology_id;
  if (!t.topology_defn_file.empty()) o["topologyDefnFile"] = t.topology_defn_file;
  if (with_defn) o["topologyDefn"] = t.topology_defn;
  if (!t.submission_user.empty()) o["submissionUser"] = t.submission_user;
  if (!t.executor_args.empty()) o["executorArgs"] = detail::string_array(t.executor_args);
  if (!t.env.empty()) o["env"] = detail::string_map(t.env);
  if (!t.labels.empty()) o["labels"] = detail::string_map(t.labels);
  if (!t.constraints.empty()) o["constraints"] = detail::constraints_json(t.constraints);
  o["state"] = to_string(t.state);
  o["onStuck"] = to_string(t.on_stuck);
  if (!t.restart.empty()) o["restart"] = detail::restart_json(t.restart);
  return json::serialize(o);
}

}  // namespace hmc::reconciler
