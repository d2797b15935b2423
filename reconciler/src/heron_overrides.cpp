#include "hmc/reconciler/heron_overrides.hpp"

#include <cmath>
#include <cstdio>

namespace hmc::reconciler {

namespace {

double mb(std::int64_t bytes) { return static_cast<double>((bytes + kMegabyte - 1) / kMegabyte); }

// Whole numbers exactly (MB counts can pass a million), others as %g does.
std::string number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

Resources heron_plan_resources(const PackedResource& largest) {
  return {largest.cpu, mb(largest.ram), mb(largest.disk)};
}

std::vector<FieldError> heron_override_problems(const DesiredTopology& t, const HeronDefinition& d,
                                                const HeronOverrideWording& w) {
  const bool status = w.spec.empty();
  const std::string& spec = w.spec;
  const std::string& defn = w.defn;
  std::vector<FieldError> out;
  if (d.name != t.name)
    out.push_back({"/topologyDefn", status ? "defines topology '" + d.name + "', not '" + t.name + "' (/name)"
                                           : defn + " defines topology '" + d.name + "', but " + spec + " names '" +
                                                 t.name + "'; the names must be equal"});
  if (!t.topology_id.empty() && t.topology_id != d.id)
    out.push_back({"/topologyId", (status ? "is '" + t.topology_id + "' but " + defn
                                          : spec + " sets topologyId '" + t.topology_id + "', but " + defn) +
                                      " has id '" + d.id + "'; leave topologyId out or make them equal"});
  const std::string plan = status ? "Heron's packing plan of " + defn + " (RoundRobinPacking)"
                                  : "Heron's packing plan (RoundRobinPacking) of " + defn;
  const std::string count = std::to_string(d.containers);
  if (d.containers > kMaxContainers)
    out.push_back({"/topologyDefn", plan + " has " + count + " containers (topology.stmgrs), more than " +
                                        std::to_string(kMaxContainers)});
  if (t.containers_set && t.containers != d.containers) {
    const std::string given = std::to_string(t.containers);
    out.push_back({"/containers", (status ? "is " + given + " but " + plan + " has " + count + " containers"
                                          : spec + " sets containers " + given + ", but " + plan + " has " + count) +
                                      " (topology.stmgrs); leave containers out or set topology.stmgrs to " + given});
  }
  if (!t.resources_set) return out;
  const Resources need = heron_plan_resources(d.largest);
  auto at_least = [&](const char* field, double given, double needed, const char* unit) {
    if (given + 1e-9 >= needed) return;
    out.push_back({std::string("/resources/") + field,
                   (status ? "is " : spec + " sets resources." + field + " ") + number(given) + unit +
                       ", less than the " + number(needed) + unit + " the largest container of " + plan + " needs"});
  };
  at_least("cpus", t.resources.cpus, need.cpus, "");
  at_least("mem", t.resources.mem, need.mem, " MB");
  at_least("disk", t.resources.disk, need.disk, " MB");
  return out;
}

}  // namespace hmc::reconciler
