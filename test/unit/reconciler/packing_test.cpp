// RoundRobinPacking: the cases of Heron's RoundRobinPackingTest (spout x4,
// bolt x3, topology.stmgrs=2, cluster defaults 1 CPU / 1 GB RAM / 1 GB disk).

#include "hmc/reconciler/packing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace hmc::reconciler {
namespace {

constexpr std::int64_t G = kGigabyte;
constexpr std::int64_t M = kMegabyte;

PackingInput heron_test_topology(std::map<std::string, std::string> extra) {
  PackingInput in;
  in.topology_id = "testTopology-id";
  in.components = {{"spout", 4}, {"bolt", 3}};
  in.config = {{"topology.stmgrs", "2"}};
  for (auto& [k, v] : extra) in.config[k] = v;
  return in;
}

struct Case {
  const char* name;
  std::map<std::string, std::string> config;
  bool fails;
  PackedResource largest;  // expected max container (cpu, ram, disk)
};

class RoundRobin : public ::testing::TestWithParam<Case> {};

TEST_P(RoundRobin, PacksAsHeron) {
  const Case& c = GetParam();
  auto r = round_robin_pack(heron_test_topology(c.config));
  if (c.fails) {
    ASSERT_TRUE(std::holds_alternative<std::string>(r));
    EXPECT_FALSE(std::get<std::string>(r).empty());
    return;
  }
  ASSERT_TRUE(std::holds_alternative<PackedPlan>(r)) << std::get<std::string>(r);
  const auto& plan = std::get<PackedPlan>(r);
  EXPECT_EQ(plan.id, "testTopology-id");
  ASSERT_EQ(plan.containers.size(), 2u);
  int instances = 0;
  for (const auto& ct : plan.containers) instances += static_cast<int>(ct.instances.size());
  EXPECT_EQ(instances, 7);
  auto l = plan.largest();
  EXPECT_NEAR(l.cpu, c.largest.cpu, 1e-9);
  EXPECT_EQ(l.ram, c.largest.ram);
  EXPECT_EQ(l.disk, c.largest.disk);
}

INSTANTIATE_TEST_SUITE_P(
    HeronRoundRobinPackingTest, RoundRobin,
    ::testing::Values(
        // testDefaultResources: 4 instances + 1 CPU, 4 GB + 2 GB padding; disk 4 GB + 12 GB.
        Case{"DefaultResources", {}, false, {5, 6 * G, 16 * G}},
        Case{"ContainerRequestedResources",
             {{"topology.container.ram", std::to_string(10 * G)},
              {"topology.container.disk", std::to_string(20 * G)},
              {"topology.container.cpu", "30"}},
             false, {30, 10 * G, 20 * G}},
        Case{"ContainerRequestedResourcesWhenRamPaddingSet",
             {{"topology.container.ram", std::to_string(10 * G)},
              {"topology.container.disk", std::to_string(20 * G)},
              {"topology.container.cpu", "30"},
              {"topology.container.ram.padding", std::to_string(512 * M)}},
             false, {30, 10 * G, 20 * G}},
        Case{"CompleteRamMapRequestedWithExactlyEnoughResource",
             {{"topology.container.ram", std::to_string(8 * G)},
              {"topology.component.rammap", "bolt:" + std::to_string(G) + ",spout:" + std::to_string(2 * G)}},
             false, {5, 8 * G, 16 * G}},
        Case{"CompleteRamMapRequestedWithLessThanEnoughResource",
             {{"topology.container.ram", std::to_string(2 * G)},
              {"topology.component.rammap", "bolt:" + std::to_string(G) + ",spout:" + std::to_string(2 * G)}},
             true, {}},
        Case{"CompleteRamMapRequestedWithoutPaddingResource",
             {{"topology.container.ram", std::to_string(6 * G)},
              {"topology.component.rammap", "bolt:" + std::to_string(G) + ",spout:" + std::to_string(2 * G)}},
             false, {5, 6 * G, 16 * G}},
        Case{"CompleteCpuMapRequestedWithExactlyEnoughResource",
             {{"topology.container.cpu", "17"}, {"topology.component.cpumap", "bolt:4,spout:4"}},
             false, {17, 6 * G, 16 * G}},
        Case{"CompleteCpuMapRequestedWithMoreThanEnoughResource",
             {{"topology.container.cpu", "30"}, {"topology.component.cpumap", "bolt:4,spout:4"}},
             false, {30, 6 * G, 16 * G}},
        Case{"CompleteCpuMapRequestedWithLessThanEnoughResource",
             {{"topology.container.cpu", "10"}, {"topology.component.cpumap", "bolt:4,spout:4"}},
             true, {}},
        Case{"CompleteCpuMapRequestedWithoutPaddingResource",
             {{"topology.container.cpu", "16"}, {"topology.component.cpumap", "bolt:4,spout:4"}},
             false, {16, 6 * G, 16 * G}},
        Case{"CheckInsufficientRamFailure", {{"topology.container.ram", "0"}}, true, {}},
        Case{"CheckInsufficientCpuFailure", {{"topology.container.cpu", "1"}}, true, {}},
        Case{"MoreContainersThanInstances", {{"topology.stmgrs", "8"}}, true, {}},
        Case{"MalformedRamMap", {{"topology.component.rammap", "bolt"}}, true, {}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RoundRobinPacking, DealsInstancesInTurnWithGlobalTaskIds) {
  auto r = round_robin_pack(heron_test_topology({}));
  ASSERT_TRUE(std::holds_alternative<PackedPlan>(r));
  const auto& plan = std::get<PackedPlan>(r);
  ASSERT_EQ(plan.containers[0].instances.size(), 4u);
  ASSERT_EQ(plan.containers[1].instances.size(), 3u);
  EXPECT_EQ(plan.containers[0].id, 1);
  EXPECT_EQ(plan.containers[1].id, 2);
  // Container 1: 4 instances at 1 GB / 1 CPU each; container 2: 3 sharing 4 GB / 4 CPU.
  for (const auto& i : plan.containers[0].instances) {
    EXPECT_EQ(i.resource.ram, G);
    EXPECT_NEAR(i.resource.cpu, 1.0, 1e-9);
  }
  EXPECT_EQ(plan.containers[1].instances[0].resource.ram, (4 * G + 1) / 3);
  EXPECT_EQ(plan.containers[0].instances[0].task_id, 1);
  EXPECT_EQ(plan.containers[1].instances[0].task_id, 2);
}

}  // namespace
}  // namespace hmc::reconciler
