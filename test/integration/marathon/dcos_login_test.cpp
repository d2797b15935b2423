// DC/OS service-account login end to end: the real Marathon client with a
// ServiceAccountTokenSource and the real login transport, against
// marathon-sim's login endpoint (--login-public-key). Keys are made at test
// time.

#include "hmc/marathon/dcos_auth.hpp"
#include "hmc/marathon/marathon_client.hpp"
#include "hmc/testing/marathon_sim.hpp"
#include "hmc/testing/process.hpp"
#include "hmc/testing/rsa_keys.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace hmc::marathon {
namespace {

using namespace std::chrono_literals;
using hmc::testing::MarathonSim;
using hmc::testing::MarathonSimOptions;
using hmc::testing::RsaKeyPair;

constexpr const char* kUid = "heron-marathon-controller";
constexpr const char* kLoginPath = "/acs/api/v1/auth/login";

const RsaKeyPair& account_keys() { return hmc::testing::test_key_pair(); }

struct LoginRig {
  explicit LoginRig(bool deterministic, int ttl_seconds) {
    hmc::testing::write_file(dir.path() + "/public.pem", account_keys().public_pem);
    MarathonSimOptions o;
    o.deterministic = deterministic;
    o.login_public_key_file = dir.path() + "/public.pem";
    o.login_uids = {kUid};
    o.token_ttl_seconds = ttl_seconds;
    sim = std::make_unique<MarathonSim>(o);
  }

  std::shared_ptr<ServiceAccountTokenSource> source(const RsaKeyPair& keys = account_keys(),
                                                    const std::string& uid = kUid, std::string endpoint = {}) {
    if (endpoint.empty()) endpoint = sim->url() + kLoginPath;
    auto credential =
        parse_service_account_credential(hmc::testing::service_account_credential(uid, keys, endpoint), "test");
    EXPECT_TRUE(credential) << credential.error().message;
    MarathonOptions options;
    options.request_timeout = 5s;
    auto transport = make_login_transport(credential->login_endpoint, options);
    EXPECT_TRUE(transport) << transport.error().message;
    return std::make_shared<ServiceAccountTokenSource>(*credential, *transport, clock);
  }

  std::unique_ptr<MarathonClient> client(std::shared_ptr<TokenProvider> provider) {
    MarathonOptions options;
    options.base_url = sim->url();
    options.token_provider = std::move(provider);
    options.event_backoff_initial = 50ms;
    auto c = make_client(options);
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }

  // "<method> <path> <status>" of every request since the last call.
  std::vector<std::string> requests() {
    std::vector<std::string> out;
    for (const auto& r : sim->requests()) out.push_back(r.method + " " + r.path + " " + std::to_string(r.status));
    sim->clear_requests();
    return out;
  }

  int count(const std::vector<std::string>& log, const std::string& suffix_or_prefix) {
    return static_cast<int>(std::count_if(log.begin(), log.end(), [&](const std::string& l) {
      return l.find(suffix_or_prefix) != std::string::npos;
    }));
  }

