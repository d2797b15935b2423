// The controller binary logging in as a DC/OS service account against
// marathon-sim's login endpoint, with a real ZooKeeper: tokens that expire
// are replaced without a failed reconcile, a token the simulator stops
// accepting costs one login, and a credential that cannot log in stops the
// start with a message naming it. No token reaches the log, /metrics or a
// status node. Keys are made at test time.

#include "rig.hpp"

#include "hmc/testing/rsa_keys.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <sys/wait.h>
#include <thread>

using namespace std::chrono_literals;
using hmc::reconciler::Phase;
using hmc::testing::ControllerRig;
using hmc::testing::MarathonSimOptions;
using hmc::testing::RigOptions;
using hmc::testing::RsaKeyPair;
using hmc::testing::wait_until;
using hmc::testing::write_file;

namespace {

constexpr const char* kUid = "heron-marathon-controller";
constexpr const char* kLoginPath = "/acs/api/v1/auth/login";
// The harness's own reads (group(), running_tasks()) use the simulator's
// static token; the controller never sees it.
constexpr const char* kHarnessToken = "harness-only";

const RsaKeyPair& account_keys() { return hmc::testing::test_key_pair(); }

struct LoginRig {
  explicit LoginRig(int ttl_seconds, bool deterministic = false, bool start = true) {
    write_file(key_dir.path() + "/public.pem", account_keys().public_pem);
    RigOptions o;
    o.start_controller = false;
    o.configure_sim = [=, this](MarathonSimOptions& so) {
      so.deterministic = deterministic;
      so.token = kHarnessToken;
      so.login_public_key_file = key_dir.path() + "/public.pem";
      so.login_uids = {kUid};
      so.token_ttl_seconds = ttl_seconds;
    };
    rig = std::make_unique<ControllerRig>(o);
    credential = hmc::testing::service_account_credential(kUid, account_keys(), rig->sim().url() + kLoginPath);
    if (start) {
      credential_file = rig->tmp() + "/service-account.json";
      write_file(credential_file, credential);
      rig->start_controller({"--dcos-credential-file", credential_file});
    }
  }

  std::string metrics() { return hmc::testing::http_request(rig->metrics_port(), "GET", "/metrics").body; }

  // The value of an unlabelled counter in /metrics, -1 when absent.
  double counter(const std::string& name) {
    const std::string text = metrics();
    const auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + name.size() + 2));
  }

  int api_401s() {
    int n = 0;
    for (const auto& r : rig->sim().requests())
      if (r.status == 401 && r.path.rfind(kLoginPath, 0) != 0) ++n;
    return n;
  }

  // No token the simulator issued appears in the controller's log, its
  // /metrics or a status node.
  void expect_no_token_leaked(const std::string& topology) {
    const auto logins = rig->sim().logins();
    ASSERT_FALSE(logins.empty());
    const std::string log = rig->controller_log();
    const std::string metrics_text = metrics();
    auto status = rig->zk().get("/heron-marathon/status/" + topology);
    ASSERT_TRUE(status);
    for (const auto& l : logins) {
      const std::string signature = l.token.substr(l.token.rfind('.') + 1);
      EXPECT_EQ(log.find(signature), std::string::npos) << "token in the controller's log";
      EXPECT_EQ(metrics_text.find(signature), std::string::npos) << "token in /metrics";
      EXPECT_EQ(status->data.find(signature), std::string::npos) << "token in the status";
    }
    // Nor the private key.
    EXPECT_EQ(log.find(account_keys().private_pem.substr(40, 60)), std::string::npos);
  }

  hmc::testing::TempDir key_dir;
  std::unique_ptr<ControllerRig> rig;
  std::string credential;
  std::string credential_file;
};

bool submit(ControllerRig& rig, const std::string& name) {
  auto r = rig.cli({"submit", rig.spec_file(name, 1)});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.exit_code == 0;
}

