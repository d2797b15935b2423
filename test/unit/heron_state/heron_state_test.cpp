// Heron state codec: round trips and the checks on a .defn.

#include "hmc/heron_state/heron_state.hpp"

#include <gtest/gtest.h>

#include <variant>

namespace hmc::heron_state {
namespace {

HeronTopology word_count() {
  HeronTopology t;
  t.id = "wc-1f2e";
  t.name = "wc";
  t.components = {{"spout", 4, true}, {"bolt", 3, false}};
  t.config = {{"topology.stmgrs", "2"}};
  return t;
}

TEST(HeronStateCodec, TopologyRoundTrip) {
  auto r = decode_topology(encode_topology(word_count()));
  ASSERT_TRUE(std::holds_alternative<HeronTopology>(r)) << std::get<std::string>(r);
  const auto& t = std::get<HeronTopology>(r);
  EXPECT_EQ(t.id, "wc-1f2e");
  EXPECT_EQ(t.name, "wc");
  ASSERT_EQ(t.components.size(), 2u);
  EXPECT_EQ(t.components[0].name, "spout");
  EXPECT_EQ(t.components[0].parallelism, 4);
  EXPECT_TRUE(t.components[0].spout);
  EXPECT_EQ(t.components[1].parallelism, 3);
  EXPECT_EQ(t.config.at("topology.stmgrs"), "2");
}

TEST(HeronStateCodec, RefusesCorruptAndInvalidDefns) {
  EXPECT_TRUE(std::holds_alternative<std::string>(decode_topology("")));
  EXPECT_TRUE(std::holds_alternative<std::string>(decode_topology("\xff\xff\xff garbage")));
  auto no_spout = word_count();
  no_spout.components = {{"bolt", 3, false}};
  EXPECT_EQ(std::get<std::string>(decode_topology(encode_topology(no_spout))), "topology has no spouts");
  auto zero = word_count();
  zero.components[1].parallelism = 0;
  EXPECT_NE(std::get<std::string>(decode_topology(encode_topology(zero))).find("bolt"), std::string::npos);
  auto dup = word_count();
  dup.components[1].name = "spout";
  EXPECT_NE(std::get<std::string>(decode_topology(encode_topology(dup))).find("twice"), std::string::npos);
}

TEST(HeronStateCodec, MissingRequiredFieldsAreNamed) {
  // Field 1 (id) only; name and state are required in Heron's topology.proto.
  EXPECT_EQ(std::get<std::string>(decode_topology(std::string("\x0a\x01x", 3))),
            "heron.proto.api.Topology without its required fields: name, state");
}

TEST(HeronStateCodec, PackingPlanRoundTrip) {
  auto packed = reconciler::round_robin_pack(packing_input(word_count()));
  ASSERT_TRUE(std::holds_alternative<reconciler::PackedPlan>(packed));
  const auto& plan = std::get<reconciler::PackedPlan>(packed);
  auto back = decode_packing_plan(encode_packing_plan(plan));
  ASSERT_TRUE(std::holds_alternative<reconciler::PackedPlan>(back));
  EXPECT_EQ(std::get<reconciler::PackedPlan>(back), plan);
}

}  // namespace
}  // namespace hmc::heron_state
