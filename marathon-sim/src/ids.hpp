#pragma once
// Marathon path ids: absolute, "/"-separated, each segment matching
// ^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::marathon_sim {

inline constexpr const char* kIdPattern =
    "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$";

inline bool valid_label_part(std::string_view s) {
  if (s.empty()) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '-') return false;
  return true;
}

inline bool valid_segment(std::string_view s) {
  if (s == "." || s == "..") return true;
  while (true) {
    const auto dot = s.find('.');
    if (!valid_label_part(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s = s.substr(dot + 1);
  }
}

inline std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  while (!p.empty()) {
    const auto slash = p.find('/');
    auto seg = p.substr(0, slash);
    if (!seg.empty()) out.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    p = p.substr(slash + 1);
  }
  return out;
}

// Resolves `id` (absolute or relative to `base`, may use . and ..) to a
// canonical absolute id. Returns nullopt and an error message when a segment
// breaks the rule.
inline std::optional<std::string> resolve_id(std::string_view id, const std::string& base, std::string* error) {
  std::vector<std::string> segs;
  if (id.empty() || id.front() != '/') segs = split_path(base);
  for (auto& s : split_path(id)) {
    if (!valid_segment(s)) {
      if (error) *error = std::string("must fully match regular expression '") + kIdPattern + "'";
      return std::nullopt;
    }
    if (s == ".") continue;
    if (s == "..") {
      if (!segs.empty()) segs.pop_back();
      continue;
    }
    segs.push_back(std::move(s));
  }
  std::string out;
  for (const auto& s : segs) out += "/" + s;
  return out.empty() ? "/" : out;
}

inline bool reserved_last_segment(const std::string& id) {
  const auto slash = id.rfind('/');
  const auto last = id.substr(slash + 1);
  return last == "restart" || last == "tasks" || last == "versions";
}

inline bool is_child_of(const std::string& id, const std::string& parent) {
  if (parent == "/") return id.size() > 1;
  return id.size() > parent.size() + 1 && id.compare(0, parent.size(), parent) == 0 && id[parent.size()] == '/';
}

}  // namespace hmc::marathon_sim
