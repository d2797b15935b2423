// The controller's Marathon app (manifests/marathon-app.json) and its
// Universe-style package (manifests/universe): the template rendered with the
// package's defaults, as DC/OS's package manager does, is the manifest, and
// the real marathon-sim accepts it and runs its instances.

#include "hmc/testing/marathon_sim.hpp"
#include "hmc/testing/process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace {

namespace json = boost::json;
using hmc::testing::MarathonSim;
using hmc::testing::MarathonSimOptions;
using hmc::testing::run_command;
using hmc::testing::wait_until;
using namespace std::chrono_literals;

const std::string kManifests = HMC_SOURCE_DIR "/manifests";
const std::string kTool = HMC_SOURCE_DIR "/test/integration/package/package_tool.py";
const std::string kAppId = "/heron-marathon-controller";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// package_tool.py render with these options (empty: the defaults only).
hmc::testing::CommandResult render(const std::string& options_json = {}) {
  std::vector<std::string> args{"/usr/bin/python3", kTool, "render", kManifests + "/universe"};
  if (!options_json.empty()) {
    const std::string path = ::testing::TempDir() + "/package-options.json";
    hmc::testing::write_file(path, options_json);
    args.push_back(path);
  }
  return run_command(args, {}, 60s);
}

MarathonSimOptions dcos_like_sim() {
  MarathonSimOptions o;
  o.offer_period = "20ms";
  o.agents = {"cpus=4,mem=8192,disk=10000,ports=31000-32000", "cpus=4,mem=8192,disk=10000,ports=31000-32000",
              "cpus=4,mem=8192,disk=10000,ports=31000-32000"};
  o.extra_args = {"--enable-features", "secrets"};  // DC/OS runs Marathon with it
  return o;
}

// Waits until the app has `instances` running, healthy tasks; returns the app.
json::object wait_running(const MarathonSim& sim, const std::string& id, int instances) {
  json::object app;
  wait_until(
      [&] {
        auto r = sim.get("/v2/apps" + id + "?embed=app.counts&embed=app.tasks");
        if (r.status != 200) return false;
        app = json::parse(r.body).at("app").as_object();
        return app.at("tasksRunning").to_number<int>() == instances &&
               app.at("tasksHealthy").to_number<int>() == instances;
      },
      30s);
  return app;
}

TEST(DcosPackage, DefaultsRenderExactlyToTheMarathonAppManifest) {
  auto r = render();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rendered = json::parse(r.out);
  const auto manifest = json::parse(read_text(kManifests + "/marathon-app.json"));
  EXPECT_EQ(rendered, manifest) << "rendered:\n" << r.out;
}

TEST(DcosPackage, TheRenderedAppPassesMarathonValidationAndItsInstancesRun) {
  auto r = render();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  MarathonSim sim(dcos_like_sim());
  auto posted = sim.post("/v2/apps", r.out);
  ASSERT_EQ(posted.status, 201) << posted.body;

  auto app = wait_running(sim, kAppId, 2);
  ASSERT_EQ(app.at("tasksRunning").to_number<int>(), 2) << json::serialize(app);
  EXPECT_EQ(app.at("tasksHealthy").to_number<int>(), 2);
  // hostname UNIQUE: one instance per agent, so one agent's loss leaves a standby.
  std::set<std::string> agents;
  for (const auto& t : app.at("tasks").as_array()) {
    agents.insert(std::string(t.at("slaveId").as_string()));
    EXPECT_EQ(t.at("ports").as_array().size(), 2u) << "metrics and health ports";
  }
  EXPECT_EQ(agents.size(), 2u);
  // What the controller relies on is kept as given.
  EXPECT_EQ(app.at("env").at("DCOS_SERVICE_ACCOUNT_CREDENTIAL").at("secret").as_string(), "serviceCredential");
  EXPECT_EQ(app.at("secrets").at("serviceCredential").at("source").as_string(),
            "heron-marathon-controller/service-account");
  EXPECT_EQ(app.at("healthChecks").at(0).at("path").as_string(), "/healthz");
  EXPECT_EQ(app.at("readinessChecks").at(0).at("path").as_string(), "/readyz");
  EXPECT_EQ(app.at("portDefinitions").at(1).at("name").as_string(), "health");

  // A Marathon without the secrets feature refuses it, naming the field.
  MarathonSimOptions plain = dcos_like_sim();
  plain.extra_args.clear();
  MarathonSim vanilla(plain);
  auto refused = vanilla.post("/v2/apps", r.out);
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("/secrets"), std::string::npos) << refused.body;
}

TEST(DcosPackage, OptionsForZooKeeperCredentialsAndNoServiceAccountRenderAValidApp) {
  auto r = render(R"({"service": {"name": "heron-ctl", "instances": 3, "service_account_secret": ""},
                      "zookeeper": {"credentials_secret": "heron/zk-credentials",
                                    "acl": "digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:rwcda"}})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto app = json::parse(r.out).as_object();
  EXPECT_EQ(app.at("id").as_string(), "/heron-ctl");
  EXPECT_FALSE(app.at("env").as_object().contains("DCOS_SERVICE_ACCOUNT_CREDENTIAL"));
  EXPECT_EQ(app.at("env").at("HMC_ZK_ACL").as_string(), "digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:rwcda");
  EXPECT_EQ(app.at("secrets").as_object().size(), 1u);
  EXPECT_EQ(app.at("container").at("volumes").at(0).at("secret").as_string(), "zkCredentials");
  EXPECT_NE(app.at("cmd").as_string().find("--zk-auth-file $MESOS_SANDBOX/zk-credentials"), std::string::npos);

  MarathonSim sim(dcos_like_sim());
  auto posted = sim.post("/v2/apps", r.out);
  ASSERT_EQ(posted.status, 201) << posted.body;
  EXPECT_EQ(wait_running(sim, "/heron-ctl", 3).at("tasksRunning").to_number<int>(), 3);
}

TEST(DcosPackage, OptionsOutsideTheSchemaAreRefusedBeforeRendering) {
  auto r = render(R"({"service": {"instances": 0}})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("less than the minimum of 1"), std::string::npos) << r.err;
  r = render(R"({"service": {"name": "Upper_Case"}})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;
}

}  // namespace
