#pragma once
// Reading and validating app and group definitions as Marathon does:
// type errors (Marathon answers 422 "Invalid JSON") and rule violations
// (422 "Object is not valid"), each with a JSON path like /apps(0)/id.

#include "simulator.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hmc::marathon_sim {

struct Violation {
  std::string path;
  std::vector<std::string> errors;
};

struct Violations {
  std::vector<Violation> type_errors;  // wrong JSON types
  std::vector<Violation> rules;        // valid JSON, invalid definition
  void type(const std::string& path, std::string msg);
  void rule(const std::string& path, std::string msg);
  bool empty() const { return type_errors.empty() && rules.empty(); }
  // The 422 body: "Invalid JSON" when there are type errors, else "Object is not valid".
  std::string body() const;
};

// `path` is the JSON path prefix of this app ("" for /v2/apps, "/apps(0)" in a
// group); `base` is the group relative ids resolve against. With `patch` the
// definition is merged over `current` (PUT /v2/apps partial update).
// `features` are Marathon's enabled features (--enable_features).
std::optional<AppSpec> read_app(const json::value& v, const std::string& path, const std::string& base,
                                Violations& out, const AppSpec* current = nullptr, const Features& features = {});

// Recomputes the cluster needs of a definition (after instances changed etc.).
void derive_needs(AppSpec& spec);

// Path helper: "/" for an empty prefix joined with "id" gives "/id".
std::string join_path(const std::string& prefix, const std::string& field);

}  // namespace hmc::marathon_sim
