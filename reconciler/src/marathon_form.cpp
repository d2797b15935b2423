// The Marathon form of a topology: Heron's own MarathonScheduler layout (one
// app per container, container 0 the TManager, nine named ports in a fixed
// order) plus the controller's ownership labels.

#include "hmc/reconciler/reconcile.hpp"

#include "json_util.hpp"

#include "hmc/common/json_text.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace hmc::reconciler {

namespace json = boost::json;

namespace {

struct PortSpec {
  const char* name;
  const char* flag;
};

// $PORT0..$PORT8 in this order, names and flags always agree.
constexpr std::array<PortSpec, 9> kPorts = {{
    {"server", "--server-port"},
    {"tmanager-ctl", "--tmanager-controller-port"},
    {"tmanager-stats", "--tmanager-stats-port"},
    {"shell-port", "--shell-port"},
    {"metrics-mgr", "--metrics-manager-port"},
    {"scheduler", "--scheduler-port"},
    {"metrics-cache-m", "--metricscache-manager-server-port"},
    {"metrics-cache-s", "--metricscache-manager-stats-port"},
    {"ckptmgr", "--checkpoint-manager-port"},
}};

constexpr const char* kExecutorBinary = "./heron-core/bin/heron-executor";

bool shell_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '/' || c == '=' || c == ':' || c == ',' ||
         c == '@' || c == '%' || c == '+';
}

std::string shell_quote(std::string_view s) {
  bool safe = !s.empty();
  for (char c : s) safe = safe && shell_safe(c);
  if (safe) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  out += "'";
  return out;
}

std::string trim_slash(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.empty() || s.front() != '/') s.insert(s.begin(), '/');
  return s;
}

void fnv(std::uint64_t& h, std::string_view s) {
  // Length prefix so that field boundaries cannot shift between fields.
  const std::string len = std::to_string(s.size()) + ":";
  for (char c : len) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
}

std::string fmt_number(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

}  // namespace

std::string resolved_image(const ReconcilerConfig& cfg, const DesiredTopology& t) {
  return t.image.empty() ? cfg.default_image : t.image;
}

std::string resolved_core_uri(const ReconcilerConfig& cfg, const DesiredTopology& t) {
  return t.core_uri.empty() ? cfg.default_core_uri : t.core_uri;
}

std::string group_id_for(const ReconcilerConfig& cfg, std::string_view name) {
  std::string root = trim_slash(cfg.group_root);
  if (root != "/") root += "/";
  return root + std::string(name);
}

std::string app_id_for(const ReconcilerConfig& cfg, std::string_view name, int index) {
  return group_id_for(cfg, name) + "/" + std::to_string(index);
}

std::string executor_command(const ReconcilerConfig& cfg, const DesiredTopology& t, int index) {
  const std::string topology_id = t.topology_id.empty() ? t.name : t.topology_id;
  const std::string defn = t.topology_defn_file.empty() ? t.name + ".defn" : t.topology_defn_file;
  std::string cmd = "cd $MESOS_SANDBOX && ";
  cmd += kExecutorBinary;
  cmd += " --shard=" + std::to_string(index);
  cmd += " --topology-name=" + shell_quote(t.name);
  cmd += " --topology-id=" + shell_quote(topology_id);
  cmd += " --topology-defn-file=" + shell_quote(defn);
  cmd += " --state-manager-connection=" + shell_quote(cfg.state_manager_connection);
  cmd += " --state-manager-root=" + shell_quote(cfg.heron_root);
  cmd += " --cluster=" + shell_quote(t.cluster);
  cmd += " --role=" + shell_quote(t.role);
  cmd += " --environment=" + shell_quote(t.environ);
  for (std::size_t i = 0; i < kPorts.size(); ++i)
    cmd += std::string(" ") + kPorts[i].flag + "=$PORT" + std::to_string(i);
  for (const auto& a : t.executor_args) cmd += " " + shell_quote(a);
  return cmd;
}

std::vector<std::string> port_names() {
  std::vector<std::string> out;
  for (const auto& p : kPorts) out.emplace_back(p.name);
  return out;
}

std::vector<ExpectedApp> expected_apps(const ReconcilerConfig& cfg, const DesiredTopology& t,
                                       int instances) {
  std::vector<ExpectedApp> out;
  const std::string image = resolved_image(cfg, t);
  for (int i = 0; i <= t.containers; ++i)
    out.push_back({app_id_for(cfg, t.name, i), instances, t.resources.cpus, t.resources.mem,
                   t.resources.disk, image, executor_command(cfg, t, i)});
  return out;
}

