#include "hmc/heron_state/prepare.hpp"

#include "hmc/heron_state/heron_state.hpp"

#include "topology.pb.h"

#include "hmc/common/base64.hpp"

#include <string_view>

namespace hmc::heron_state {
namespace {

namespace rc = hmc::reconciler;

// LaunchRunner.trimTopology(): the user's spout and bolt objects can be
// huge and only the containers need them (they read the package's .defn).
std::string trimmed(std::string_view defn) {
  heron::proto::api::Topology p;
  if (!p.ParseFromArray(defn.data(), static_cast<int>(defn.size()))) return {};
  for (auto& s : *p.mutable_spouts()) s.mutable_comp()->clear_serialized_object();
  for (auto& b : *p.mutable_bolts()) b.mutable_comp()->clear_serialized_object();
  return p.SerializeAsString();
}

// <heron root>/<dir>/<name>, as heron_state_paths spells it.
std::string node_path(const rc::ReconcilerConfig& cfg, const std::string& name, std::string_view dir) {
  const std::string suffix = "/" + std::string(dir) + "/" + name;
  for (auto& p : rc::heron_state_paths(cfg, name))
    if (p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) return p;
  return suffix;
}

rc::HeronDesired failed(std::string why) {
  rc::HeronDesired h;
  h.error = std::move(why);
  return h;
}

}  // namespace

rc::HeronDesired prepare_heron_state(const rc::ReconcilerConfig& cfg, const rc::DesiredTopology& t,
                                     std::int64_t submission_time, const ReleaseInfo& release) {
  const auto defn = base64_decode(t.topology_defn);
  if (!defn) return failed("must be standard base64 (RFC 4648, with padding)");
  auto decoded = decode_topology(*defn);
  if (auto* e = std::get_if<std::string>(&decoded)) return failed(*e);
  const auto& topology = std::get<HeronTopology>(decoded);
  auto packed = rc::round_robin_pack(packing_input(topology));
  if (auto* e = std::get_if<std::string>(&packed)) return failed("Heron's RoundRobinPacking refuses it: " + *e);
  const auto& plan = std::get<rc::PackedPlan>(packed);

  rc::HeronDesired h;
  h.topology_name = topology.name;
  h.topology_id = topology.id;
  h.containers = static_cast<int>(plan.containers.size());
  h.largest = plan.largest();

  ExecutionState es;
  es.topology_name = topology.name;
  es.topology_id = topology.id;
  es.submission_time = submission_time;
  es.submission_user = t.submission_user.empty() ? t.role : t.submission_user;
  es.cluster = t.cluster;
  es.environ = t.environ;
  es.role = t.role;
  es.release_username = release.username;
  es.release_tag = release.tag;
  es.release_version = release.version;

  // LaunchRunner's order: the topology first (its presence means "running"),
  // then the packing plan, then the execution state.
  auto add = [&](std::string_view dir, std::string bytes) {
    const std::uint64_t digest = rc::text_digest(bytes);
    h.nodes.push_back({node_path(cfg, t.name, dir), std::move(bytes), digest});
  };
  add("topologies", trimmed(*defn));
  add("packingplans", encode_packing_plan(plan));
  add("executionstate", encode_execution_state(es));
  return h;
}

}  // namespace hmc::heron_state
