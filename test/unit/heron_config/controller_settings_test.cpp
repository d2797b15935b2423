#include "hmc/heron_config/controller_settings.hpp"

#include "hmc/testing/process.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace hmc::config {
namespace {

using hmc::testing::TempDir;
using hmc::testing::write_file;
using namespace std::chrono_literals;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

ControllerSettings load_text(const std::string& yaml, std::vector<std::string>* warnings = nullptr) {
  TempDir tmp;
  write_file(tmp.path() + "/controller.yaml", yaml);
  return load_controller_settings(tmp.path() + "/controller.yaml", warnings);
}

void expect_error(const std::string& yaml, const std::vector<std::string>& parts) {
  try {
    load_text(yaml);
    ADD_FAILURE() << "no error for: " << yaml;
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "controller.yaml")) << e.what();
    for (const auto& p : parts) EXPECT_TRUE(contains(e.what(), p)) << e.what() << " lacks " << p;
  }
}

void expect_defaults(const ControllerSettings& s) {
  EXPECT_EQ(s.metrics_address, "127.0.0.1:9464");
  EXPECT_EQ(s.health_address, "127.0.0.1:9465");
  EXPECT_EQ(s.resync_period, 5min);
  EXPECT_EQ(s.workers, 4);
  EXPECT_EQ(s.controller_root, "/heron-marathon");
  EXPECT_EQ(s.group_root, "/heron/topologies");
  EXPECT_FALSE(s.policies.remove_orphan_groups);
  EXPECT_TRUE(s.policies.clean_orphan_heron_state);
  EXPECT_EQ(s.policies.orphan_state_grace, 5min);
  EXPECT_EQ(s.policies.kill_force_after, 2min);
  EXPECT_EQ(s.policies.waiting_deadline, 10min);
  EXPECT_EQ(s.policies.waiting_threshold, 30s);
  EXPECT_EQ(s.policies.offer_window, 10min);
  EXPECT_EQ(s.policies.failure_window, 10min);
  EXPECT_EQ(s.marathon.request_timeout, 10s);
  EXPECT_EQ(s.marathon.max_connections, 8);
  EXPECT_EQ(s.marathon.qps, 10);
  EXPECT_EQ(s.marathon.burst, 100);
  EXPECT_EQ(s.marathon.token_file, "");
  EXPECT_EQ(s.log_level, "info");
  EXPECT_EQ(s.log_format, "logfmt");
}

TEST(ControllerSettings, EmptyFileGivesDocumentedDefaults) {
  std::vector<std::string> warnings;
  expect_defaults(load_text("", &warnings));
  EXPECT_TRUE(warnings.empty());
}

TEST(ControllerSettings, ShippedFileStatesTheDefaults) {
  std::vector<std::string> warnings;
  expect_defaults(load_controller_settings(std::string(HMC_CONF_DIR) + "/controller.yaml", &warnings));
  EXPECT_TRUE(warnings.empty()) << warnings.front();
}

TEST(ControllerSettings, ReadsEveryKey) {
  const auto s = load_text(R"(
metrics_address: 0.0.0.0:19464
health_address: localhost:19465
resync_period: 90s
workers: 12
controller_root: /hmc/prod
group_root: /apps/heron
policies:
  remove_orphan_groups: true
  clean_orphan_heron_state: false
  orphan_state_grace: 1h
  kill_force_after: 45s
  waiting_deadline: 20m
  waiting_threshold: 500ms
  offer_window: 1h30m
  failure_window: 3m
marathon:
  request_timeout: 3s
  max_connections: 2
  qps: 2.5
  burst: 7
  token_file: /run/secrets/marathon-token
log:
  level: debug
  format: json
)");
  EXPECT_EQ(s.metrics_address, "0.0.0.0:19464");
  EXPECT_EQ(s.health_address, "localhost:19465");
  EXPECT_EQ(s.resync_period, 90s);
  EXPECT_EQ(s.workers, 12);
  EXPECT_EQ(s.controller_root, "/hmc/prod");
  EXPECT_EQ(s.group_root, "/apps/heron");
  EXPECT_TRUE(s.policies.remove_orphan_groups);
  EXPECT_FALSE(s.policies.clean_orphan_heron_state);
  EXPECT_EQ(s.policies.orphan_state_grace, 1h);
  EXPECT_EQ(s.policies.kill_force_after, 45s);
  EXPECT_EQ(s.policies.waiting_deadline, 20min);
  EXPECT_EQ(s.policies.waiting_threshold, 500ms);
  EXPECT_EQ(s.policies.offer_window, 90min);
  EXPECT_EQ(s.policies.failure_window, 3min);
  EXPECT_EQ(s.marathon.request_timeout, 3s);
  EXPECT_EQ(s.marathon.max_connections, 2);
  EXPECT_EQ(s.marathon.qps, 2.5);
  EXPECT_EQ(s.marathon.burst, 7);
  EXPECT_EQ(s.marathon.token_file, "/run/secrets/marathon-token");
  EXPECT_EQ(s.log_level, "debug");
  EXPECT_EQ(s.log_format, "json");
}