// Leaves out state, onStuck and restart: they change what runs, not the apps.
std::string spec_hash(const ReconcilerConfig& cfg, const DesiredTopology& t) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  fnv(h, "hmc-spec-v1");
  fnv(h, group_id_for(cfg, t.name));
  fnv(h, t.cluster);
  fnv(h, t.role);
  fnv(h, t.environ);
  fnv(h, std::to_string(t.containers));
  fnv(h, fmt_number(t.resources.cpus));
  fnv(h, fmt_number(t.resources.mem));
  fnv(h, fmt_number(t.resources.disk));
  fnv(h, resolved_image(cfg, t));
  fnv(h, t.package);
  fnv(h, resolved_core_uri(cfg, t));
  fnv(h, t.topology_id);
  fnv(h, t.topology_defn_file);
  // A new topology definition rolls the containers (they read it at start).
  // Left out when there is none, so the hash of such a node is unchanged.
  if (!t.topology_defn.empty()) {
    fnv(h, "defn");
    fnv(h, std::to_string(text_digest(t.topology_defn)));
  }
  fnv(h, cfg.state_manager_connection);
  fnv(h, cfg.heron_root);
  fnv(h, "args");
  for (const auto& a : t.executor_args) fnv(h, a);
  fnv(h, "env");
  for (const auto& [k, v] : t.env) {
    fnv(h, k);
    fnv(h, v);
  }
  fnv(h, "labels");
  for (const auto& [k, v] : t.labels) {
    fnv(h, k);
    fnv(h, v);
  }
  fnv(h, "constraints");
  for (const auto& c : t.constraints) {
    fnv(h, std::to_string(c.size()));
    for (const auto& s : c) fnv(h, s);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Written as text, not as a Boost.JSON tree then serialized: a mass submit
// builds one body per topology, and the tree cost 25 us where this costs a few.
// Keys come in the order the tree had them; tests parse the body.
std::string build_group_json(const ReconcilerConfig& cfg, const DesiredTopology& t, int instances) {
  using json_text::append_key;
  using json_text::append_string;
  const std::string hash = spec_hash(cfg, t);
  const std::string image = resolved_image(cfg, t);
  const std::string core = resolved_core_uri(cfg, t);
  const std::string group_id = group_id_for(cfg, t.name);
  auto number = [](std::string& out, double d) {
    const json::value v = detail::number(d);
    if (v.is_int64()) json_text::append_int(out, v.get_int64());
    else out += json::serialize(v);
  };
  // `,"key":"value"`: every label after the first, every env entry after the first.
  auto string_member = [](std::string& out, std::string_view k, std::string_view v, bool comma) {
    if (comma) out += ',';
    append_key(out, k);
    append_string(out, v);
  };
  std::string out;
  out.reserve(2048 * static_cast<std::size_t>(t.containers + 1));
  out += "{\"id\":";
  append_string(out, group_id);
  out += ",\"apps\":[";
  for (int i = 0; i <= t.containers; ++i) {
    if (i) out += ',';
    out += "{\"id\":";
    append_string(out, group_id + "/" + std::to_string(i));
    out += ",\"instances\":";
    json_text::append_int(out, instances);
    out += ",\"cpus\":";
    number(out, t.resources.cpus);
    out += ",\"mem\":";
    number(out, t.resources.mem);
    out += ",\"disk\":";
    number(out, t.resources.disk);
    out += ",\"cmd\":";
    append_string(out, executor_command(cfg, t, i));
    out += ",\"container\":{\"type\":\"DOCKER\",\"docker\":{\"image\":";
    append_string(out, image);
    out += ",\"network\":\"BRIDGE\",\"privileged\":false,\"forcePullImage\":true,\"portMappings\":[";
    for (std::size_t p = 0; p < kPorts.size(); ++p) {
      if (p) out += ',';
      out += "{\"containerPort\":0,\"hostPort\":0,\"protocol\":\"tcp\",\"name\":";
      append_string(out, kPorts[p].name);
      out += '}';
    }
    out += "]}},\"labels\":{\"environment\":";
    append_string(out, t.environ);
    const std::pair<const char*, std::string> own[] = {{kLabelManagedBy, kManagedByValue},
                                                       {kLabelTopology, t.name},
                                                       {kLabelSpecHash, hash},
                                                       {kLabelContainerIndex, std::to_string(i)},
                                                       {kLabelDesiredInstances, "1"}};
    for (const auto& [k, v] : own) string_member(out, k, v, true);
    // The user's labels after the controller's; a user label never replaces one.
    for (const auto& [k, v] : t.labels) {
      // A named copy for the lambda: clang 14 (the fuzz build) cannot capture structured bindings.
      const std::string& key = k;
      if (key == "environment" || std::any_of(std::begin(own), std::end(own), [&](const auto& o) { return key == o.first; }))
        continue;
      string_member(out, k, v, true);
    }
    out += "},\"fetch\":[";
    auto add_fetch = [&](const std::string& uri, bool first) {
      if (!first) out += ',';
      out += "{\"uri\":";
      append_string(out, uri);
      out += ",\"executable\":false,\"extract\":true,\"cache\":false}";
    };
    add_fetch(t.package, true);
    if (!core.empty()) add_fetch(core, false);
    out += ']';
    if (!t.env.empty()) {
      out += ",\"env\":{";
      bool comma = false;
      for (const auto& [k, v] : t.env) string_member(out, k, v, std::exchange(comma, true));
      out += '}';
    }
    if (!t.constraints.empty()) {
      out += ",\"constraints\":[";
      for (std::size_t c = 0; c < t.constraints.size(); ++c) {
        if (c) out += ',';
        out += '[';
        for (std::size_t f = 0; f < t.constraints[c].size(); ++f) {
          if (f) out += ',';
          append_string(out, t.constraints[c][f]);
        }
        out += ']';
      }
      out += ']';
    }
    out += '}';
  }
  out += "]}";
  return out;
}

std::vector<std::string> heron_state_paths(const ReconcilerConfig& cfg, std::string_view name) {
  std::string root = trim_slash(cfg.heron_root);
  if (root == "/") root.clear();
  const std::string n(name);
  return {
      root + "/tmanagers/" + n,
      root + "/tmasters/" + n,
      root + "/metricscaches/" + n,
      root + "/packingplans/" + n,
      root + "/pplans/" + n,
      root + "/schedulers/" + n,
      root + "/locks/" + n + "__updateTopology",
      root + "/executionstate/" + n,
      root + "/topologies/" + n,
  };
}

}  // namespace hmc::reconciler
