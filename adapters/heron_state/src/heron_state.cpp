#include "hmc/heron_state/heron_state.hpp"

#include "execution_state.pb.h"
#include "packing_plan.pb.h"
#include "topology.pb.h"

#include <charconv>
#include <cmath>
#include <set>

namespace hmc::heron_state {
namespace {

namespace api = heron::proto::api;
namespace sys = heron::proto::system;

constexpr const char* kParallelism = "topology.component.parallelism";

int parallelism_of(const api::Component& c, std::string& error) {
  for (const auto& kv : c.config().kvs()) {
    if (kv.key() != kParallelism) continue;
    int p = 0;
    const std::string& v = kv.value();
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
    if (ec != std::errc{} || ptr != v.data() + v.size() || p < 1) {
      error = "component " + c.name() + ": " + kParallelism + " '" + v + "' is not a count >= 1";
      return 0;
    }
    return p;
  }
  error = "component " + c.name() + ": no " + kParallelism;
  return 0;
}

void set_resource(sys::Resource* r, const reconciler::PackedResource& v) {
  r->set_cpu(v.cpu);
  r->set_ram(v.ram);
  r->set_disk(v.disk);
}

// Containers are sized from these: a NaN or negative amount is refused
// (Heron itself never writes one).
reconciler::PackedResource resource_of(const sys::Resource& r, const std::string& where, std::string& error) {
  if (error.empty() && (!std::isfinite(r.cpu()) || r.cpu() < 0 || r.ram() < 0 || r.disk() < 0))
    error = where + ": cpu, ram and disk must be finite and >= 0";
  return {r.cpu(), r.ram(), r.disk()};
}

}  // namespace

std::variant<HeronTopology, std::string> decode_topology(std::string_view bytes) {
  api::Topology p;
  // ParsePartial: the plain parse logs missing required fields through
  // protobuf's logger; the message says them instead.
  if (bytes.empty() || !p.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return std::string("not a serialized heron.proto.api.Topology");
  if (!p.IsInitialized())
    return "heron.proto.api.Topology without its required fields: " + p.InitializationErrorString();
  HeronTopology t;
  t.id = p.id();
  t.name = p.name();
  if (t.id.empty()) return std::string("topology id is empty");
  if (t.name.empty()) return std::string("topology name is empty");
  if (p.spouts_size() == 0) return std::string("topology has no spouts");
  std::set<std::string> seen;
  std::string error;
  auto add = [&](const api::Component& c, bool spout) {
    if (!error.empty()) return;
    if (c.name().empty()) {
      error = "a component has no name";
      return;
    }
    if (!seen.insert(c.name()).second) {
      error = "component " + c.name() + " appears twice";
      return;
    }
    int par = parallelism_of(c, error);
    if (error.empty()) t.components.push_back({c.name(), par, spout});
  };
  for (const auto& s : p.spouts()) add(s.comp(), true);
  for (const auto& b : p.bolts()) add(b.comp(), false);
  if (!error.empty()) return error;
  for (const auto& kv : p.topology_config().kvs())
    if (kv.has_value()) t.config[kv.key()] = kv.value();
  return t;
}

std::string encode_topology(const HeronTopology& t) {
  api::Topology p;
  p.set_id(t.id);
  p.set_name(t.name);
  p.set_state(api::RUNNING);
  for (const auto& c : t.components) {
    api::Component* comp = c.spout ? p.add_spouts()->mutable_comp() : p.add_bolts()->mutable_comp();
    comp->set_name(c.name);
    auto* kv = comp->mutable_config()->add_kvs();
    kv->set_key(kParallelism);
    kv->set_value(std::to_string(c.parallelism));
    kv->set_type(api::STRING_VALUE);
  }
  auto* cfg = p.mutable_topology_config();
  for (const auto& [k, v] : t.config) {
    auto* kv = cfg->add_kvs();
    kv->set_key(k);
    kv->set_value(v);
    kv->set_type(api::STRING_VALUE);
  }
  return p.SerializeAsString();
}

std::string encode_packing_plan(const reconciler::PackedPlan& plan) {
  sys::PackingPlan p;
  p.set_id(plan.id);
  for (const auto& c : plan.containers) {
    auto* cp = p.add_container_plans();
    cp->set_id(c.id);
    set_resource(cp->mutable_requiredresource(), c.required);
    for (const auto& i : c.instances) {
      auto* ip = cp->add_instance_plans();
      ip->set_component_name(i.component);
      ip->set_task_id(i.task_id);
      ip->set_component_index(i.component_index);
      set_resource(ip->mutable_resource(), i.resource);
    }
  }
  return p.SerializeAsString();
}

std::variant<reconciler::PackedPlan, std::string> decode_packing_plan(std::string_view bytes) {
  sys::PackingPlan p;
  if (!p.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return std::string("not a serialized heron.proto.system.PackingPlan");
  if (!p.IsInitialized())
    return "heron.proto.system.PackingPlan without its required fields: " + p.InitializationErrorString();
  reconciler::PackedPlan plan;
  plan.id = p.id();
  std::string error;
  for (const auto& cp : p.container_plans()) {
    reconciler::PackedContainer c;
    c.id = cp.id();
    const std::string where = "container " + std::to_string(c.id);
    c.required = resource_of(cp.requiredresource(), where + " requiredResource", error);
    for (const auto& ip : cp.instance_plans())
      c.instances.push_back({ip.component_name(), ip.task_id(), ip.component_index(),
                             resource_of(ip.resource(), where + " instance " + std::to_string(ip.task_id()), error)});
    if (!error.empty()) return error;
    plan.containers.push_back(std::move(c));
  }
  return plan;
}

std::string encode_execution_state(const ExecutionState& s) {
  sys::ExecutionState p;
  p.set_topology_name(s.topology_name);
  p.set_topology_id(s.topology_id);
  p.set_submission_time(s.submission_time);
  p.set_submission_user(s.submission_user);
  p.set_cluster(s.cluster);
  p.set_environ(s.environ);
  p.set_role(s.role);
  auto* r = p.mutable_release_state();
  r->set_release_username(s.release_username);
  r->set_release_tag(s.release_tag);
  r->set_release_version(s.release_version);
  return p.SerializeAsString();
}

reconciler::PackingInput packing_input(const HeronTopology& t) {
  reconciler::PackingInput in;
  in.topology_id = t.id;
  for (const auto& c : t.components) in.components.emplace_back(c.name, c.parallelism);
  in.config = t.config;
  return in;
}

}  // namespace hmc::heron_state
