// Marathon's secrets feature (--enable_features secrets, on by default on
// DC/OS): app secrets and env secret references, validated as Marathon's
// SecretValidation does; and the health check port rule, which the
// controller's own Marathon app relies on.
#include "sim_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace hmc::marathon_sim::testing {
namespace {

namespace json = boost::json;

const char* kAppWithSecret = R"({"id":"/svc/ctl","cmd":"sleep 100","cpus":0.1,"mem":64,
  "secrets":{"serviceCredential":{"source":"heron/controller-secret"}},
  "env":{"PLAIN":"x","DCOS_SERVICE_ACCOUNT_CREDENTIAL":{"secret":"serviceCredential"}}})";

SimOptions with_secrets() {
  auto o = deterministic_options();
  o.features.secrets = true;
  return o;
}

std::vector<std::string> messages_at(const std::string& body, const std::string& path) {
  std::vector<std::string> out;
  const auto answer = json::parse(body);
  for (const auto& d : answer.at("details").as_array()) {
    if (d.at("path").as_string() != path) continue;
    for (const auto& e : d.at("errors").as_array()) out.emplace_back(e.as_string());
  }
  return out;
}

TEST(SimSecrets, RefusedWhileTheFeatureIsOff) {
  SimDriver d;
  auto r = d.call("POST", "/v2/apps", kAppWithSecret);
  ASSERT_EQ(r.status, 422) << r.body;
  auto m = messages_at(r.body, "/secrets");
  ASSERT_EQ(m.size(), 1u) << r.body;
  EXPECT_NE(m[0].find("Feature secrets is not enabled"), std::string::npos);
}

TEST(SimSecrets, AcceptedAndKeptWithTheFeature) {
  SimDriver d(with_secrets());
  auto r = d.call("POST", "/v2/apps", kAppWithSecret);
  ASSERT_EQ(r.status, 201) << r.body;
  auto app = json::parse(d.call("GET", "/v2/apps/svc/ctl").body).at("app").as_object();
  EXPECT_EQ(app.at("secrets").at("serviceCredential").at("source").as_string(), "heron/controller-secret");
  EXPECT_EQ(app.at("env").at("DCOS_SERVICE_ACCOUNT_CREDENTIAL").at("secret").as_string(), "serviceCredential");
  EXPECT_EQ(app.at("env").at("PLAIN").as_string(), "x");
}

TEST(SimSecrets, UndefinedReferencesAndEmptySourcesAreNamed) {
  SimDriver d(with_secrets());
  auto r = d.call("POST", "/v2/apps", R"({"id":"/svc/a","cmd":"x","env":{"CRED":{"secret":"missing"}}})");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(messages_at(r.body, "/env/CRED/secret"), std::vector<std::string>{"references an undefined secret"});

  r = d.call("POST", "/v2/apps", R"({"id":"/svc/a","cmd":"x","secrets":{"s":{"source":""}}})");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(messages_at(r.body, "/secrets/s/source"), std::vector<std::string>{"must not be empty"});

  r = d.call("POST", "/v2/apps", R"({"id":"/svc/a","cmd":"x","secrets":{"s":{}}})");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body).at("message").as_string(), "Invalid JSON");
  EXPECT_FALSE(messages_at(r.body, "/secrets/s/source").empty()) << r.body;

  r = d.call("POST", "/v2/groups", R"({"id":"/g","apps":[{"id":"a","cmd":"x","env":{"C":{"secret":"nope"}}}]})");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_FALSE(messages_at(r.body, "/apps(0)/env/C/secret").empty()) << r.body;
  EXPECT_EQ(d.sim.groups().count("/g"), 0u);
}

TEST(SimHealthChecks, MarathonRunChecksMustAddressAPort) {
  SimDriver d;
  const std::string two_ports = R"("portDefinitions":[{"port":0,"name":"metrics"},{"port":0,"name":"health"}])";
  auto app = [&](const std::string& id, const std::string& check) {
    return R"({"id":")" + id + R"(","cmd":"x",)" + two_ports + R"(,"healthChecks":[)" + check + "]}";
  };
  EXPECT_EQ(d.call("POST", "/v2/apps", app("/a", R"({"protocol":"HTTP","path":"/healthz","portIndex":1})")).status, 201);
  EXPECT_EQ(d.call("POST", "/v2/apps", app("/b", R"({"path":"/healthz"})")).status, 201) << "default HTTP, first port";
  // MESOS_HTTP checks are run by the agent; Marathon does not check the index.
  EXPECT_EQ(d.call("POST", "/v2/apps", app("/c", R"({"protocol":"MESOS_HTTP","path":"/healthz","portIndex":1})")).status,
            201);
  auto r = d.call("POST", "/v2/apps", app("/d", R"({"protocol":"HTTP","path":"/healthz","portIndex":2})"));
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(messages_at(r.body, "/healthChecks(0)"),
            std::vector<std::string>{
                "Health check port indices must address an element of the ports array or container port mappings."});
  r = d.call("POST", "/v2/apps", R"({"id":"/e","cmd":"x","portDefinitions":[],"healthChecks":[{"protocol":"TCP"}]})");
  EXPECT_EQ(r.status, 422) << r.body;
}

TEST(SimSecrets, FeatureListsAsMarathonTakesThem) {
  EXPECT_TRUE(parse_features("secrets").secrets);
  EXPECT_TRUE(parse_features("vips,secrets,gpu_resources").secrets);
  EXPECT_FALSE(parse_features("vips,task_killing").secrets);
  try {
    parse_features("secrets,telepathy");
    ADD_FAILURE() << "an unknown feature is an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'telepathy'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hmc::marathon_sim::testing
