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
  const char* error;  // nullptr: it packs; else a part of Heron's (or the controller's) refusal
  PackedResource largest;  // expected max container (cpu, ram, disk)
};

class RoundRobin : public ::testing::TestWithParam<Case> {};

TEST_P(RoundRobin, PacksAsHeron) {
  const Case& c = GetParam();
  auto r = round_robin_pack(heron_test_topology(c.config));
  if (c.error != nullptr) {
    ASSERT_TRUE(std::holds_alternative<std::string>(r));
    EXPECT_NE(std::get<std::string>(r).find(c.error), std::string::npos) << std::get<std::string>(r);
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
        Case{"DefaultResources", {}, nullptr, {5, 6 * G, 16 * G}},
        Case{"ContainerRequestedResources",
             {{"topology.container.ram", std::to_string(10 * G)},
              {"topology.container.disk", std::to_string(20 * G)},
              {"topology.container.cpu", "30"}},
             nullptr, {30, 10 * G, 20 * G}},
        Case{"ContainerRequestedResourcesWhenRamPaddingSet",
             {{"topology.container.ram", std::to_string(10 * G)},
              {"topology.container.disk", std::to_string(20 * G)},
              {"topology.container.cpu", "30"},
              {"topology.container.ram.padding", std::to_string(512 * M)}},
             nullptr, {30, 10 * G, 20 * G}},
        Case{"CompleteRamMapRequestedWithExactlyEnoughResource",
             {{"topology.container.ram", std::to_string(8 * G)},
              {"topology.component.rammap", "bolt:" + std::to_string(G) + ",spout:" + std::to_string(2 * G)}},
             nullptr, {5, 8 * G, 16 * G}},
        Case{"CompleteRamMapRequestedWithLessThanEnoughResource",
             {{"topology.container.ram", std::to_string(2 * G)},
              {"topology.component.rammap", "bolt:" + std::to_string(G) + ",spout:" + std::to_string(2 * G)}},
             "container#1 exceeds topology.container.ram", {}},
        Case{"CompleteRamMapRequestedWithoutPaddingResource",
             {{"topology.container.ram", std::to_string(6 * G)},
              {"topology.component.rammap", "bolt:" + std::to_string(G) + ",spout:" + std::to_string(2 * G)}},
             nullptr, {5, 6 * G, 16 * G}},
        Case{"CompleteCpuMapRequestedWithExactlyEnoughResource",
             {{"topology.container.cpu", "17"}, {"topology.component.cpumap", "bolt:4,spout:4"}},
             nullptr, {17, 6 * G, 16 * G}},
        Case{"CompleteCpuMapRequestedWithMoreThanEnoughResource",
             {{"topology.container.cpu", "30"}, {"topology.component.cpumap", "bolt:4,spout:4"}},
             nullptr, {30, 6 * G, 16 * G}},
        Case{"CompleteCpuMapRequestedWithLessThanEnoughResource",
             {{"topology.container.cpu", "10"}, {"topology.component.cpumap", "bolt:4,spout:4"}},
             "container#1 exceeds topology.container.cpu", {}},
        Case{"CompleteCpuMapRequestedWithoutPaddingResource",
             {{"topology.container.cpu", "16"}, {"topology.component.cpumap", "bolt:4,spout:4"}},
             nullptr, {16, 6 * G, 16 * G}},
        Case{"CheckInsufficientRamFailure", {{"topology.container.ram", "0"}}, "not enough RAM", {}},
        Case{"CheckInsufficientCpuFailure", {{"topology.container.cpu", "1"}}, "not enough CPU", {}},
        Case{"MoreContainersThanInstances", {{"topology.stmgrs", "8"}}, "more containers (8) allocated than instances (7)", {}},
        Case{"MalformedRamMap", {{"topology.component.rammap", "bolt"}}, "'bolt' is not component:value", {}},
        // Untrusted sizes: refused, never overflowed.
        Case{"RamMapSumOverflows", {{"topology.component.rammap", "bolt:9223372036854775807,spout:1"}}, "RAM in container#1 is more than 2^63 bytes", {}},
        Case{"RamMapOutOfRange", {{"topology.component.rammap", "bolt:99999999999999999999"}}, "'99999999999999999999' is out of range", {}},
        Case{"NegativeRamMap", {{"topology.component.rammap", "bolt:-1073741824"}}, "'-1073741824' is negative", {}},
        Case{"PaddingOverflows",
             {{"topology.stmgr.ram", "9223372036854775807"}, {"topology.metricsmgr.ram", "1"}}, "the container RAM padding (stmgr, metricsmgr, ckptmgr RAM) is more than 2^63 bytes", {}},
        Case{"DefaultRamOverflows", {{"topology.container.ram.padding", "9223372036854775000"}}, "the default container RAM (instance RAM x instances + padding) is more than 2^63 bytes", {}},
        Case{"NanCpuMap", {{"topology.component.cpumap", "bolt:nan"}}, "'nan' is not a finite number", {}},
        Case{"InfiniteContainerCpu", {{"topology.container.cpu", "inf"}}, "'inf' is not a finite number", {}},
        Case{"NegativeContainerCpu", {{"topology.container.cpu", "-3"}}, "'-3' is negative", {}},
        Case{"HugeCpuMapSum", {{"topology.component.cpumap", "bolt:1e308,spout:1e308"}}, "CPU in container#1 is not a finite number", {}},
        Case{"StmgrsOutOfInt", {{"topology.stmgrs", "4294967298"}}, "more containers (4294967298) allocated than instances (7)", {}}),
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

TEST(RoundRobinPacking, RefusesMoreInstancesThanTheBoundBeforeAllocating) {
  PackingInput in;
  in.topology_id = "huge";
  // Each parallelism fits an int; their sum does not.
  in.components = {{"spout", 2147483647}, {"bolt", 2147483647}};
  auto r = round_robin_pack(in);
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "more than 100000 instances (component spout has parallelism 2147483647)");

  in.components = {{"spout", 50000}, {"bolt", 50000}};
  in.config = {{"topology.stmgrs", "100"}};
  r = round_robin_pack(in);
  ASSERT_TRUE(std::holds_alternative<PackedPlan>(r)) << std::get<std::string>(r);
  EXPECT_EQ(std::get<PackedPlan>(r).containers.size(), 100u);
}

TEST(RoundRobinPacking, NamesTheValueThatOverflows) {
  auto r = round_robin_pack(heron_test_topology({{"topology.component.rammap", "bolt:9223372036854775807,spout:1"}}));
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "the total instance RAM in container#1 is more than 2^63 bytes");
  r = round_robin_pack(heron_test_topology({{"topology.container.cpu", "nan"}}));
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "topology.container.cpu: 'nan' is not a finite number");
  r = round_robin_pack(heron_test_topology({{"topology.stmgrs", "-2"}}));
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "topology.stmgrs: '-2' is negative");
}

}  // namespace
}  // namespace hmc::reconciler
