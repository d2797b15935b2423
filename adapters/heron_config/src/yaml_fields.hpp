#pragma once
// Typed reads of YAML scalars with errors that name the file, the key and the
// expected type. Private to hmc_heron_config.

#include "hmc/heron_config/cluster_config.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <string>
#include <vector>

namespace hmc::config::detail {

// Parses the whole file. Throws ConfigError when it is missing, unreadable or
// not YAML; an empty file is an empty map. The top level must be a map.
YAML::Node load_yaml_map(const std::string& path);

// Each throws ConfigError(file, key, "expected <type>, got '<text>'").
std::string as_string(const YAML::Node& n, const std::string& file, const std::string& key);
bool as_bool(const YAML::Node& n, const std::string& file, const std::string& key);
long long as_integer(const YAML::Node& n, const std::string& file, const std::string& key,
                     long long min_value);
double as_number(const YAML::Node& n, const std::string& file, const std::string& key, double min_value);
std::chrono::milliseconds as_millis(const YAML::Node& n, const std::string& file, const std::string& key);
std::chrono::milliseconds as_duration(const YAML::Node& n, const std::string& file, const std::string& key);

// "<file>: unknown key '<key>' (did you mean '<closest>'?)" when a known key
// is a few edits away, else without the hint.
std::string unknown_key_warning(const std::string& file, const std::string& key,
                                const std::vector<std::string>& known);

// What a scalar looks like in an error message (shortened, or "a map"/"a list").
std::string describe(const YAML::Node& n);

}  // namespace hmc::config::detail