TEST(ControllerSettings, UnknownKeysAreWarnedWithTheirFullName) {
  std::vector<std::string> warnings;
  const auto s = load_text("resync_perod: 1m\npolicies:\n  kill_force_afterr: 1s\ncolour: blue\n", &warnings);
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_TRUE(contains(warnings[0], "'resync_perod'"));
  EXPECT_TRUE(contains(warnings[0], "did you mean 'resync_period'"));
  EXPECT_TRUE(contains(warnings[1], "'policies.kill_force_afterr'"));
  EXPECT_TRUE(contains(warnings[1], "did you mean 'policies.kill_force_after'"));
  EXPECT_TRUE(contains(warnings[2], "'colour'"));
  EXPECT_EQ(s.resync_period, 5min);
}

TEST(ControllerSettings, WrongTypesNameKeyAndExpectedType) {
  expect_error("resync_period: 300\n", {"'resync_period'", "duration like 500ms, 30s, 10m or 1h", "'300'"});
  expect_error("resync_period: 0\n", {"'resync_period'", "greater than 0"});
  expect_error("workers: many\n", {"'workers'", "positive integer"});
  expect_error("workers: 0\n", {"'workers'", "positive integer"});
  expect_error("policies:\n  remove_orphan_groups: sometimes\n", {"'policies.remove_orphan_groups'", "boolean"});
  expect_error("policies: true\n", {"'policies'", "map of settings"});
  expect_error("policies:\n  offer_window: [1m]\n", {"'policies.offer_window'", "duration", "a list"});
  expect_error("policies:\n  failure_window: 0\n", {"'policies.failure_window'", "greater than 0"});
  expect_error("policies:\n  failure_window: soon\n", {"'policies.failure_window'", "duration", "'soon'"});
  expect_error("marathon:\n  qps: 0\n", {"'marathon.qps'", "number greater than 0"});
  expect_error("marathon:\n  request_timeout: 10\n", {"'marathon.request_timeout'", "duration"});
  expect_error("metrics_address: 9464\n", {"'metrics_address'", "HOST:PORT"});
  expect_error("health_address: host:99999\n", {"'health_address'", "HOST:PORT"});
  expect_error("controller_root: heron\n", {"'controller_root'", "absolute path"});
  expect_error("group_root: /heron/\n", {"'group_root'", "absolute path"});
  expect_error("log:\n  level: verbose\n", {"'log.level'", "debug | info | warn | error", "'verbose'"});
  expect_error("log:\n  format: xml\n", {"'log.format'", "logfmt | json"});
  expect_error("workers: [1\n", {"not valid YAML at line"});
  expect_error("- a\n", {"map"});
}

TEST(ControllerSettings, MissingFileIsAnError) {
  TempDir tmp;
  EXPECT_THROW(load_controller_settings(tmp.path() + "/nope.yaml", nullptr), ConfigError);
}

class MarathonToken : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("HMC_MARATHON_TOKEN"); }
  void TearDown() override { ::unsetenv("HMC_MARATHON_TOKEN"); }
  TempDir tmp_;
};

