// Inputs the heron_* fuzz targets (test/fuzz) found breaking the codec; the
// full inputs are in test/fuzz/regressions/ and fuzz_replay_test runs them too.

#include "hmc/heron_state/heron_state.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <variant>

namespace hmc::heron_state {
namespace {

reconciler::PackedPlan two_containers() {
  reconciler::PackedPlan p;
  p.id = "wc-1f2e";
  p.containers = {{1, {{"spout", 1, 0, {1, reconciler::kGigabyte, reconciler::kGigabyte}}},
                   {2, 2 * reconciler::kGigabyte, 13 * reconciler::kGigabyte}},
                  {2, {{"bolt", 2, 0, {1, reconciler::kGigabyte, reconciler::kGigabyte}}},
                   {2, 2 * reconciler::kGigabyte, 13 * reconciler::kGigabyte}}};
  return p;
}

// heron_packing_plan: a required cpu of NaN (bytes ff..ff) decoded, and the
// controller would have sized Marathon containers with it.
TEST(FuzzRegression, PackingPlanWithNonFiniteOrNegativeResourcesIsRefused) {
  auto nan_cpu = two_containers();
  nan_cpu.containers[0].required.cpu = std::numeric_limits<double>::quiet_NaN();
  auto r = decode_packing_plan(encode_packing_plan(nan_cpu));
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "container 1 requiredResource: cpu, ram and disk must be finite and >= 0");

  auto negative_ram = two_containers();
  negative_ram.containers[1].instances[0].resource.ram = -1;
  r = decode_packing_plan(encode_packing_plan(negative_ram));
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "container 2 instance 2: cpu, ram and disk must be finite and >= 0");

  r = decode_packing_plan(encode_packing_plan(two_containers()));
  ASSERT_TRUE(std::holds_alternative<reconciler::PackedPlan>(r)) << std::get<std::string>(r);
  EXPECT_EQ(std::get<reconciler::PackedPlan>(r), two_containers());
}

// Missing required fields are named in the error (and not logged by libprotobuf).
TEST(FuzzRegression, MissingRequiredFieldsAreNamed) {
  // PackingPlan with only container_plans[0].id = 1: no plan id, no requiredResource.
  const std::string plan("\x12\x02\x08\x01", 4);
  auto r = decode_packing_plan(plan);
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "heron.proto.system.PackingPlan without its required fields: "
                                      "id, container_plans[0].requiredResource");
  // Topology with only its name.
  const std::string topology("\x12\x02wc", 4);
  auto t = decode_topology(topology);
  ASSERT_TRUE(std::holds_alternative<std::string>(t));
  EXPECT_NE(std::get<std::string>(t).find("required fields: id"), std::string::npos) << std::get<std::string>(t);
}

}  // namespace
}  // namespace hmc::heron_state
