#include "hmc/heron_config/cluster_config.hpp"

#include "hmc/testing/process.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace hmc::config {
namespace {

using hmc::testing::TempDir;
using hmc::testing::write_file;
using namespace std::chrono_literals;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A conf dir named `cluster` inside a temporary directory.
class ConfDir {
 public:
  explicit ConfDir(const std::string& scheduler, const std::string& statemgr,
                   const std::string& cluster = "dcos1") {
    dir_ = tmp_.path() + "/" + cluster;
    std::filesystem::create_directories(dir_);
    write_file(dir_ + "/scheduler.yaml", scheduler);
    write_file(dir_ + "/statemgr.yaml", statemgr);
  }
  const std::string& path() const { return dir_; }

 private:
  TempDir tmp_;
  std::string dir_;
};

// Expects load_cluster_config to throw a ConfigError whose message has every part.
void expect_error(const ConfDir& dir, const std::vector<std::string>& parts) {
  try {
    load_cluster_config(dir.path(), nullptr);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    for (const auto& p : parts) EXPECT_TRUE(contains(e.what(), p)) << e.what() << " lacks " << p;
  }
}

TEST(ClusterConfig, DefaultsWhenFilesAreEmpty) {
  ConfDir dir("", "");
  std::vector<std::string> warnings;
  const auto c = load_cluster_config(dir.path(), &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(c.cluster, "dcos1");
  EXPECT_EQ(c.scheduler.marathon_uri, "");
  EXPECT_FALSE(c.scheduler.is_service);
  EXPECT_EQ(c.statemgr.root_path, "/heron");
  EXPECT_TRUE(c.statemgr.initialize_tree);
  EXPECT_EQ(c.statemgr.session_timeout, 30000ms);
  EXPECT_EQ(c.statemgr.connection_timeout, 30000ms);
  EXPECT_EQ(c.statemgr.retry_count, 10);
  EXPECT_EQ(c.statemgr.retry_interval, 10000ms);
  EXPECT_FALSE(c.statemgr.tunnel.needed);
  EXPECT_EQ(c.statemgr.tunnel.connection_timeout, 1000ms);
  EXPECT_EQ(c.statemgr.tunnel.connection_retry_count, 2);
  EXPECT_EQ(c.statemgr.tunnel.retry_interval, 1000ms);
  EXPECT_EQ(c.statemgr.tunnel.verify_count, 10);
  EXPECT_FALSE(c.statemgr.tunnel.accept_unknown_host_key);
  EXPECT_TRUE(c.statemgr.tunnel.use_agent);
}

TEST(ClusterConfig, ReadsEveryKey) {
  ConfDir dir(R"(
heron.class.scheduler: org.apache.heron.scheduler.marathon.MarathonScheduler
heron.class.launcher: org.apache.heron.scheduler.marathon.MarathonLauncher
heron.directory.home: /opt/heron
heron.directory.conf: "./heron-conf/"
heron.directory.sandbox.java.home: /usr/lib/jvm/java-11
heron.marathon.scheduler.uri: "https://dcos.example/service/marathon"
heron.marathon.scheduler.auth.token: "tok$en"
heron.scheduler.is.service: False
heron.package.core.uri: https://example.com/heron-core.tar.gz
heron.executor.docker.image: 'streamlio/heron:latest-ubuntu14.04'
)",
              R"(
heron.class.state.manager: org.apache.heron.statemgr.zookeeper.curator.CuratorStateManager
heron.statemgr.connection.string: "zk1:2181,zk2:2181"
heron.statemgr.root.path: "/heron-dcos"
heron.statemgr.zookeeper.is.initialize.tree: False
heron.statemgr.zookeeper.session.timeout.ms: 20000
heron.statemgr.zookeeper.connection.timeout.ms: 15000
heron.statemgr.zookeeper.retry.count: 3
heron.statemgr.zookeeper.retry.interval.ms: 500
heron.statemgr.is.tunnel.needed: True
heron.statemgr.tunnel.connection.timeout.ms: 700
heron.statemgr.tunnel.connection.retry.count: 4
heron.statemgr.tunnel.retry.interval.ms: 250
heron.statemgr.tunnel.verify.count: 6
heron.statemgr.tunnel.host: "centos@bastion:2222"
heron.statemgr.tunnel.key.file: /keys/id_ed25519
heron.statemgr.tunnel.key.passphrase.file: /keys/pass
heron.statemgr.tunnel.known.hosts.file: /keys/known_hosts
heron.statemgr.tunnel.accept.unknown.host.key: true
heron.statemgr.tunnel.use.agent: false
heron.statemgr.tunnel.keepalive.interval.ms: 5000
)");
  std::vector<std::string> warnings;
  const auto c = load_cluster_config(dir.path(), &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(c.scheduler.marathon_uri, "https://dcos.example/service/marathon");
  EXPECT_EQ(c.scheduler.auth_token, "tok$en");  // tokens are never substituted
  EXPECT_EQ(c.scheduler.docker_image, "streamlio/heron:latest-ubuntu14.04");
  EXPECT_EQ(c.scheduler.core_uri, "https://example.com/heron-core.tar.gz");
  EXPECT_FALSE(c.scheduler.is_service);
  EXPECT_EQ(c.scheduler.directories.at("home"), "/opt/heron");
  EXPECT_EQ(c.scheduler.directories.at("conf"), "./heron-conf/");
  EXPECT_EQ(c.scheduler.directories.at("sandbox.java.home"), "/usr/lib/jvm/java-11");
  const auto& s = c.statemgr;
  EXPECT_EQ(s.connection_string, "zk1:2181,zk2:2181");
  EXPECT_EQ(s.root_path, "/heron-dcos");
  EXPECT_FALSE(s.initialize_tree);
  EXPECT_EQ(s.session_timeout, 20000ms);
  EXPECT_EQ(s.connection_timeout, 15000ms);
  EXPECT_EQ(s.retry_count, 3);
  EXPECT_EQ(s.retry_interval, 500ms);
  EXPECT_TRUE(s.tunnel.needed);
  EXPECT_EQ(s.tunnel.connection_timeout, 700ms);
  EXPECT_EQ(s.tunnel.connection_retry_count, 4);
  EXPECT_EQ(s.tunnel.retry_interval, 250ms);
  EXPECT_EQ(s.tunnel.verify_count, 6);
  EXPECT_EQ(s.tunnel.host, "centos@bastion:2222");
  EXPECT_EQ(s.tunnel.key_file, "/keys/id_ed25519");
  EXPECT_EQ(s.tunnel.passphrase_file, "/keys/pass");
  EXPECT_EQ(s.tunnel.known_hosts_file, "/keys/known_hosts");
  EXPECT_TRUE(s.tunnel.accept_unknown_host_key);
  EXPECT_FALSE(s.tunnel.use_agent);
  EXPECT_EQ(s.tunnel.keepalive_interval, 5000ms);
}

TEST(ClusterConfig, SubstitutesHeronVariablesAndEnvironment) {
  ::setenv("HMC_TEST_ZK_HOST", "zk.internal", 1);
  ConfDir dir(R"(
heron.directory.home: /opt/heron
heron.directory.sandbox.java.home: ${JAVA_HOME}
heron.package.core.uri: file://${HOME}/.heron/dist/heron-core.tar.gz
heron.executor.docker.image: "registry/${CLUSTER}/${ROLE}-${ENVIRON}:1"
heron.marathon.scheduler.uri: "http://$HMC_TEST_ZK_HOST:8080"
heron.directory.conf: ${HERON_HOME}/conf/${CLUSTER}
)",
              R"(
heron.statemgr.connection.string: "${HMC_TEST_ZK_HOST}:2181"
heron.statemgr.root.path: "/heron/${CLUSTER}/${HERON_DIST}"
heron.statemgr.tunnel.key.file: ~/.ssh/id_ed25519
)",
              "prod-east");
  SubstitutionOptions opts;
  opts.role = "analytics";
  opts.environ = "staging";
  opts.variables = {{"HOME", "/home/heron"}, {"JAVA_HOME", "/jvm"}};
  std::vector<std::string> warnings;
  const auto c = load_cluster_config(dir.path(), &warnings, opts);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(c.cluster, "prod-east");
  EXPECT_EQ(c.scheduler.directories.at("sandbox.java.home"), "/jvm");
  EXPECT_EQ(c.scheduler.core_uri, "file:///home/heron/.heron/dist/heron-core.tar.gz");
  EXPECT_EQ(c.scheduler.docker_image, "registry/prod-east/analytics-staging:1");
  EXPECT_EQ(c.scheduler.marathon_uri, "http://zk.internal:8080");
  EXPECT_EQ(c.scheduler.directories.at("conf"), "/opt/heron/conf/prod-east");
  EXPECT_EQ(c.statemgr.connection_string, "zk.internal:2181");
  EXPECT_EQ(c.statemgr.root_path, "/heron/prod-east//opt/heron/dist");
  EXPECT_EQ(c.statemgr.tunnel.key_file, "/home/heron/.ssh/id_ed25519");
  ::unsetenv("HMC_TEST_ZK_HOST");
}

