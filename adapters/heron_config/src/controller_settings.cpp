#include "hmc/heron_config/controller_settings.hpp"

#include "yaml_fields.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>

namespace hmc::config {

namespace {

using detail::as_bool;
using detail::as_duration;
using detail::as_integer;
using detail::as_number;
using detail::as_string;

using Apply = std::function<void(const YAML::Node&, const std::string& key)>;

// A section of the file: its keys, each either a value or a nested section.
struct Section {
  std::map<std::string, Apply> values;
  std::map<std::string, Section> sections;
};

void read_section(const YAML::Node& node, const std::string& prefix, const Section& section,
                  const std::string& file, std::vector<std::string>* warnings) {
  std::vector<std::string> known;
  for (const auto& [k, v] : section.values) known.push_back(prefix + k);
  for (const auto& [k, v] : section.sections) known.push_back(prefix + k);
  for (const auto& kv : node) {
    const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : std::string{};
    const std::string key = prefix + name;
    if (name.empty()) throw ConfigError(file, "", "keys must be plain strings, got " + detail::describe(kv.first));
    if (auto it = section.values.find(name); it != section.values.end()) {
      if (!kv.second.IsNull()) it->second(kv.second, key);
    } else if (auto sit = section.sections.find(name); sit != section.sections.end()) {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) throw ConfigError(file, key, "expected a map of settings, got " + detail::describe(kv.second));
      read_section(kv.second, key + ".", sit->second, file, warnings);
    } else if (warnings) {
      warnings->push_back(detail::unknown_key_warning(file, key, known));
    }
  }
}

void check_address(const std::string& file, const std::string& key, const std::string& value) {
  const auto colon = value.rfind(':');
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < value.size();
  if (ok) {
    const std::string port = value.substr(colon + 1);
    ok = port.find_first_not_of("0123456789") == std::string::npos && port.size() <= 5 && std::stoi(port) <= 65535;
  }
  if (!ok) throw ConfigError(file, key, "expected HOST:PORT, got '" + value + "'");
}

void check_path(const std::string& file, const std::string& key, const std::string& value) {
  if (value.empty() || value[0] != '/' || (value.size() > 1 && value.back() == '/')) {
    throw ConfigError(file, key, "expected an absolute path like /a/b, got '" + value + "'");
  }
}

void check_choice(const std::string& file, const std::string& key, const std::string& value,
                  const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : " | ") + c;
  throw ConfigError(file, key, "expected one of " + list + ", got '" + value + "'");
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string read_token_file(const std::string& path, const std::string& origin) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path, "", "cannot read the Marathon token file given by " + origin);
  std::string line;
  std::getline(in, line);
  line = trim(line);
  if (line.empty()) throw ConfigError(path, "", "the Marathon token file given by " + origin + " is empty");
  return line;
}

}  // namespace

