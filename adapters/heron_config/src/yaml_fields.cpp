#include "hmc/common/duration.hpp"
#include "yaml_fields.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hmc::config {

namespace {

std::string compose(const std::string& file, const std::string& key, const std::string& problem) {
  if (key.empty()) return file + ": " + problem;
  return file + ": key '" + key + "': " + problem;
}

}  // namespace

ConfigError::ConfigError(std::string file, std::string key, std::string problem)
    : std::runtime_error(compose(file, key, problem)), file_(std::move(file)), key_(std::move(key)) {}

namespace detail {

YAML::Node load_yaml_map(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path, "", "cannot read the file: " + std::string(std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw ConfigError(path, "",
                      "not valid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!root || root.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(path, "", "expected a map of keys to values at the top level");
  return root;
}

std::string describe(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "nothing";
  std::string s = n.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return "'" + s + "'";
}

namespace {

[[noreturn]] void wrong_type(const YAML::Node& n, const std::string& file, const std::string& key,
                             const std::string& expected) {
  throw ConfigError(file, key, "expected " + expected + ", got " + describe(n));
}

}  // namespace

std::string as_string(const YAML::Node& n, const std::string& file, const std::string& key) {
  if (n.IsNull()) return {};
  if (!n.IsScalar()) wrong_type(n, file, key, "a string");
  return n.Scalar();
}

bool as_bool(const YAML::Node& n, const std::string& file, const std::string& key) {
  // Heron writes True/False; YAML's yes/no/on/off are accepted too.
  bool value = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
    wrong_type(n, file, key, "a boolean (true or false)");
  }
  return value;
}

long long as_integer(const YAML::Node& n, const std::string& file, const std::string& key,
                     long long min_value) {
  const std::string expected =
      min_value > 0 ? "a positive integer" : (min_value == 0 ? "a non-negative integer" : "an integer");
  if (!n.IsScalar()) wrong_type(n, file, key, expected);
  const std::string& s = n.Scalar();
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE || v < min_value) wrong_type(n, file, key, expected);
  return v;
}

double as_number(const YAML::Node& n, const std::string& file, const std::string& key, double min_value) {
  const std::string expected = "a number greater than " + std::to_string(static_cast<int>(min_value));
  if (!n.IsScalar()) wrong_type(n, file, key, expected);
  const std::string& s = n.Scalar();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v <= min_value) wrong_type(n, file, key, expected);
  return v;
}

std::chrono::milliseconds as_millis(const YAML::Node& n, const std::string& file, const std::string& key) {
  if (!n.IsScalar()) wrong_type(n, file, key, "a non-negative integer (milliseconds)");
  const std::string& s = n.Scalar();
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE || v < 0) {
    wrong_type(n, file, key, "a non-negative integer (milliseconds)");
  }
  return std::chrono::milliseconds{v};
}

std::chrono::milliseconds as_duration(const YAML::Node& n, const std::string& file, const std::string& key) {
  const std::string expected = "a duration like 500ms, 30s, 10m or 1h";
  if (!n.IsScalar()) wrong_type(n, file, key, expected);
  try {
    return parse_duration(n.Scalar());
  } catch (const std::invalid_argument&) {
    wrong_type(n, file, key, expected);
  }
}

namespace {

// Levenshtein distance, or `limit` as soon as every cell of a row reaches it
// (the distance can only grow from there).
std::size_t edit_distance(const std::string& a, const std::string& b, std::size_t limit) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    std::size_t row_min = cur[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min >= limit) return limit;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string unknown_key_warning(const std::string& file, const std::string& key,
                                const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(3, key.size() / 5) + 1;
  for (const auto& k : known) {
    // The distance is at least the difference in length: skip what cannot
    // win, so a long unknown key costs no quadratic comparison per known key.
    const std::size_t length_gap = key.size() > k.size() ? key.size() - k.size() : k.size() - key.size();
    if (length_gap >= best_distance) continue;
    const std::size_t d = edit_distance(key, k, best_distance);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  std::string w = file + ": unknown key '" + key + "' is ignored";
  if (!best.empty()) w += " (did you mean '" + best + "'?)";
  return w;
}

}  // namespace detail

std::chrono::milliseconds parse_duration(const std::string& text) {
  if (text == "0") return std::chrono::milliseconds{0};  // YAML files often say 0
  if (text.empty()) throw std::invalid_argument("empty duration");
  if (auto d = hmc::parse_duration(text)) return *d;
  throw std::invalid_argument("not a duration: '" + text + "' (units are ms, s, m, h)");
}

std::string format_duration(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms == 0) return "0";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace hmc::config