TEST(ClusterConfig, UndefinedVariableIsKeptAndWarned) {
  ::unsetenv("HMC_TEST_UNDEFINED");
  ConfDir dir("heron.package.core.uri: /pkgs/${HMC_TEST_UNDEFINED}/core.tgz\n"
              "heron.executor.docker.image: img-${TOPOLOGY}\n",
              "");
  std::vector<std::string> warnings;
  const auto c = load_cluster_config(dir.path(), &warnings);
  EXPECT_EQ(c.scheduler.core_uri, "/pkgs/${HMC_TEST_UNDEFINED}/core.tgz");
  EXPECT_EQ(c.scheduler.docker_image, "img-${TOPOLOGY}");  // per topology, no warning
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], "heron.package.core.uri"));
  EXPECT_TRUE(contains(warnings[0], "HMC_TEST_UNDEFINED"));
}

TEST(Substitute, LeavesOtherDollarsAlone) {
  std::map<std::string, std::string> vars{{"A", "x"}};
  EXPECT_EQ(substitute("$A/${A}/$$/${/$1/${A", vars), "x/x/$$/${/$1/${A");
  EXPECT_EQ(substitute("~", {{"HOME", "/h"}}), "/h");
  EXPECT_EQ(substitute("a~b", {{"HOME", "/h"}}), "a~b");
}