TEST(ControllerDcosLogin, ExpiringTokensAreRenewedWithoutAFailedReconcile) {
  LoginRig l(3);  // real time: each token lasts 3 s, renewal due after 1.6 s
  ControllerRig& rig = *l.rig;
  ASSERT_TRUE(rig.wait_ready()) << rig.controller_log();
  ASSERT_TRUE(submit(rig, "wc-a"));
  ASSERT_TRUE(rig.wait_phase("wc-a", Phase::Running)) << rig.describe("wc-a");
  // Keep the controller busy across several token lifetimes: each SIGHUP is a
  // resync and an observation; a second topology arrives midway.
  int hups = 0;
  const bool renewed = wait_until(
      [&] {
        rig.controller().signal(SIGHUP);
        if (++hups == 10) submit(rig, "wc-b");
        return rig.sim().logins().size() >= 5 && hups >= 12;
      },
      90s, 500ms);
  ASSERT_TRUE(renewed) << rig.sim().logins().size() << " logins\n" << rig.controller_log();
  ASSERT_TRUE(rig.wait_phase("wc-b", Phase::Running)) << rig.describe("wc-b");

  EXPECT_EQ(l.api_401s(), 0) << "a request went out with an expired token";
  EXPECT_EQ(l.counter("heron_marathon_reconcile_errors_total"), 0) << l.metrics();
  EXPECT_GE(l.counter("heron_marathon_dcos_logins_total{result=\"success\"}"), 5) << l.metrics();
  EXPECT_EQ(l.counter("heron_marathon_dcos_logins_total{result=\"refused\"}"), 0) << l.metrics();
  // The token's expiry is ahead (each lasts 3 s and is renewed after 1.6 s).
  const double expiry = l.counter("heron_marathon_dcos_token_expiry_timestamp_seconds");
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(expiry, now - 1) << l.metrics();
  EXPECT_LT(expiry, now + 10) << l.metrics();
  for (const std::string name : {"wc-a", "wc-b"}) {
    auto st = rig.status(name);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->last_error, "") << name;
    EXPECT_EQ(st->retry_count, 0) << name;
  }
  EXPECT_NE(rig.controller_log().find("event=\"dcos login\""), std::string::npos);
  l.expect_no_token_leaked("wc-a");
  // SIGTERM still reaches the main thread (the login client's threads block it).
  const int status = rig.controller().stop(10s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(rig.controller_log().find("shutting down"), std::string::npos);
}

TEST(ControllerDcosLogin, ATokenRefusedByMarathonCostsOneLoginAndNoFailedReconcile) {
  LoginRig l(600, /*deterministic=*/true);
  ControllerRig& rig = *l.rig;
  ASSERT_TRUE(rig.wait_ready()) << rig.controller_log();
  ASSERT_TRUE(submit(rig, "wc-a"));
  ASSERT_TRUE(wait_until([&] { return rig.requests("POST", "/v2/groups") == 1; }, 30s)) << rig.controller_log();
  ASSERT_EQ(rig.sim().logins().size(), 1u);

  // The simulator's clock moves past the token's expiry; the controller's
  // does not, so its next request carries the token and is refused.
  rig.sim().clear_requests();
  rig.sim().advance("11m");
  ASSERT_TRUE(submit(rig, "wc-b"));
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& r : rig.sim().requests())
          if (r.method == "POST" && r.path == "/v2/groups" && r.status == 201) return true;
        return false;
      },
      30s))
      << rig.controller_log();
  for (int i = 0; i < 20; ++i) rig.sim().tick(5);
  ASSERT_TRUE(rig.wait_phase("wc-b", Phase::Running)) << rig.describe("wc-b");

  const auto requests = rig.sim().requests();
  int refused = 0, logins = 0;
  for (const auto& r : requests) {
    if (r.path.rfind(kLoginPath, 0) == 0) {
      ++logins;
      EXPECT_EQ(r.status, 200);
    } else if (r.status == 401) {
      ++refused;
    }
  }
  EXPECT_EQ(logins, 1);
  // Each request in flight when the token lapsed is refused once at most
  // and then resent (workers and the observer may each have had one).
  EXPECT_GE(refused, 1);
  EXPECT_LE(refused, 6);
  EXPECT_EQ(rig.sim().logins().size(), 2u);
  EXPECT_EQ(l.counter("heron_marathon_reconcile_errors_total"), 0) << l.metrics();
  EXPECT_EQ(l.counter("heron_marathon_dcos_logins_total{result=\"success\"}"), 2) << l.metrics();
  EXPECT_EQ(l.counter("heron_marathon_dcos_logins_total{result=\"error\"}"), 0) << l.metrics();
  auto st = rig.status("wc-b");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->last_error, "");
  l.expect_no_token_leaked("wc-b");
}

