// The Marathon form against Heron's own MarathonScheduler layout
// (REFERENCE.md section 1): ids, ports in a fixed order, cmd flags, labels, fetch.

#include "world.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace hmc::reconciler::testing {
namespace {

namespace json = boost::json;

json::object group_of(const ReconcilerConfig& cfg, const DesiredTopology& t, int instances = 1) {
  return json::parse(build_group_json(cfg, t, instances)).as_object();
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

TEST(MarathonForm, OneAppPerContainerPlusTManager) {
  const auto cfg = default_config();
  const auto t = default_topology(3);
  const auto g = group_of(cfg, t);
  EXPECT_EQ(str(g.at("id")), "/heron/topologies/wc");
  const auto& apps = g.at("apps").as_array();
  ASSERT_EQ(apps.size(), 4u);
  for (std::size_t i = 0; i < apps.size(); ++i) {
    const auto& a = apps[i].as_object();
    EXPECT_EQ(str(a.at("id")), "/heron/topologies/wc/" + std::to_string(i));
    EXPECT_EQ(a.at("instances").to_number<int>(), 1);
    EXPECT_EQ(a.at("cpus").to_number<double>(), 2);
    EXPECT_EQ(a.at("mem").to_number<double>(), 4096);
    EXPECT_EQ(a.at("disk").to_number<double>(), 2048);
  }
}

TEST(MarathonForm, SuspendedFormHasZeroInstances) {
  const auto g = group_of(default_config(), default_topology(2), 0);
  for (const auto& a : g.at("apps").as_array()) EXPECT_EQ(a.at("instances").to_number<int>(), 0);
}

TEST(MarathonForm, DockerBridgeWithNineNamedPortsInFixedOrder) {
  const auto g = group_of(default_config(), default_topology(1));
  for (const auto& av : g.at("apps").as_array()) {
    const auto& c = av.at("container").as_object();
    EXPECT_EQ(str(c.at("type")), "DOCKER");
    const auto& d = c.at("docker").as_object();
    EXPECT_EQ(str(d.at("image")), "apache/heron:0.20.5");
    EXPECT_EQ(str(d.at("network")), "BRIDGE");
    EXPECT_FALSE(d.at("privileged").as_bool());
    EXPECT_TRUE(d.at("forcePullImage").as_bool());
    const auto& pm = d.at("portMappings").as_array();
    const std::vector<std::string> names = {"server",       "tmanager-ctl",    "tmanager-stats",
                                            "shell-port",   "metrics-mgr",     "scheduler",
                                            "metrics-cache-m", "metrics-cache-s", "ckptmgr"};
    ASSERT_EQ(pm.size(), names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      EXPECT_EQ(str(pm[i].at("name")), names[i]);
      EXPECT_EQ(pm[i].at("containerPort").to_number<int>(), 0);
      EXPECT_EQ(pm[i].at("hostPort").to_number<int>(), 0);
      EXPECT_EQ(str(pm[i].at("protocol")), "tcp");
    }
    EXPECT_EQ(port_names(), names);
  }
}

TEST(MarathonForm, CmdRunsExecutorWithPortFlagsInPortOrder) {
  auto cfg = default_config();
  auto t = default_topology(2);
  t.topology_id = "wc-8f2a";
  const auto g = group_of(cfg, t);
  const std::vector<std::string> flags = {
      "--server-port", "--tmanager-controller-port", "--tmanager-stats-port", "--shell-port",
      "--metrics-manager-port", "--scheduler-port", "--metricscache-manager-server-port",
      "--metricscache-manager-stats-port", "--checkpoint-manager-port"};
  const auto& apps = g.at("apps").as_array();
  for (std::size_t i = 0; i < apps.size(); ++i) {
    const std::string cmd = str(apps[i].at("cmd"));
    EXPECT_EQ(cmd.rfind("cd $MESOS_SANDBOX && ./heron-core/bin/heron-executor ", 0), 0u) << cmd;
    EXPECT_NE(cmd.find(" --shard=" + std::to_string(i) + " "), std::string::npos) << cmd;
    for (const char* f : {" --topology-name=wc", " --topology-id=wc-8f2a", " --topology-defn-file=wc.defn",
                          " --state-manager-connection=zk1:2181,zk2:2181",
                          " --state-manager-root=/heron", " --cluster=dcos", " --role=analytics",
                          " --environment=prod"})
      EXPECT_NE(cmd.find(f), std::string::npos) << f << " in " << cmd;
    std::size_t pos = 0;
    for (std::size_t p = 0; p < flags.size(); ++p) {
      const auto at = cmd.find(" " + flags[p] + "=$PORT" + std::to_string(p), pos);
      ASSERT_NE(at, std::string::npos) << flags[p] << " in " << cmd;
      pos = at;
    }
  }
}

TEST(MarathonForm, DefaultsForIdAndDefnFile) {
  const auto cmd = executor_command(default_config(), default_topology(), 0);
  EXPECT_NE(cmd.find("--topology-id=wc "), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("--topology-defn-file=wc.defn "), std::string::npos) << cmd;
}

TEST(MarathonForm, ExecutorArgsAreShellQuoted) {
  auto t = default_topology();
  t.executor_args = {"--verbose", "--jvm-opts=-Xmx1g -Dx=it's", "$(rm -rf /)"};
  const auto cmd = executor_command(default_config(), t, 1);
  EXPECT_NE(cmd.find(" --verbose"), std::string::npos);
  EXPECT_NE(cmd.find(" '--jvm-opts=-Xmx1g -Dx=it'\\''s'"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find(" '$(rm -rf /)'"), std::string::npos) << cmd;
  EXPECT_GT(cmd.find("--verbose"), cmd.find("$PORT8"));  // user args come last
}

TEST(MarathonForm, LabelsCarryEnvironmentOwnershipAndUserLabels) {
  const auto cfg = default_config();
  auto t = default_topology(1);
  t.labels = {{"team", "data"}};
  const auto g = group_of(cfg, t);
  const auto& apps = g.at("apps").as_array();
  for (std::size_t i = 0; i < apps.size(); ++i) {
    const auto& l = apps[i].at("labels").as_object();
    EXPECT_EQ(str(l.at("environment")), "prod");
    EXPECT_EQ(str(l.at(kLabelManagedBy)), kManagedByValue);
    EXPECT_EQ(str(l.at(kLabelTopology)), "wc");
    EXPECT_EQ(str(l.at(kLabelSpecHash)), spec_hash(cfg, t));
    EXPECT_EQ(str(l.at(kLabelContainerIndex)), std::to_string(i));
    EXPECT_EQ(str(l.at(kLabelDesiredInstances)), "1");
    EXPECT_EQ(str(l.at("team")), "data");
    EXPECT_EQ(l.size(), 7u);
  }
}

TEST(MarathonForm, FetchesPackageAndCore) {
  auto cfg = default_config();
  auto t = default_topology(1);
  auto fetch = group_of(cfg, t).at("apps").as_array()[0].at("fetch").as_array();
  ASSERT_EQ(fetch.size(), 2u);
  EXPECT_EQ(str(fetch[0].at("uri")), t.package);
  EXPECT_EQ(str(fetch[1].at("uri")), cfg.default_core_uri);
  for (const auto& f : fetch) {
    EXPECT_FALSE(f.at("executable").as_bool());
    EXPECT_TRUE(f.at("extract").as_bool());
    EXPECT_FALSE(f.at("cache").as_bool());
  }
  t.core_uri = "https://mirror/core.tgz";
  fetch = group_of(cfg, t).at("apps").as_array()[0].at("fetch").as_array();
  EXPECT_EQ(str(fetch[1].at("uri")), "https://mirror/core.tgz");
  cfg.default_core_uri.clear();
  t.core_uri.clear();
  EXPECT_EQ(group_of(cfg, t).at("apps").as_array()[0].at("fetch").as_array().size(), 1u);
}

TEST(MarathonForm, EnvAndConstraints) {
  auto t = default_topology(1);
  EXPECT_FALSE(group_of(default_config(), t).at("apps").as_array()[0].as_object().contains("env"));
  t.env = {{"JAVA_OPTS", "-Xmx1g"}};
  t.constraints = {{"hostname", "UNIQUE"}, {"rack", "GROUP_BY", "2"}};
  const auto a = group_of(default_config(), t).at("apps").as_array()[0].as_object();
  EXPECT_EQ(str(a.at("env").at("JAVA_OPTS")), "-Xmx1g");
  const auto& c = a.at("constraints").as_array();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(str(c[1].as_array()[2]), "2");
}

// The body is written as text: quotes, backslashes, control characters and
// UTF-8 in any user value come back unchanged, and a user label never
// replaces one of the controller's.
TEST(MarathonForm, UserValuesRoundTripAndNeverReplaceOwnLabels) {
  auto t = default_topology(1);
  const std::string odd = "a\"b\\c\nd\te\x01f \xc3\xa9 \xe2\x82\xac";
  t.environ = odd;
  t.labels = {{"environment", "user"}, {kLabelTopology, "user"}, {odd, odd}};
  t.env = {{odd, odd}};
  t.constraints = {{odd, "LIKE", odd}};
  t.executor_args = {odd};
  t.image = odd;
  t.package = odd;
  t.resources = {0.25, 1536.5, 100};
  const auto g = group_of(default_config(), t);
  const auto& a = g.at("apps").as_array()[1].as_object();
  const auto& l = a.at("labels").as_object();
  EXPECT_EQ(str(l.at("environment")), odd);
  EXPECT_EQ(str(l.at(kLabelTopology)), "wc");
  EXPECT_EQ(str(l.at(odd)), odd);
  EXPECT_EQ(l.size(), 7u);
  EXPECT_EQ(str(a.at("env").at(odd)), odd);
  EXPECT_EQ(str(a.at("constraints").as_array()[0].as_array()[2]), odd);
  EXPECT_EQ(str(a.at("container").at("docker").at("image")), odd);
  EXPECT_EQ(str(a.at("fetch").as_array()[0].at("uri")), odd);
  EXPECT_EQ(str(a.at("cmd")), executor_command(default_config(), t, 1));
  EXPECT_EQ(a.at("cpus").as_double(), 0.25);
  EXPECT_EQ(a.at("mem").as_double(), 1536.5);
  EXPECT_EQ(a.at("disk").as_int64(), 100);  // integral values are written as integers
}

TEST(MarathonForm, DesiredImageOverridesDefault) {
  auto t = default_topology(1);
  t.image = "my/heron:1";
  EXPECT_EQ(str(group_of(default_config(), t).at("apps").as_array()[0].at("container").at("docker").at("image")),
            "my/heron:1");
}

TEST(MarathonForm, GroupRootIsConfigurable) {
  auto cfg = default_config();
  cfg.group_root = "/prod/heron/";
  EXPECT_EQ(group_id_for(cfg, "wc"), "/prod/heron/wc");
  EXPECT_EQ(app_id_for(cfg, "wc", 2), "/prod/heron/wc/2");
}

TEST(SpecHash, StableHexAndIgnoresStateAndOnStuck) {
  const auto cfg = default_config();
  auto t = default_topology();
  const auto h = spec_hash(cfg, t);
  EXPECT_TRUE(std::regex_match(h, std::regex("[0-9a-f]{16}"))) << h;
  EXPECT_EQ(spec_hash(cfg, t), h);
  t.state = DesiredState::suspended;
  t.on_stuck = OnStuck::suspend;
  EXPECT_EQ(spec_hash(cfg, t), h);
}

TEST(SpecHash, ChangesWithEverythingThatShapesTheApps) {
  const auto cfg = default_config();
  const auto base = default_topology();
  std::vector<std::function<void(DesiredTopology&)>> edits = {
      [](auto& t) { t.cluster = "other"; },
      [](auto& t) { t.role = "other"; },
      [](auto& t) { t.environ = "staging"; },
      [](auto& t) { t.containers = 3; },
      [](auto& t) { t.resources.cpus = 2.5; },
      [](auto& t) { t.resources.mem = 4097; },
      [](auto& t) { t.resources.disk = 1; },
      [](auto& t) { t.image = "x/y:2"; },
      [](auto& t) { t.package = "https://x/other.tgz"; },
      [](auto& t) { t.core_uri = "https://x/core.tgz"; },
      [](auto& t) { t.topology_id = "wc-2"; },
      [](auto& t) { t.topology_defn_file = "x.defn"; },
      [](auto& t) { t.executor_args = {"--a"}; },
      [](auto& t) { t.env = {{"A", "1"}}; },
      [](auto& t) { t.labels = {{"a", "1"}}; },
      [](auto& t) { t.constraints = {{"hostname", "UNIQUE"}}; },
  };
  std::set<std::string> seen = {spec_hash(cfg, base)};
  for (const auto& e : edits) {
    auto t = base;
    e(t);
    EXPECT_TRUE(seen.insert(spec_hash(cfg, t)).second) << to_json(t);
  }
  auto c2 = cfg;
  c2.default_image = "apache/heron:0.20.6";
  EXPECT_NE(spec_hash(c2, base), spec_hash(cfg, base));  // the default image shapes the apps too
}

TEST(HeronState, PathsInKillOrderTopologiesLast) {
  auto cfg = default_config();
  const auto p = heron_state_paths(cfg, "wc");
  const std::vector<std::string> want = {
      "/heron/tmanagers/wc",   "/heron/tmasters/wc",  "/heron/metricscaches/wc",
      "/heron/packingplans/wc", "/heron/pplans/wc",   "/heron/schedulers/wc",
      "/heron/locks/wc__updateTopology", "/heron/executionstate/wc", "/heron/topologies/wc"};
  EXPECT_EQ(p, want);
  cfg.heron_root = "/custom/root/";
  EXPECT_EQ(heron_state_paths(cfg, "wc").back(), "/custom/root/topologies/wc");
}

}  // namespace
}  // namespace hmc::reconciler::testing