TEST(ClusterConfig, UnknownAndMisspelledKeysAreWarnedByName) {
  ConfDir dir("heron.marathon.scheduler.url: http://x\nheron.class.scheduler: X\nsomething.else: 1\n",
              "heron.statemgr.zookeeper.session.timout.ms: 5\n");
  std::vector<std::string> warnings;
  const auto c = load_cluster_config(dir.path(), &warnings);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_TRUE(contains(warnings[0], "scheduler.yaml"));
  EXPECT_TRUE(contains(warnings[0], "'heron.marathon.scheduler.url'"));
  EXPECT_TRUE(contains(warnings[0], "did you mean 'heron.marathon.scheduler.uri'"));
  EXPECT_TRUE(contains(warnings[1], "'something.else'"));
  EXPECT_FALSE(contains(warnings[1], "did you mean"));
  EXPECT_TRUE(contains(warnings[2], "statemgr.yaml"));
  EXPECT_TRUE(contains(warnings[2], "did you mean 'heron.statemgr.zookeeper.session.timeout.ms'"));
  EXPECT_EQ(c.statemgr.session_timeout, 30000ms);  // the misspelled key changed nothing
}

TEST(ClusterConfig, SuggestsTheNearestKeyAndNothingForALongUnknownOne) {
  // Two edits from heron.statemgr.zookeeper.session.timeout.ms, farther from
  // every other key; then a 1000-character key (YAML allows 1024), near nothing.
  ConfDir dir("", "heron.statemgr.zookeeper.sesion.timeout.mss: 5\n" + std::string(1000, 'k') + ": 1\n");
  std::vector<std::string> warnings;
  load_cluster_config(dir.path(), &warnings);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_TRUE(contains(warnings[0], "did you mean 'heron.statemgr.zookeeper.session.timeout.ms'")) << warnings[0];
  EXPECT_TRUE(contains(warnings[1], "unknown key 'kkkk"));
  EXPECT_FALSE(contains(warnings[1], "did you mean")) << warnings[1].substr(warnings[1].size() - 80);
}

