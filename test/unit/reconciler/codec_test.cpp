// Desired-state and status codecs: round trips, every validation rule, hostile input.

#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/status.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hmc::reconciler {
namespace {

const char* kMinimal =
    R"({"name":"wc","cluster":"c1","role":"r","package":"https://x/wc.tar.gz"})";

DesiredTopology full() {
  DesiredTopology t;
  t.name = "word-count.v2";
  t.cluster = "dcos";
  t.role = "analytics";
  t.environ = "prod";
  t.containers = 4;
  t.resources = {2.5, 4096, 2048};
  t.image = "registry.local:5000/heron/heron:0.20.5@sha256:abc";
  t.package = "hdfs://nn:8020/heron/wc.tar.gz";
  t.core_uri = "https://cdn/heron-core.tar.gz";
  t.topology_id = "wc-1f2e";
  t.topology_defn_file = "wc.defn";
  t.executor_args = {"--verbose", "--extra=it's"};
  t.env = {{"JAVA_OPTS", "-Xmx1g"}, {"A_B", ""}};
  t.labels = {{"team", "data"}, {"cost-center", "42"}};
  t.constraints = {{"hostname", "UNIQUE"}, {"rack", "GROUP_BY", "3"}};
  t.state = DesiredState::suspended;
  t.on_stuck = OnStuck::suspend;
  return t;
}

TEST(DesiredCodec, MinimalGetsDefaults) {
  auto r = parse_desired(kMinimal);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->name, "wc");
  EXPECT_EQ(r->containers, 1);
  EXPECT_EQ(r->environ, "default");
  EXPECT_EQ(r->state, DesiredState::running);
  EXPECT_EQ(r->on_stuck, OnStuck::wait);
  EXPECT_EQ(r->resources, Resources{});
}

TEST(DesiredCodec, FullRoundTrip) {
  const auto t = full();
  EXPECT_TRUE(validate(t).empty());
  const auto j = to_json(t);
  auto r = parse_desired(j);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, t);
  EXPECT_EQ(to_json(*r), j);  // canonical: stable
}

TEST(DesiredCodec, CanonicalKeyOrder) {
  const auto j = to_json(full());
  const std::vector<std::string> keys = {
      "schemaVersion", "name", "cluster", "role", "environ", "containers", "resources",
      "\"cpus\"", "\"mem\"", "\"disk\"", "image", "package", "coreUri", "topologyId",
      "topologyDefnFile", "executorArgs", "env", "labels", "constraints", "state", "onStuck"};
  std::size_t pos = 0;
  for (const auto& k : keys) {
    const auto at = j.find(k, pos);
    ASSERT_NE(at, std::string::npos) << k << " in " << j;
    pos = at;
  }
  EXPECT_NE(j.find("\"mem\":4096"), std::string::npos) << j;  // integers stay integers
  EXPECT_NE(j.find("\"cpus\":2.5"), std::string::npos) << j;
}

}  // namespace
}  // namespace hmc::reconciler