ControllerSettings load_controller_settings(const std::string& path, std::vector<std::string>* warnings) {
  const YAML::Node root = detail::load_yaml_map(path);
  ControllerSettings s;
  const std::string& f = path;

  auto str = [&f](std::string* target, std::function<void(const std::string&, const std::string&)> check = {}) {
    return Apply([&f, target, check](const YAML::Node& n, const std::string& key) {
      std::string v = as_string(n, f, key);
      if (check) check(key, v);
      *target = std::move(v);
    });
  };
  auto duration = [&f](std::chrono::milliseconds* target) {
    return Apply([&f, target](const YAML::Node& n, const std::string& key) { *target = as_duration(n, f, key); });
  };
  auto positive = [&f](int* target) {
    return Apply([&f, target](const YAML::Node& n, const std::string& key) {
      const long long v = as_integer(n, f, key, 1);
      if (v > 100000) throw ConfigError(f, key, "expected a positive integer up to 100000, got " + std::to_string(v));
      *target = static_cast<int>(v);
    });
  };
  auto flag = [&f](bool* target) {
    return Apply([&f, target](const YAML::Node& n, const std::string& key) { *target = as_bool(n, f, key); });
  };
  auto address = [&f](const std::string& key, const std::string& v) { check_address(f, key, v); };
  auto zk_path = [&f](const std::string& key, const std::string& v) { check_path(f, key, v); };

  Section top;
  top.values = {
      {"metrics_address", str(&s.metrics_address, address)},
      {"health_address", str(&s.health_address, address)},
      {"resync_period", duration(&s.resync_period)},
      {"workers", positive(&s.workers)},
      {"controller_root", str(&s.controller_root, zk_path)},
      {"group_root", str(&s.group_root, zk_path)},
  };
  Section& policies = top.sections["policies"];
  policies.values = {
      {"remove_orphan_groups", flag(&s.policies.remove_orphan_groups)},
      {"clean_orphan_heron_state", flag(&s.policies.clean_orphan_heron_state)},
      {"orphan_state_grace", duration(&s.policies.orphan_state_grace)},
      {"kill_force_after", duration(&s.policies.kill_force_after)},
      {"waiting_deadline", duration(&s.policies.waiting_deadline)},
      {"waiting_threshold", duration(&s.policies.waiting_threshold)},
      {"offer_window", duration(&s.policies.offer_window)},
      {"failure_window", duration(&s.policies.failure_window)},
  };
  Section& marathon = top.sections["marathon"];
  marathon.values = {
      {"request_timeout", duration(&s.marathon.request_timeout)},
      {"max_connections", positive(&s.marathon.max_connections)},
      {"qps", Apply([&](const YAML::Node& n, const std::string& key) { s.marathon.qps = as_number(n, f, key, 0); })},
      {"burst", positive(&s.marathon.burst)},
      {"token_file", str(&s.marathon.token_file)},
      {"dcos_credential_file", str(&s.marathon.dcos_credential_file)},
      {"dcos_token_lifetime", duration(&s.marathon.dcos_token_lifetime)},
  };
  Section& log = top.sections["log"];
  log.values = {
      {"level", str(&s.log_level, [&f](const std::string& key, const std::string& v) {
         check_choice(f, key, v, {"debug", "info", "warn", "error"});
       })},
      {"format", str(&s.log_format, [&f](const std::string& key, const std::string& v) {
         check_choice(f, key, v, {"logfmt", "json"});
       })},
  };
  read_section(root, "", top, f, warnings);

  if (s.resync_period.count() == 0) {
    throw ConfigError(f, "resync_period", "expected a duration greater than 0, got '0'");
  }
  if (s.marathon.dcos_token_lifetime.count() == 0) {
    throw ConfigError(f, "marathon.dcos_token_lifetime", "expected a duration greater than 0, got '0'");
  }
  if (s.marathon.request_timeout.count() == 0) {
    throw ConfigError(f, "marathon.request_timeout", "expected a duration greater than 0, got '0'");
  }
  if (s.policies.failure_window.count() == 0) {  // a window of 0 would count no failure
    throw ConfigError(f, "policies.failure_window", "expected a duration greater than 0, got '0'");
  }
  return s;
}

std::string resolve_marathon_token(const TokenSources& sources) {
  if (!sources.token_file_flag.empty()) return read_token_file(sources.token_file_flag, "--marathon-token-file");
  if (const char* env = std::getenv("HMC_MARATHON_TOKEN")) {
    const std::string token = trim(env);
    if (!token.empty()) return token;
  }
  if (!sources.settings_token_file.empty()) {
    return read_token_file(sources.settings_token_file, "marathon.token_file");
  }
  return trim(sources.scheduler_token);
}

std::optional<DcosCredentialText> resolve_dcos_credential(const std::string& file_flag,
                                                          const std::string& settings_file) {
  auto from_file = [](const std::string& path, const std::string& origin) {
    std::ifstream in(path);
    if (!in) throw ConfigError(path, "", "cannot read the DC/OS service-account credential given by " + origin);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (trim(text).empty()) {
      throw ConfigError(path, "", "the DC/OS service-account credential given by " + origin + " is empty");
    }
    return DcosCredentialText{std::move(text), origin + " " + path};
  };
  if (!file_flag.empty()) return from_file(file_flag, "--dcos-credential-file");
  if (const char* env = std::getenv("DCOS_SERVICE_ACCOUNT_CREDENTIAL"); env != nullptr && !trim(env).empty()) {
    return DcosCredentialText{env, "DCOS_SERVICE_ACCOUNT_CREDENTIAL"};
  }
  if (!settings_file.empty()) return from_file(settings_file, "marathon.dcos_credential_file");
  return std::nullopt;
}

}  // namespace hmc::config
