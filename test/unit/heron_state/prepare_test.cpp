// prepare_heron_state: the three nodes the controller writes for a desired
// node with a topologyDefn, and the errors it reports instead.

#include "hmc/heron_state/heron_state.hpp"
#include "hmc/heron_state/prepare.hpp"

#include "hmc/common/base64.hpp"

#include <gtest/gtest.h>

#include <variant>

namespace hmc::heron_state {
namespace {

namespace rc = hmc::reconciler;

HeronTopology word_count(const std::string& stmgrs = "2") {
  HeronTopology t;
  t.id = "wc-1f2e";
  t.name = "wc";
  t.components = {{"spout", 4, true}, {"bolt", 3, false}};
  t.config = {{"topology.stmgrs", stmgrs}};
  return t;
}

rc::DesiredTopology desired(const std::string& defn_bytes) {
  rc::DesiredTopology t;
  t.name = "wc";
  t.cluster = "dcos";
  t.role = "analytics";
  t.environ = "prod";
  t.package = "https://example.org/wc.tar.gz";
  t.topology_defn = base64_encode(defn_bytes);
  t.containers_set = t.resources_set = false;
  return t;
}

const ReleaseInfo kRelease{"heron-marathon-controller", "", "0.1.0"};

TEST(PrepareHeronState, WritesTopologyPackingPlanAndExecutionState) {
  rc::ReconcilerConfig cfg;
  cfg.heron_root = "/heron";
  auto t = desired(encode_topology(word_count()));
  const auto h = prepare_heron_state(cfg, t, 1'800'000'000, kRelease);
  ASSERT_EQ(h.error, "");
  EXPECT_EQ(h.topology_name, "wc");
  EXPECT_EQ(h.topology_id, "wc-1f2e");
  EXPECT_EQ(h.containers, 2);
  ASSERT_EQ(h.nodes.size(), 3u);
  EXPECT_EQ(h.nodes[0].path, "/heron/topologies/wc");
  EXPECT_EQ(h.nodes[1].path, "/heron/packingplans/wc");
  EXPECT_EQ(h.nodes[2].path, "/heron/executionstate/wc");
  for (const auto& n : h.nodes) EXPECT_EQ(n.digest, rc::text_digest(n.bytes)) << n.path;

  auto topo = decode_topology(h.nodes[0].bytes);
  ASSERT_TRUE(std::holds_alternative<HeronTopology>(topo));
  EXPECT_EQ(std::get<HeronTopology>(topo).components.size(), 2u);

  const auto expected = std::get<rc::PackedPlan>(rc::round_robin_pack(packing_input(word_count())));
  auto plan = decode_packing_plan(h.nodes[1].bytes);
  ASSERT_TRUE(std::holds_alternative<rc::PackedPlan>(plan));
  EXPECT_EQ(std::get<rc::PackedPlan>(plan), expected);
  EXPECT_EQ(h.largest, expected.largest());

  ExecutionState es{"wc", "wc-1f2e", 1'800'000'000, "analytics", "dcos", "prod", "analytics",
                    "heron-marathon-controller", "", "0.1.0"};
  EXPECT_EQ(h.nodes[2].bytes, encode_execution_state(es)) << "submission_user defaults to the role";
  t.submission_user = "alice";
  es.submission_user = "alice";
  EXPECT_EQ(prepare_heron_state(cfg, t, 1'800'000'000, kRelease).nodes[2].bytes, encode_execution_state(es));
}

TEST(PrepareHeronState, SameInputSameBytes) {
  rc::ReconcilerConfig cfg;
  const auto t = desired(encode_topology(word_count()));
  const auto a = prepare_heron_state(cfg, t, 5, kRelease);
  const auto b = prepare_heron_state(cfg, t, 5, kRelease);
  ASSERT_EQ(a.nodes.size(), 3u);
  for (std::size_t i = 0; i < a.nodes.size(); ++i) EXPECT_EQ(a.nodes[i], b.nodes[i]);
}

TEST(PrepareHeronState, ReportsWhatIsWrongAndGivesNoNode) {
  rc::ReconcilerConfig cfg;
  auto bad = desired("");
  bad.topology_defn = "not base64!";
  auto h = prepare_heron_state(cfg, bad, 0, kRelease);
  EXPECT_NE(h.error.find("base64"), std::string::npos);
  EXPECT_TRUE(h.nodes.empty());

  h = prepare_heron_state(cfg, desired("\xff\xff\xff garbage"), 0, kRelease);
  EXPECT_EQ(h.error, "not a serialized heron.proto.api.Topology");
  EXPECT_TRUE(h.nodes.empty());

  // 7 instances cannot fill 9 containers: RoundRobinPacking's PackingException.
  h = prepare_heron_state(cfg, desired(encode_topology(word_count("9"))), 0, kRelease);
  EXPECT_EQ(h.error.rfind("Heron's RoundRobinPacking refuses it: ", 0), 0u) << h.error;
  EXPECT_TRUE(h.nodes.empty());
}

}  // namespace
}  // namespace hmc::heron_state