  hmc::testing::TempDir dir;
  std::unique_ptr<MarathonSim> sim;
  SystemTimeSource clock;
};

TEST(DcosLogin, TheClientSendsTheTokenItLoggedInFor) {
  LoginRig rig(true, 600);
  auto source = rig.source();
  ASSERT_TRUE(source->login());
  auto client = rig.client(source);
  ASSERT_TRUE(client->info());
  ASSERT_TRUE(client->observe("/heron/topologies"));
  const auto log = rig.requests();
  EXPECT_EQ(rig.count(log, "POST /acs/api/v1/auth/login 200"), 1);
  EXPECT_EQ(rig.count(log, " 401"), 0) << ::testing::PrintToString(log);
  EXPECT_EQ(rig.count(log, "GET /v2/queue?embed=lastUnusedOffers 200"), 1);
  ASSERT_EQ(rig.sim->logins().size(), 1u);
  EXPECT_EQ(rig.sim->logins()[0].token, source->current_token());
}

TEST(DcosLogin, WithoutATokenTheApiAnswers401AcsJwt) {
  LoginRig rig(true, 600);
  auto r = rig.sim->get("/v2/groups");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate"), "acsjwt");
}

TEST(DcosLogin, ATokenExpiredEarlyIsReplacedByOneLoginAndTheRequestSucceeds) {
  LoginRig rig(true, 600);
  auto source = rig.source();
  ASSERT_TRUE(source->login());
  auto client = rig.client(source);
  rig.requests();
  rig.sim->advance("11m");  // the simulator's clock only: the token source still trusts its token

  auto created = client->create_group(R"({"id":"/heron/topologies/wc","apps":[]})");
  ASSERT_TRUE(created) << created.error().message;
  const auto log = rig.requests();
  ASSERT_EQ(log.size(), 3u) << ::testing::PrintToString(log);
  EXPECT_EQ(log[0], "POST /v2/groups 401");
  EXPECT_EQ(log[1], "POST /acs/api/v1/auth/login 200");
  EXPECT_EQ(log[2], "POST /v2/groups 201");
  EXPECT_EQ(source->logins(), 2u);

  // Many requests rejected at once still cost one login.
  rig.sim->advance("11m");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      if (!client->list_deployments()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(source->logins(), 3u);
  EXPECT_EQ(rig.count(rig.requests(), "GET /v2/deployments 200"), 6);
}

TEST(DcosLogin, RenewsBeforeExpirySoNoRequestIsRefused) {
  LoginRig rig(false, 2);  // real time: tokens last 2 s, renewal due after 1.6 s
  auto source = rig.source();
  ASSERT_TRUE(source->login());
  auto client = rig.client(source);
  int failures = 0;
  const bool renewed_twice = hmc::testing::wait_until(
      [&] {
        if (!client->list_deployments()) ++failures;
        return source->logins() >= 3;
      },
      30s, 100ms);
  EXPECT_TRUE(renewed_twice);
  EXPECT_EQ(failures, 0);
  const auto log = rig.requests();
  EXPECT_EQ(rig.count(log, " 401"), 0) << ::testing::PrintToString(log);
  EXPECT_GE(rig.count(log, "POST /acs/api/v1/auth/login 200"), 3);
}

TEST(DcosLogin, TheEventStreamCarriesTheToken) {
  LoginRig rig(false, 600);
  auto source = rig.source();
  ASSERT_TRUE(source->login());
  auto client = rig.client(source);
  std::atomic<bool> attached{false};
  client->subscribe_events({}, [&](const std::string& type, const std::string&) {
    if (type == "event_stream_attached") attached = true;
  });
  EXPECT_TRUE(hmc::testing::wait_until([&] { return attached.load(); }, 20s, 20ms));
}

// A provider whose every token the simulator refuses: counts what it is asked.
struct RefusedTokens final : TokenProvider {
  std::atomic<int> handed_out{0};
  std::atomic<int> rejections{0};
  Result<std::string> token() override { return "never-valid-" + std::to_string(++handed_out); }
  std::string current_token() const override { return "never-valid-" + std::to_string(handed_out.load()); }
  void rejected(const std::string&) override { ++rejections; }
};

TEST(DcosLogin, ARequestIsResentOnceOnlyAndTheSecond401IsTheError) {
  LoginRig rig(true, 600);
  auto provider = std::make_shared<RefusedTokens>();
  auto client = rig.client(provider);
  rig.requests();
  auto r = client->create_group(R"({"id":"/heron/topologies/wc","apps":[]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(r.error().code, 401);
  EXPECT_EQ(provider->handed_out, 2);
  EXPECT_EQ(provider->rejections, 1);
  const auto log = rig.requests();
  EXPECT_EQ(log, (std::vector<std::string>{"POST /v2/groups 401", "POST /v2/groups 401"}));
  EXPECT_EQ(r.error().message.find("never-valid"), std::string::npos) << r.error().message;
}

TEST(DcosLogin, WrongKeyUnknownUidAndUnreachableEndpointAreClearErrors) {
  LoginRig rig(true, 600);
  const RsaKeyPair stranger = hmc::testing::generate_rsa_key_pair();

  auto wrong_key = rig.source(stranger)->login();
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error().kind, ErrorKind::unauthorized);
  EXPECT_NE(wrong_key.error().message.find("refused (401)"), std::string::npos) << wrong_key.error().message;
  EXPECT_NE(wrong_key.error().message.find("ERR_INVALID_CREDENTIALS"), std::string::npos);
  EXPECT_NE(wrong_key.error().message.find("'heron-marathon-controller'"), std::string::npos);

  auto unknown = rig.source(account_keys(), "someone-else")->login();
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::unauthorized);
  EXPECT_NE(unknown.error().message.find("no service account 'someone-else'"), std::string::npos)
      << unknown.error().message;

  const std::string nowhere = "http://127.0.0.1:" + std::to_string(hmc::testing::free_port()) + kLoginPath;
  auto unreachable = rig.source(account_keys(), kUid, nowhere)->login();
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().kind, ErrorKind::unavailable);
  EXPECT_NE(unreachable.error().message.find(nowhere), std::string::npos) << unreachable.error().message;

  // A client whose source cannot log in fails its requests with the login's error, unsent.
  auto client = rig.client(rig.source(stranger));
  rig.requests();
  auto r = client->list_deployments();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unauthorized);
  EXPECT_NE(r.error().message.find("GET /v2/deployments: DC/OS login"), std::string::npos) << r.error().message;
  EXPECT_EQ(rig.count(rig.requests(), "/v2/deployments"), 0);
}

}  // namespace
}  // namespace hmc::marathon
