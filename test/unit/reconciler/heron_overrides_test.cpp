// heron_override_problems: the same checks in the controller's wording (the
// status, after a field of the node) and in the CLI's (naming the spec and
// the definition's file), each message exact.

#include "hmc/reconciler/heron_overrides.hpp"

#include <gtest/gtest.h>

namespace hmc::reconciler {
namespace {

// 2 containers, the largest 5 CPU, 6 GB RAM, 16 GB + 1 byte disk.
HeronDefinition word_count() { return {"word-count", "word-count-1f2e", 2, {5.0, 6 * kGigabyte, 16 * kGigabyte + 1}}; }

DesiredTopology node() {
  DesiredTopology t;
  t.name = "word-count";
  t.containers_set = t.resources_set = false;
  return t;
}

const HeronOverrideWording kCli{"spec.yaml", "word-count.defn in wc.tar.gz"};

TEST(HeronOverrides, ANodeThatLeavesThemOutAgrees) {
  EXPECT_TRUE(heron_override_problems(node(), word_count()).empty());
  auto t = node();
  t.topology_id = "word-count-1f2e";
  t.containers_set = t.resources_set = true;
  t.containers = 2;
  t.resources = {5, 6144, 16385};
  EXPECT_TRUE(heron_override_problems(t, word_count()).empty());
  t.resources = {8, 1 << 20, 1 << 20};
  EXPECT_TRUE(heron_override_problems(t, word_count(), kCli).empty()) << "larger containers are fine";
}

// A node that disagrees on the name, the id, the container count and, by
// `resources`, on what it asks below the plan.
DesiredTopology disagreeing(const Resources& resources) {
  auto t = node();
  t.name = "other";
  t.topology_id = "word-count-0";
  t.containers_set = t.resources_set = true;
  t.containers = 3;
  t.resources = resources;
  return t;
}

TEST(HeronOverrides, EveryDisagreementInTheStatusWording) {
  const auto t = disagreeing({1, 2048, 16385});
  const std::vector<FieldError> want{
      {"/topologyDefn", "defines topology 'word-count', not 'other' (/name)"},
      {"/topologyId", "is 'word-count-0' but /topologyDefn has id 'word-count-1f2e'; leave topologyId out or make "
                      "them equal"},
      {"/containers", "is 3 but Heron's packing plan of /topologyDefn (RoundRobinPacking) has 2 containers "
                      "(topology.stmgrs); leave containers out or set topology.stmgrs to 3"},
      {"/resources/cpus", "is 1, less than the 5 the largest container of Heron's packing plan of /topologyDefn "
                          "(RoundRobinPacking) needs"},
      {"/resources/mem", "is 2048 MB, less than the 6144 MB the largest container of Heron's packing plan of "
                         "/topologyDefn (RoundRobinPacking) needs"},
  };
  EXPECT_EQ(heron_override_problems(t, word_count()), want);
}

TEST(HeronOverrides, EveryDisagreementInTheCliWording) {
  const auto t = disagreeing({5, 6144, 16384});
  const std::vector<FieldError> want{
      {"/topologyDefn", "word-count.defn in wc.tar.gz defines topology 'word-count', but spec.yaml names 'other'; "
                        "the names must be equal"},
      {"/topologyId", "spec.yaml sets topologyId 'word-count-0', but word-count.defn in wc.tar.gz has id "
                      "'word-count-1f2e'; leave topologyId out or make them equal"},
      {"/containers", "spec.yaml sets containers 3, but Heron's packing plan (RoundRobinPacking) of word-count.defn "
                      "in wc.tar.gz has 2 (topology.stmgrs); leave containers out or set topology.stmgrs to 3"},
      {"/resources/disk", "spec.yaml sets resources.disk 16384 MB, less than the 16385 MB the largest container of "
                          "Heron's packing plan (RoundRobinPacking) of word-count.defn in wc.tar.gz needs"},
  };
  EXPECT_EQ(heron_override_problems(t, word_count(), kCli), want);
}

TEST(HeronOverrides, APlanPastTheContainerLimitAndLargeOrFractionalSizes) {
  auto t = node();
  t.resources_set = true;
  t.resources = {0.25, 1048576, 20000};
  HeronDefinition d = word_count();
  d.containers = kMaxContainers + 1;
  d.largest = {2.5, 2000000 * kMegabyte, kGigabyte};
  const std::vector<FieldError> want{
      {"/topologyDefn", "Heron's packing plan of /topologyDefn (RoundRobinPacking) has 1001 containers "
                        "(topology.stmgrs), more than 1000"},
      {"/resources/cpus", "is 0.25, less than the 2.5 the largest container of Heron's packing plan of "
                          "/topologyDefn (RoundRobinPacking) needs"},
      {"/resources/mem", "is 1048576 MB, less than the 2000000 MB the largest container of Heron's packing plan of "
                         "/topologyDefn (RoundRobinPacking) needs"},
  };
  EXPECT_EQ(heron_override_problems(t, d), want);
}

TEST(HeronOverrides, PlanResourcesRoundRamAndDiskUpToMegabytes) {
  EXPECT_EQ(heron_plan_resources({3.0, 3 * kGigabyte + 1, 14 * kGigabyte}), (Resources{3.0, 3073, 14336}));
}

}  // namespace
}  // namespace hmc::reconciler