TEST_F(MarathonToken, PrecedenceFlagThenEnvThenSettingsThenSchedulerYaml) {
  write_file(tmp_.path() + "/flag", "from-flag\n");
  write_file(tmp_.path() + "/settings", "  from-settings  \nsecond line ignored\n");
  TokenSources all{tmp_.path() + "/flag", tmp_.path() + "/settings", "from-yaml"};
  ::setenv("HMC_MARATHON_TOKEN", "from-env", 1);
  EXPECT_EQ(resolve_marathon_token(all), "from-flag");
  all.token_file_flag.clear();
  EXPECT_EQ(resolve_marathon_token(all), "from-env");
  ::unsetenv("HMC_MARATHON_TOKEN");
  EXPECT_EQ(resolve_marathon_token(all), "from-settings");
  all.settings_token_file.clear();
  EXPECT_EQ(resolve_marathon_token(all), "from-yaml");
  all.scheduler_token.clear();
  EXPECT_EQ(resolve_marathon_token(all), "");
}

TEST_F(MarathonToken, UnreadableOrEmptyTokenFileIsAnError) {
  write_file(tmp_.path() + "/empty", "\n");
  try {
    resolve_marathon_token({tmp_.path() + "/missing", "", ""});
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "/missing")) << e.what();
    EXPECT_TRUE(contains(e.what(), "--marathon-token-file")) << e.what();
  }
  try {
    resolve_marathon_token({"", tmp_.path() + "/empty", ""});
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "empty")) << e.what();
    EXPECT_TRUE(contains(e.what(), "marathon.token_file")) << e.what();
  }
}

class DcosCredential : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("DCOS_SERVICE_ACCOUNT_CREDENTIAL"); }
  void TearDown() override { ::unsetenv("DCOS_SERVICE_ACCOUNT_CREDENTIAL"); }
  TempDir tmp_;
};

TEST_F(DcosCredential, PrecedenceFlagThenEnvThenSettings) {
  write_file(tmp_.path() + "/flag.json", R"({"uid":"from-flag"})");
  write_file(tmp_.path() + "/settings.json", R"({"uid":"from-settings"})");
  EXPECT_FALSE(resolve_dcos_credential("", ""));
  auto settings = resolve_dcos_credential("", tmp_.path() + "/settings.json");
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->json, R"({"uid":"from-settings"})");
  EXPECT_EQ(settings->origin, "marathon.dcos_credential_file " + tmp_.path() + "/settings.json");
  ::setenv("DCOS_SERVICE_ACCOUNT_CREDENTIAL", R"({"uid":"from-env"})", 1);
  auto env = resolve_dcos_credential("", tmp_.path() + "/settings.json");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->json, R"({"uid":"from-env"})");
  EXPECT_EQ(env->origin, "DCOS_SERVICE_ACCOUNT_CREDENTIAL");
  auto flag = resolve_dcos_credential(tmp_.path() + "/flag.json", tmp_.path() + "/settings.json");
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->json, R"({"uid":"from-flag"})");
  EXPECT_EQ(flag->origin, "--dcos-credential-file " + tmp_.path() + "/flag.json");
}

TEST_F(DcosCredential, UnreadableOrEmptyFileIsAnErrorNamingWhereItCameFrom) {
  write_file(tmp_.path() + "/empty.json", " \n");
  try {
    resolve_dcos_credential(tmp_.path() + "/missing.json", "");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "/missing.json")) << e.what();
    EXPECT_TRUE(contains(e.what(), "--dcos-credential-file")) << e.what();
  }
  try {
    resolve_dcos_credential("", tmp_.path() + "/empty.json");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "is empty")) << e.what();
    EXPECT_TRUE(contains(e.what(), "marathon.dcos_credential_file")) << e.what();
  }
}

TEST(ControllerSettings, DcosLoginKeys) {
  const auto s = load_text("marathon:\n  dcos_credential_file: /run/sa.json\n  dcos_token_lifetime: 30m\n");
  EXPECT_EQ(s.marathon.dcos_credential_file, "/run/sa.json");
  EXPECT_EQ(s.marathon.dcos_token_lifetime, 30min);
  EXPECT_EQ(ControllerSettings{}.marathon.dcos_token_lifetime, 1h);
  expect_error("marathon:\n  dcos_token_lifetime: 0s\n", {"marathon.dcos_token_lifetime", "greater than 0"});
}

}  // namespace
}  // namespace hmc::config
