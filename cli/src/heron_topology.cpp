#include "heron_topology.hpp"

#include "hmc/common/base64.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace hmc::cli {

namespace json = boost::json;
namespace rc = hmc::reconciler;

namespace {

constexpr const char* kPlan = "Heron's packing plan (RoundRobinPacking)";

std::string number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string sizes(const rc::PackedResource& r) {
  const auto m = rc::heron_plan_resources(r);
  return "cpus " + number(m.cpus) + ", mem " + number(m.mem) + " MB, disk " + number(m.disk) + " MB";
}

int instance_count(const HeronView& v) {
  int n = 0;
  for (const auto& c : v.topology.components) n += c.parallelism;
  return n;
}

// The components of a container in plan order, each with its task ids.
std::vector<std::pair<std::string, std::vector<int>>> tasks_by_component(const rc::PackedContainer& c) {
  std::vector<std::pair<std::string, std::vector<int>>> out;
  for (const auto& i : c.instances) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == i.component; });
    if (it == out.end()) it = out.insert(out.end(), {i.component, {}});
    it->second.push_back(i.task_id);
  }
  return out;
}

json::object resource_value(const rc::PackedResource& r) {
  json::object o;
  o["cpu"] = r.cpu;
  o["ramBytes"] = r.ram;
  o["diskBytes"] = r.disk;
  return o;
}

}  // namespace

std::variant<HeronView, std::string> heron_view(const std::string& topology_defn) {
  const auto bytes = base64_decode(topology_defn);
  if (!bytes) return std::string("topologyDefn is not standard base64");
  auto t = heron_state::decode_topology(*bytes);
  if (auto* e = std::get_if<std::string>(&t)) return "not a valid Heron topology definition: " + *e;
  HeronView v;
  v.topology = std::move(std::get<heron_state::HeronTopology>(t));
  v.defn_bytes = bytes->size();
  auto plan = rc::round_robin_pack(heron_state::packing_input(v.topology));
  if (auto* e = std::get_if<std::string>(&plan)) return std::string(kPlan) + " refuses it: " + *e;
  v.plan = std::move(std::get<rc::PackedPlan>(plan));
  return v;
}

rc::HeronDefinition heron_definition(const HeronView& v) {
  return {v.topology.name, v.topology.id, static_cast<int>(v.plan.containers.size()), v.plan.largest()};
}

void size_from_plan(rc::DesiredTopology& t, const HeronView& v) {
  if (!t.containers_set) t.containers = static_cast<int>(v.plan.containers.size());
  if (!t.resources_set) t.resources = rc::heron_plan_resources(v.plan.largest());
}

std::string heron_summary(const rc::DesiredTopology& t, const HeronView& v) {
  rc::DesiredTopology sized = t;
  size_from_plan(sized, v);
  return "'" + v.topology.name + "' (id " + v.topology.id + "), " + std::to_string(v.topology.components.size()) +
         " components, " + std::to_string(instance_count(v)) + " instances, " +
         std::to_string(v.plan.containers.size()) + " containers of cpus " + number(sized.resources.cpus) + ", mem " +
         number(sized.resources.mem) + " MB, disk " + number(sized.resources.disk) + " MB";
}

void describe_heron(std::ostream& out, const std::variant<HeronView, std::string>& view) {
  if (const auto* e = std::get_if<std::string>(&view)) {
    out << "Heron topology: unusable: " << *e << "\n";
    return;
  }
  const auto& v = std::get<HeronView>(view);
  out << "Heron topology: " << v.topology.name << " (id " << v.topology.id << "), topologyDefn of " << v.defn_bytes
      << " bytes\n";
  std::size_t width = 4;
  for (const auto& c : v.topology.components) width = std::max(width, c.name.size());
  out << "Components:     " << v.topology.components.size() << ", " << instance_count(v) << " instances\n"
      << "  NAME" << std::string(width - 4 + 3, ' ') << "KIND    PARALLELISM\n";
  for (const auto& c : v.topology.components)
    out << "  " << c.name << std::string(width - c.name.size() + 3, ' ') << (c.spout ? "spout" : "bolt ") << "   "
        << c.parallelism << "\n";
  out << "Packing plan:   " << v.plan.containers.size() << " container" << (v.plan.containers.size() == 1 ? "" : "s")
      << " (RoundRobinPacking; +1 TManager), each sized as the largest: " << sizes(v.plan.largest()) << "\n";
  for (const auto& c : v.plan.containers) {
    out << "  Container " << c.id << ": " << sizes(c.required) << "\n";
    for (const auto& [component, tasks] : tasks_by_component(c)) {
      out << "    " << component << std::string(width - component.size() + 3, ' ') << "task"
          << (tasks.size() == 1 ? " " : "s ");
      for (std::size_t i = 0; i < tasks.size(); ++i) out << (i ? ", " : "") << tasks[i];
      out << "\n";
    }
  }
}

json::value heron_value(const std::variant<HeronView, std::string>& view) {
  json::object o;
  if (const auto* e = std::get_if<std::string>(&view)) {
    o["error"] = *e;
    return o;
  }
  const auto& v = std::get<HeronView>(view);
  o["topologyName"] = v.topology.name;
  o["topologyId"] = v.topology.id;
  o["defnBytes"] = v.defn_bytes;
  json::array comps;
  for (const auto& c : v.topology.components) {
    json::object jc;
    jc["name"] = c.name;
    jc["kind"] = c.spout ? "spout" : "bolt";
    jc["parallelism"] = c.parallelism;
    comps.push_back(std::move(jc));
  }
  o["components"] = std::move(comps);
  json::object plan;
  plan["packing"] = "RoundRobinPacking";
  plan["largest"] = resource_value(v.plan.largest());
  json::array containers;
  for (const auto& c : v.plan.containers) {
    json::object jc;
    jc["id"] = c.id;
    jc["required"] = resource_value(c.required);
    json::array instances;
    for (const auto& i : c.instances) {
      json::object ji;
      ji["component"] = i.component;
      ji["taskId"] = i.task_id;
      ji["componentIndex"] = i.component_index;
      ji["resource"] = resource_value(i.resource);
      instances.push_back(std::move(ji));
    }
    jc["instances"] = std::move(instances);
    containers.push_back(std::move(jc));
  }
  plan["containers"] = std::move(containers);
  o["packingPlan"] = std::move(plan);
  return o;
}

}  // namespace hmc::cli
