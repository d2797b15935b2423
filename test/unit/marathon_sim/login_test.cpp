// The simulator's DC/OS login (--login-public-key, --login-uid, --token-ttl):
// the IAM's answers to good and bad login tokens, and Admin Router's 401
// with `WWW-Authenticate: acsjwt` for API requests without a valid token.
// Issued tokens expire in the simulator's (here stepped) time.

#include "hmc/jwt/jwt.hpp"
#include "hmc/testing/rsa_keys.hpp"
#include "sim_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace hmc::marathon_sim::testing {
namespace {

namespace json = boost::json;
using hmc::testing::RsaKeyPair;

const RsaKeyPair& account_keys() { return hmc::testing::test_key_pair(); }
const RsaKeyPair& stranger_keys() {
  static const RsaKeyPair k = hmc::testing::generate_rsa_key_pair();
  return k;
}

constexpr std::int64_t kSimStart = 1'700'000'000;  // ManualTimeSource's start

SimOptions with_login(int ttl_seconds = 600) {
  auto o = deterministic_options();
  o.login.public_key_pem = account_keys().public_pem;
  o.login.uids = {"heron-marathon-controller", "other-service"};
  o.login.token_ttl = std::chrono::seconds{ttl_seconds};
  return o;
}

std::string login_body(const std::string& uid, const RsaKeyPair& keys, std::int64_t exp,
                       const std::string& claimed_uid = {}) {
  const std::string claims =
      json::serialize(json::object{{"uid", claimed_uid.empty() ? uid : claimed_uid}, {"exp", exp}});
  return json::serialize(json::object{{"uid", uid}, {"token", jwt::sign_rs256(claims, keys.private_pem).value()}});
}

std::string issued_token(SimDriver& d, const std::string& uid = "heron-marathon-controller") {
  auto r = d.call("POST", "/acs/api/v1/auth/login", login_body(uid, account_keys(), kSimStart + 300));
  EXPECT_EQ(r.status, 200) << r.body;
  return std::string(json::parse(r.body).at("token").as_string());
}

TEST(SimLogin, ValidLoginTokenGetsAnExpiringToken) {
  SimDriver d(with_login());
  const std::string token = issued_token(d);
  auto parts = jwt::split(token);
  ASSERT_TRUE(parts);
  const auto claims = json::parse(parts->claims).as_object();
  EXPECT_EQ(claims.at("uid").as_string(), "heron-marathon-controller");
  EXPECT_EQ(claims.at("iat").to_number<std::int64_t>(), kSimStart);
  EXPECT_EQ(claims.at("exp").to_number<std::int64_t>(), kSimStart + 600);
  EXPECT_NE(issued_token(d), token);  // every login a new token

  const auto logins = d.json("GET", "/_sim/logins").at("logins").as_array();
  ASSERT_EQ(logins.size(), 2u);
  EXPECT_EQ(logins[0].at("token").as_string(), token);
  EXPECT_EQ(logins[0].at("expiresAt").as_string(), "2023-11-14T22:23:20.000Z");
}

TEST(SimLogin, ApiNeedsAValidTokenOnceLoginIsEnabled) {
  SimDriver d(with_login());
  for (const std::string auth : {"", "token=", "token=made-up", "Bearer x"}) {
    auto r = d.call("GET", "/v2/groups", {}, auth);
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_EQ(header(r, "WWW-Authenticate"), "acsjwt");
    EXPECT_EQ(json::parse(r.body).at("message").as_string(), "Not Authorized to perform this action!");
  }
  const std::string token = issued_token(d);
  EXPECT_EQ(d.call("GET", "/v2/groups", {}, "token=" + token).status, 200);
  EXPECT_EQ(d.call("GET", "/ping", {}, "token=" + token).status, 200);
  // A token signed by anyone else than the simulator is not one of its tokens.
  const std::string forged = jwt::sign_hs256(R"({"uid":"heron-marathon-controller","exp":9999999999})", "guess");
  EXPECT_EQ(d.call("GET", "/v2/groups", {}, "token=" + forged).status, 401);
}

TEST(SimLogin, IssuedTokensExpireInSteppedTime) {
  SimDriver d(with_login(600));
  const std::string token = issued_token(d);
  d.call("POST", "/_sim/tick?duration=9m");
  EXPECT_EQ(d.call("GET", "/v2/deployments", {}, "token=" + token).status, 200);
  d.call("POST", "/_sim/tick?duration=1m");
  auto r = d.call("GET", "/v2/deployments", {}, "token=" + token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(header(r, "WWW-Authenticate"), "acsjwt");
}

TEST(SimLogin, RefusalsAre401WithTheIamsErrorShape) {
  SimDriver d(with_login());
  struct Case {
    const char* name;
    std::string body;
    int status;
    const char* description;
  };
  const std::vector<Case> cases = {
      {"wrong key", login_body("heron-marathon-controller", stranger_keys(), kSimStart + 300), 401,
       "not an RS256 JWT signed with the key of 'heron-marathon-controller'"},
      {"unknown uid", login_body("nobody", account_keys(), kSimStart + 300), 401, "no service account 'nobody'"},
      {"uid claim differs", login_body("heron-marathon-controller", account_keys(), kSimStart + 300, "other-service"),
       401, "uid claim is not 'heron-marathon-controller'"},
      {"expired login token", login_body("heron-marathon-controller", account_keys(), kSimStart - 1), 401,
       "the login token expired"},
      {"password login", R"({"uid":"heron-marathon-controller","password":"x"})", 401, "logs in with 'token'"},
      {"no json", "uid=x", 400, "lacks JSON"},
  };
  for (const auto& c : cases) {
    auto r = d.call("POST", "/acs/api/v1/auth/login", c.body);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    const auto o = json::parse(r.body).as_object();
    EXPECT_NE(std::string(o.at("description").as_string()).find(c.description), std::string::npos)
        << c.name << ": " << r.body;
    if (c.status == 401) {
      EXPECT_EQ(o.at("code").as_string(), "ERR_INVALID_CREDENTIALS") << c.name;
      EXPECT_EQ(header(r, "WWW-Authenticate"), "acsjwt") << c.name;
    }
  }
  EXPECT_TRUE(d.json("GET", "/_sim/logins").at("logins").as_array().empty());
}

TEST(SimLogin, StaticTokenStillWorksBesideTheLogin) {
  auto o = with_login();
  o.token = "static-secret";
  SimDriver d(o);
  EXPECT_EQ(d.call("GET", "/v2/groups", {}, "token=static-secret").status, 200);
  EXPECT_EQ(d.call("GET", "/v2/groups", {}, "token=" + issued_token(d)).status, 200);
}

TEST(SimLogin, CommandLine) {
  const std::string key_file = ::testing::TempDir() + "/login-public.pem";
  {
    std::ofstream(key_file) << account_keys().public_pem;
  }
  auto parse = [](std::vector<std::string> args) {
    args.insert(args.begin(), "marathon-sim");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    bool help = false;
    return parse_command_line(static_cast<int>(argv.size()), argv.data(), &help);
  };
  auto o = parse({"--login-public-key", key_file, "--login-uid", "a", "--login-uid", "b", "--token-ttl", "30"});
  EXPECT_TRUE(o.login.enabled());
  EXPECT_EQ(o.login.uids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.login.token_ttl, std::chrono::seconds{30});
  auto fails_with = [&](std::vector<std::string> args, const std::string& expected) {
    try {
      parse(args);
      ADD_FAILURE() << "accepted: " << expected;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  fails_with({"--login-public-key", key_file}, "needs at least one --login-uid");
  fails_with({"--login-uid", "a"}, "--login-uid needs --login-public-key");
  fails_with({"--login-public-key", "/nonexistent.pem", "--login-uid", "a"}, "cannot read /nonexistent.pem");
  fails_with({"--login-public-key", key_file, "--login-uid", "a", "--token-ttl", "0"}, "--token-ttl: '0'");
  const std::string not_key = ::testing::TempDir() + "/not-a-key.pem";
  {
    std::ofstream(not_key) << "hello";
  }
  fails_with({"--login-public-key", not_key, "--login-uid", "a"}, "not a PEM RSA public key");
}

}  // namespace
}  // namespace hmc::marathon_sim::testing
