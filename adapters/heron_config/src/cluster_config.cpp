#include "hmc/heron_config/cluster_config.hpp"

#include "yaml_fields.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>

namespace hmc::config {

namespace {

namespace fs = std::filesystem;
using detail::as_bool;
using detail::as_integer;
using detail::as_millis;
using detail::as_string;

std::string env_or(const char* name, const std::string& fallback = {}) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// One key of a Heron file: its name and what to do with its value.
struct KeySpec {
  std::string name;
  std::function<void(const YAML::Node&)> apply;
};

// Heron keys that may appear in these files but mean nothing to the
// controller; accepted without a warning.
const std::vector<std::string> kIgnoredSchedulerKeys = {
    "heron.class.scheduler", "heron.class.launcher",
    "heron.class.uploader", "heron.class.packing.algorithm", "heron.class.repacking.algorithm",
};
const std::vector<std::string> kIgnoredStatemgrKeys = {
    "heron.class.state.manager", "heron.statemgr.localfs.is.initialize.file.tree",
};

// Reads every key of `root` through `specs`; directory keys (prefix
// "heron.directory.") go to `directories` untouched.
void read_keys(const YAML::Node& root, const std::string& file, const std::vector<KeySpec>& specs,
               const std::vector<std::string>& ignored, std::map<std::string, YAML::Node>* directories,
               std::vector<std::string>* warnings) {
  std::vector<std::string> known;
  for (const auto& s : specs) known.push_back(s.name);
  known.insert(known.end(), ignored.begin(), ignored.end());
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string{};
    if (key.empty()) throw ConfigError(file, "", "keys must be plain strings, got " + detail::describe(kv.first));
    static const std::string dir_prefix = "heron.directory.";
    if (directories && key.rfind(dir_prefix, 0) == 0 && key.size() > dir_prefix.size()) {
      if (!kv.second.IsNull() && !kv.second.IsScalar()) (void)as_string(kv.second, file, key);
      (*directories)[key.substr(dir_prefix.size())] = kv.second;
      continue;
    }
    auto it = std::find_if(specs.begin(), specs.end(), [&](const KeySpec& s) { return s.name == key; });
    if (it != specs.end()) {
      if (!kv.second.IsNull()) it->apply(kv.second);
      continue;
    }
    if (std::find(ignored.begin(), ignored.end(), key) != ignored.end()) continue;
    if (warnings) warnings->push_back(detail::unknown_key_warning(file, key, known));
  }
}

}  // namespace

std::string substitute(const std::string& value, const std::map<std::string, std::string>& variables,
                       std::vector<std::string>* unresolved) {
  auto lookup = [&](const std::string& name, std::string* out) {
    if (auto it = variables.find(name); it != variables.end()) {
      *out = it->second;
      return true;
    }
    if (name == "TOPOLOGY") return false;  // per topology: resolved at submit time
    if (const char* v = std::getenv(name.c_str())) {
      *out = v;
      return true;
    }
    if (unresolved) unresolved->push_back(name);
    return false;
  };

  std::string out;
  std::size_t i = 0;
  if (value == "~" || value.rfind("~/", 0) == 0) {
    std::string home;
    if (lookup("HOME", &home)) {
      out = home;
      i = 1;
    }
  }
  while (i < value.size()) {
    const char c = value[i];
    if (c != '$' || i + 1 >= value.size()) {
      out += c;
      ++i;
      continue;
    }
    std::size_t name_begin = 0, name_end = 0, next = 0;
    if (value[i + 1] == '{') {
      const std::size_t close = value.find('}', i + 2);
      if (close == std::string::npos) {
        out += value.substr(i);
        break;
      }
      name_begin = i + 2;
      name_end = close;
      next = close + 1;
    } else if (is_name_start(value[i + 1])) {
      name_begin = i + 1;
      name_end = name_begin;
      while (name_end < value.size() && is_name_char(value[name_end])) ++name_end;
      next = name_end;
    } else {
      out += c;
      ++i;
      continue;
    }
    const std::string name = value.substr(name_begin, name_end - name_begin);
    std::string replacement;
    bool valid = !name.empty() && is_name_start(name[0]) &&
                 std::all_of(name.begin(), name.end(), is_name_char);
    if (valid && lookup(name, &replacement)) {
      out += replacement;
    } else {
      out += value.substr(i, next - i);
    }
    i = next;
  }
  return out;
}