TEST(ClusterConfig, WrongTypesNameFileKeyAndType) {
  expect_error(ConfDir("", "heron.statemgr.zookeeper.session.timeout.ms: soon\n"),
               {"statemgr.yaml", "heron.statemgr.zookeeper.session.timeout.ms", "non-negative integer (milliseconds)", "'soon'"});
  expect_error(ConfDir("", "heron.statemgr.zookeeper.retry.interval.ms: -5\n"),
               {"statemgr.yaml", "heron.statemgr.zookeeper.retry.interval.ms", "non-negative integer"});
  expect_error(ConfDir("", "heron.statemgr.is.tunnel.needed: maybe\n"),
               {"statemgr.yaml", "heron.statemgr.is.tunnel.needed", "boolean"});
  expect_error(ConfDir("heron.marathon.scheduler.uri: [a, b]\n", ""),
               {"scheduler.yaml", "heron.marathon.scheduler.uri", "a string", "a list"});
  expect_error(ConfDir("heron.directory.home: {a: b}\n", ""),
               {"scheduler.yaml", "heron.directory.home", "a string", "a map"});
  expect_error(ConfDir("heron.scheduler.is.service: 3\n", ""),
               {"scheduler.yaml", "heron.scheduler.is.service", "boolean"});
  expect_error(ConfDir("", "heron.statemgr.tunnel.verify.count: 0\n"),
               {"heron.statemgr.tunnel.verify.count", "positive integer"});
  expect_error(ConfDir("", "heron.statemgr.zookeeper.retry.count: 2.5\n"),
               {"heron.statemgr.zookeeper.retry.count", "integer", "'2.5'"});
}

TEST(ClusterConfig, BadFilesAreErrorsNamingTheFile) {
  expect_error(ConfDir("heron.class.scheduler: X\nheron.marathon.scheduler.uri: [unclosed\n", ""),
               {"scheduler.yaml", "not valid YAML at line"});
  expect_error(ConfDir("- a\n- b\n", ""), {"scheduler.yaml", "map"});
  expect_error(ConfDir("", "just a string\n"), {"statemgr.yaml", "map"});
  expect_error(ConfDir("", "heron.statemgr.is.tunnel.needed: true\n"),
               {"statemgr.yaml", "heron.statemgr.tunnel.host", "user@host"});
  expect_error(ConfDir("", "heron.statemgr.root.path: heron\n"),
               {"statemgr.yaml", "heron.statemgr.root.path", "absolute"});

  TempDir tmp;
  try {
    load_cluster_config(tmp.path(), nullptr);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "scheduler.yaml")) << e.what();
    EXPECT_TRUE(contains(e.what(), "cannot read")) << e.what();
  }
  try {
    load_cluster_config(tmp.path() + "/missing", nullptr);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "not a directory")) << e.what();
  }
}

TEST(ClusterConfig, ShippedMarathonExampleLoads) {
  SubstitutionOptions opts;
  opts.variables = {{"HOME", "/home/u"}, {"JAVA_HOME", "/jvm"}, {"HERON_HOME", "/opt/heron"}};
  std::vector<std::string> warnings;
  const auto c = load_cluster_config(std::string(HMC_CONF_DIR) + "/marathon", &warnings, opts);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(c.cluster, "marathon");
  EXPECT_EQ(c.scheduler.marathon_uri, "http://127.0.0.1:8080");
  EXPECT_EQ(c.scheduler.docker_image, "streamlio/heron:latest-ubuntu14.04");
  EXPECT_EQ(c.scheduler.core_uri, "file:///home/u/.heron/dist/heron-core.tar.gz");
  EXPECT_EQ(c.scheduler.directories.at("home"), "/opt/heron");
  EXPECT_EQ(c.statemgr.connection_string, "leader.mesos:2181");
  EXPECT_EQ(c.statemgr.root_path, "/heron");
  EXPECT_TRUE(c.statemgr.tunnel.needed);
  EXPECT_EQ(c.statemgr.tunnel.host, "centos@<host>");
  EXPECT_EQ(c.statemgr.tunnel.key_file, "/home/u/.ssh/id_ed25519");
}

TEST(Duration, ParsesAndFormats) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("10m"), 10min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("0"), 0ms);
  for (const char* bad : {"", "5", "s", "10 s", "1d", "-5s", "1.5s", "ms"}) {
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
  }
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(5min), "5m");
  EXPECT_EQ(format_duration(2h), "2h");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
}

}  // namespace
}  // namespace hmc::config