// The controller's output: its log lines and usage errors go to stderr.
std::string output(const hmc::testing::CommandResult& r) { return r.out + r.err; }

std::vector<std::string> controller_argv(ControllerRig& rig, std::vector<std::string> extra) {
  std::vector<std::string> argv = {std::string(HMC_BINARY_DIR) + "/controller/heron-marathon-controller",
                                   "--zk", rig.zookeeper().connect_string(), "--marathon", rig.sim().url(),
                                   "--metrics-address", "", "--health-address", "", "--no-leader-election"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(ControllerDcosLogin, ACredentialThatCannotLogInStopsTheStart) {
  LoginRig l(600, false, /*start=*/false);
  ControllerRig& rig = *l.rig;
  const RsaKeyPair stranger = hmc::testing::generate_rsa_key_pair();

  // Wrong key, from the env variable DC/OS injects.
  const std::string wrong =
      hmc::testing::service_account_credential(kUid, stranger, rig.sim().url() + kLoginPath);
  auto r = hmc::testing::run_command(controller_argv(rig, {}), {}, 60s, {{"DCOS_SERVICE_ACCOUNT_CREDENTIAL", wrong}});
  EXPECT_EQ(r.exit_code, 1) << output(r);
  EXPECT_NE(output(r).find("cannot log in to DC/OS"), std::string::npos) << output(r);
  EXPECT_NE(output(r).find("credential=DCOS_SERVICE_ACCOUNT_CREDENTIAL"), std::string::npos) << output(r);
  EXPECT_NE(output(r).find("refused (401)"), std::string::npos) << output(r);
  EXPECT_NE(output(r).find("ERR_INVALID_CREDENTIALS"), std::string::npos) << output(r);
  EXPECT_EQ(output(r).find(stranger.private_pem.substr(40, 60)), std::string::npos);

  // Unknown account, from a file.
  const std::string unknown_file = rig.tmp() + "/unknown.json";
  write_file(unknown_file,
             hmc::testing::service_account_credential("nobody", account_keys(), rig.sim().url() + kLoginPath));
  r = hmc::testing::run_command(controller_argv(rig, {"--dcos-credential-file", unknown_file}), {}, 60s);
  EXPECT_EQ(r.exit_code, 1) << output(r);
  EXPECT_NE(output(r).find("credential=\"--dcos-credential-file " + unknown_file + "\""), std::string::npos) << output(r);
  EXPECT_NE(output(r).find("no service account 'nobody'"), std::string::npos) << output(r);

  // Unreachable login endpoint.
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(hmc::testing::free_port()) + kLoginPath;
  r = hmc::testing::run_command(controller_argv(rig, {}), {}, 60s,
                                {{"DCOS_SERVICE_ACCOUNT_CREDENTIAL",
                                  hmc::testing::service_account_credential(kUid, account_keys(), nowhere)}});
  EXPECT_EQ(r.exit_code, 1) << output(r);
  EXPECT_NE(output(r).find(nowhere), std::string::npos) << output(r);

  // A malformed credential is a usage error naming the field.
  r = hmc::testing::run_command(controller_argv(rig, {}), {}, 60s,
                                {{"DCOS_SERVICE_ACCOUNT_CREDENTIAL", R"({"uid":"x","scheme":"RS256"})"}});
  EXPECT_EQ(r.exit_code, 2) << output(r);
  EXPECT_NE(output(r).find("DCOS_SERVICE_ACCOUNT_CREDENTIAL: field 'private_key' is missing"), std::string::npos)
      << output(r);
  EXPECT_TRUE(rig.sim().logins().empty());
}

}  // namespace