HeronClusterConfig load_cluster_config(const std::string& dir, std::vector<std::string>* warnings,
                                       const SubstitutionOptions& substitution) {
  HeronClusterConfig config;
  config.dir = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw ConfigError(dir, "", "not a directory (expected a Heron cluster conf dir with scheduler.yaml and statemgr.yaml)");
  }
  const fs::path abs = fs::absolute(fs::path(dir)).lexically_normal();
  const std::string dir_name = (abs.has_filename() ? abs.filename() : abs.parent_path().filename()).string();
  config.cluster = substitution.cluster.empty() ? dir_name : substitution.cluster;

  const std::string scheduler_file = (fs::path(dir) / "scheduler.yaml").string();
  const std::string statemgr_file = (fs::path(dir) / "statemgr.yaml").string();
  const YAML::Node scheduler_root = detail::load_yaml_map(scheduler_file);
  const YAML::Node statemgr_root = detail::load_yaml_map(statemgr_file);

  // Values that take substitution are collected raw and expanded once every
  // variable is known (directories can refer to one another).
  struct Deferred {
    std::string file, key;
    std::string* target;
    std::string raw;
  };
  std::vector<Deferred> deferred;
  auto text = [&](const std::string& file, const std::string& key, std::string* target) {
    return KeySpec{key, [&deferred, file, key, target](const YAML::Node& n) {
                     deferred.push_back({file, key, target, as_string(n, file, key)});
                   }};
  };
  auto flag = [](const std::string& file, const std::string& key, bool* target) {
    return KeySpec{key, [file, key, target](const YAML::Node& n) { *target = as_bool(n, file, key); }};
  };
  auto millis = [](const std::string& file, const std::string& key, std::chrono::milliseconds* target) {
    return KeySpec{key, [file, key, target](const YAML::Node& n) { *target = as_millis(n, file, key); }};
  };
  auto count = [](const std::string& file, const std::string& key, int* target, int min_value) {
    return KeySpec{key, [file, key, target, min_value](const YAML::Node& n) {
                     const long long v = as_integer(n, file, key, min_value);
                     if (v > 1000000) throw ConfigError(file, key, "expected an integer up to 1000000, got " + std::to_string(v));
                     *target = static_cast<int>(v);
                   }};
  };

  SchedulerConfig& sc = config.scheduler;
  std::map<std::string, YAML::Node> raw_directories;
  {
    const std::string& f = scheduler_file;
    std::vector<KeySpec> specs = {
        text(f, "heron.marathon.scheduler.uri", &sc.marathon_uri),
        KeySpec{"heron.marathon.scheduler.auth.token",
                [&sc, f](const YAML::Node& n) { sc.auth_token = as_string(n, f, "heron.marathon.scheduler.auth.token"); }},
        text(f, "heron.executor.docker.image", &sc.docker_image),
        text(f, "heron.package.core.uri", &sc.core_uri),
        flag(f, "heron.scheduler.is.service", &sc.is_service),
    };
    read_keys(scheduler_root, f, specs, kIgnoredSchedulerKeys, &raw_directories, warnings);
  }

  StateManagerConfig& st = config.statemgr;
  TunnelConfig& tu = st.tunnel;
  {
    const std::string& f = statemgr_file;
    const std::string zk = "heron.statemgr.zookeeper.";
    const std::string tn = "heron.statemgr.tunnel.";
    std::vector<KeySpec> specs = {
        text(f, "heron.statemgr.connection.string", &st.connection_string),
        text(f, "heron.statemgr.root.path", &st.root_path),
        flag(f, zk + "is.initialize.tree", &st.initialize_tree),
        millis(f, zk + "session.timeout.ms", &st.session_timeout),
        millis(f, zk + "connection.timeout.ms", &st.connection_timeout),
        count(f, zk + "retry.count", &st.retry_count, 0),
        millis(f, zk + "retry.interval.ms", &st.retry_interval),
        flag(f, "heron.statemgr.is.tunnel.needed", &tu.needed),
        text(f, tn + "host", &tu.host),
        millis(f, tn + "connection.timeout.ms", &tu.connection_timeout),
        count(f, tn + "connection.retry.count", &tu.connection_retry_count, 0),
        millis(f, tn + "retry.interval.ms", &tu.retry_interval),
        count(f, tn + "verify.count", &tu.verify_count, 1),
        text(f, tn + "key.file", &tu.key_file),
        text(f, tn + "key.passphrase.file", &tu.passphrase_file),
        text(f, tn + "known.hosts.file", &tu.known_hosts_file),
        flag(f, tn + "accept.unknown.host.key", &tu.accept_unknown_host_key),
        flag(f, tn + "use.agent", &tu.use_agent),
        millis(f, tn + "keepalive.interval.ms", &tu.keepalive_interval),
    };
    read_keys(statemgr_root, f, specs, kIgnoredStatemgrKeys, nullptr, warnings);
  }

  // Variables: Heron's own names, then the caller's overrides on top.
  std::map<std::string, std::string> vars;
  vars["HOME"] = env_or("HOME");
  vars["CLUSTER"] = config.cluster;
  vars["ROLE"] = substitution.role.empty() ? env_or("USER", env_or("LOGNAME")) : substitution.role;
  vars["ENVIRON"] = substitution.environ.empty() ? std::string("default") : substitution.environ;
  vars["HERON_CONF"] = abs.string();
  if (const char* h = std::getenv("HERON_HOME")) vars["HERON_HOME"] = h;
  for (const auto& [k, v] : substitution.variables) vars[k] = v;

  auto expand = [&](const std::string& file, const std::string& key, const std::string& raw) {
    std::vector<std::string> unresolved;
    std::string value = substitute(raw, vars, &unresolved);
    if (warnings) {
      for (const auto& name : unresolved) {
        warnings->push_back(file + ": key '" + key + "': ${" + name + "} is not defined and is left as written");
      }
    }
    return value;
  };

  // heron.directory.home first: the others are usually written relative to it.
  auto dir_var = [](std::string suffix) {
    std::string name = "HERON_";
    for (char c : suffix) name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
  };
  std::vector<std::string> order;
  if (raw_directories.count("home")) order.push_back("home");
  for (const auto& [suffix, node] : raw_directories) {
    if (suffix != "home") order.push_back(suffix);
  }
  for (const auto& suffix : order) {
    const std::string key = "heron.directory." + suffix;
    const std::string value = expand(scheduler_file, key, as_string(raw_directories[suffix], scheduler_file, key));
    sc.directories[suffix] = value;
    if (!substitution.variables.count(dir_var(suffix))) vars[dir_var(suffix)] = value;
    if (suffix == "home") {
      for (const char* sub : {"bin", "lib", "dist", "etc"}) {
        std::string upper = dir_var(sub);
        if (!raw_directories.count(sub) && !substitution.variables.count(upper)) vars[upper] = value + "/" + sub;
      }
    }
  }
  for (const auto& d : deferred) *d.target = expand(d.file, d.key, d.raw);

  // Cross-key checks that a single value cannot express.
  if (tu.needed && tu.host.empty()) {
    throw ConfigError(statemgr_file, "heron.statemgr.tunnel.host",
                      "expected user@host[:port] because heron.statemgr.is.tunnel.needed is true, got nothing");
  }
  if (!st.root_path.empty() && st.root_path[0] != '/') {
    throw ConfigError(statemgr_file, "heron.statemgr.root.path",
                      "expected an absolute ZooKeeper path starting with '/', got '" + st.root_path + "'");
  }
  return config;
}

}  // namespace hmc::config
