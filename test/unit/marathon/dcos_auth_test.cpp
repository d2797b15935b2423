// DC/OS service-account login: JWT encoding and signatures (checked with
// OpenSSL directly), credential parsing errors, and the token source's
// renewal logic with a manual clock and a fake login endpoint.

#include "hmc/jwt/jwt.hpp"
#include "hmc/marathon/dcos_auth.hpp"
#include "hmc/testing/rsa_keys.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

namespace hmc::marathon {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::RsaKeyPair;

const RsaKeyPair& keys() { return hmc::testing::test_key_pair(); }
const RsaKeyPair& other_keys() {
  static const RsaKeyPair k = testing::generate_rsa_key_pair();
  return k;
}

// RS256 verification written against OpenSSL alone, independent of hmc::jwt.
bool openssl_verifies(const std::string& token, const std::string& public_pem) {
  const auto dot = token.rfind('.');
  const std::string input = token.substr(0, dot);
  auto sig = jwt::base64url_decode(token.substr(dot + 1));
  if (!sig) return false;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())),
                                                &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                                                          &EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!key || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

// verify_rs256 that succeeded and said yes.
bool verified(const std::string& token, const std::string& public_pem) {
  auto r = jwt::verify_rs256(token, public_pem);
  return r && *r;
}

json::object claims_of(const std::string& token) {
  auto parts = jwt::split(token);
  EXPECT_TRUE(parts.has_value());
  return parts ? json::parse(parts->claims).as_object() : json::object{};
}

// ---------- base64url and JWT ----------

TEST(Base64Url, RfcVectorsWithoutPadding) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
      {"\xfb\xff", "-_8"},  // the two characters base64url replaces
  };
  for (const auto& [raw, encoded] : cases) {
    EXPECT_EQ(jwt::base64url_encode(raw), encoded) << raw;
    EXPECT_EQ(jwt::base64url_decode(encoded), std::string(raw)) << encoded;
  }
  EXPECT_EQ(jwt::base64url_decode("Zm8="), "fo");  // padding is accepted
  EXPECT_FALSE(jwt::base64url_decode("Zm+v"));     // standard base64's alphabet is not
  EXPECT_FALSE(jwt::base64url_decode("Z"));
}

TEST(Jwt, Rs256TokenHasTheJwsShapeAndOpenSslVerifiesIt) {
  auto token = jwt::sign_rs256(R"({"uid":"svc","exp":1700000300})", keys().private_pem);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->find('='), std::string::npos);
  auto parts = jwt::split(*token);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->header, R"({"alg":"RS256","typ":"JWT"})");
  EXPECT_EQ(parts->claims, R"({"uid":"svc","exp":1700000300})");
  EXPECT_EQ(parts->signature.size(), 256u);  // 2048-bit key
  EXPECT_TRUE(openssl_verifies(*token, keys().public_pem));
  EXPECT_FALSE(openssl_verifies(*token, other_keys().public_pem));
  EXPECT_TRUE(verified(*token, keys().public_pem));
  EXPECT_FALSE(verified(*token, other_keys().public_pem));
}

TEST(Jwt, TamperedClaimsOrWrongAlgorithmFailVerification) {
  auto token = jwt::sign_rs256(R"({"uid":"svc"})", keys().private_pem);
  ASSERT_TRUE(token);
  const auto a = token->find('.'), b = token->rfind('.');
  const std::string forged = token->substr(0, a + 1) + jwt::base64url_encode(R"({"uid":"root"})") + token->substr(b);
  EXPECT_FALSE(verified(forged, keys().public_pem));
  const std::string hs = jwt::sign_hs256(R"({"uid":"svc"})", "secret");
  EXPECT_FALSE(verified(hs, keys().public_pem));
  EXPECT_FALSE(verified("not-a-token", keys().public_pem));
  EXPECT_FALSE(jwt::verify_rs256(*token, "not a key"));
}

TEST(Jwt, Hs256RoundTrip) {
  const std::string t = jwt::sign_hs256(R"({"uid":"a","exp":5})", "k1");
  EXPECT_TRUE(jwt::verify_hs256(t, "k1"));
  EXPECT_FALSE(jwt::verify_hs256(t, "k2"));
  EXPECT_FALSE(jwt::verify_hs256(t.substr(0, t.size() - 2), "k1"));
  EXPECT_EQ(jwt::split(t)->header, R"({"alg":"HS256","typ":"JWT"})");
}

TEST(Jwt, SigningWithSomethingElseThanAnRsaKeyIsAnErrorThatDoesNotQuoteIt) {
  auto r = jwt::sign_rs256("{}", "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWlzaA==\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("private_key"), std::string::npos);
  EXPECT_EQ(r.error().message.find("c2VjcmV0"), std::string::npos);
}

// ---------- credential ----------

std::string credential_with(const std::function<void(json::object&)>& change) {
  json::object o = json::parse(testing::service_account_credential("heron-marathon-controller", keys(),
                                                                   "https://leader.mesos/acs/api/v1/auth/login"))
                       .as_object();
  change(o);
  return json::serialize(o);
}

TEST(ServiceAccountCredential, ParsesDcosSecret) {
  auto c = parse_service_account_credential(credential_with([](json::object&) {}), "DCOS_SERVICE_ACCOUNT_CREDENTIAL");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->uid, "heron-marathon-controller");
  EXPECT_EQ(c->login_endpoint, "https://leader.mesos/acs/api/v1/auth/login");
  EXPECT_EQ(c->scheme, "RS256");
  EXPECT_EQ(c->private_key, keys().private_pem);
}

TEST(ServiceAccountCredential, ErrorsNameTheOriginAndTheFieldAndNeverTheKey) {
  struct Case {
    const char* name;
    std::string text;
    const char* expected;
  };
  const std::string origin = "--dcos-credential-file /run/secret.json";
  const std::vector<Case> cases = {
      {"not json", "{\"uid\":", "not valid JSON"},
      {"array", "[1,2]", "expected a JSON object"},
      {"no uid", credential_with([](json::object& o) { o.erase("uid"); }), "field 'uid' is missing"},
      {"no key", credential_with([](json::object& o) { o.erase("private_key"); }), "field 'private_key' is missing"},
      {"no endpoint", credential_with([](json::object& o) { o.erase("login_endpoint"); }),
       "field 'login_endpoint' is missing"},
      {"no scheme", credential_with([](json::object& o) { o.erase("scheme"); }), "field 'scheme' is missing"},
      {"uid number", credential_with([](json::object& o) { o["uid"] = 7; }), "field 'uid' must be a string"},
      {"uid empty", credential_with([](json::object& o) { o["uid"] = ""; }), "field 'uid' is empty"},
      {"scheme HS256", credential_with([](json::object& o) { o["scheme"] = "HS256"; }),
       "field 'scheme' is 'HS256'; only RS256 is supported"},
      {"endpoint ftp", credential_with([](json::object& o) { o["login_endpoint"] = "ftp://x/login"; }),
       "field 'login_endpoint' 'ftp://x/login' is not an http(s) URL"},
      {"key garbage", credential_with([](json::object& o) { o["private_key"] = "MIIEvQIBADANBgkqh-secret-bits"; }),
       "field 'private_key': private_key is not a PEM private key"},
      {"public key as private", credential_with([](json::object& o) { o["private_key"] = keys().public_pem; }),
       "field 'private_key'"},
  };
  for (const auto& c : cases) {
    auto r = parse_service_account_credential(c.text, origin);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().source, ErrorSource::config) << c.name;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid) << c.name;
    EXPECT_EQ(r.error().message.rfind(origin + ": ", 0), 0u) << c.name << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(c.expected), std::string::npos) << c.name << ": " << r.error().message;
    EXPECT_EQ(r.error().message.find("secret-bits"), std::string::npos) << c.name;
    EXPECT_EQ(r.error().message.find(keys().public_pem.substr(40, 40)), std::string::npos) << c.name;
  }
}

TEST(ServiceLoginToken, CarriesUidAndExpAndIsSignedWithTheAccountKey) {
  auto c = parse_service_account_credential(credential_with([](json::object&) {}), "env");
  ASSERT_TRUE(c);
  auto t = make_service_login_token(*c, TimePoint{std::chrono::seconds{1'700'000'300}});
  ASSERT_TRUE(t);
  const auto claims = claims_of(*t);
  EXPECT_EQ(claims.at("uid").as_string(), "heron-marathon-controller");
  EXPECT_EQ(claims.at("exp").to_number<std::int64_t>(), 1'700'000'300);
  EXPECT_TRUE(openssl_verifies(*t, keys().public_pem));
  EXPECT_EQ(json::parse(login_request_body("u\"1", "tok")), json::parse(R"({"uid":"u\"1","token":"tok"})"));
}

TEST(TokenTimes, ReadsIatAndExpOfAJwtOnly) {
  const auto t = token_times(jwt::sign_hs256(R"({"uid":"a","iat":100,"exp":400})", "k"));
  EXPECT_EQ(t.issued_at, TimePoint{std::chrono::seconds{100}});
  EXPECT_EQ(t.expires_at, TimePoint{std::chrono::seconds{400}});
  const auto opaque = token_times("0123456789abcdef");
  EXPECT_FALSE(opaque.issued_at);
  EXPECT_FALSE(opaque.expires_at);
  EXPECT_FALSE(token_times(jwt::sign_hs256(R"({"exp":"soon"})", "k")).expires_at);
}

// ---------- token source ----------

// A login endpoint in memory: checks the login token like DC/OS's IAM does
// and hands out tokens; scripted failures first.
struct FakeIam {
  std::string public_pem = keys().public_pem;
  std::string uid = "heron-marathon-controller";
  const ManualTimeSource* clock = nullptr;
  std::chrono::seconds ttl{100};
  bool jwt_tokens = true;
  std::vector<Result<LoginAnswer>> scripted;  // answered first, in order
  std::mutex mu;
  int calls = 0;
  std::vector<std::string> issued;

  LoginTransport transport() {
    return [this](const std::string& body) -> Result<LoginAnswer> {
      std::lock_guard lock(mu);
      ++calls;
      if (!scripted.empty()) {
        auto r = scripted.front();
        scripted.erase(scripted.begin());
        return r;
      }
      const auto o = json::parse(body).as_object();
      const std::string login_token(o.at("token").as_string());
      if (o.at("uid").as_string() != uid || !verified(login_token, public_pem)) {
        return LoginAnswer{401, R"({"title":"Unauthorized","description":"Invalid credentials","code":"ERR_INVALID_CREDENTIALS"})"};
      }
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock->now().time_since_epoch()).count();
      const std::string token =
          jwt_tokens ? jwt::sign_hs256("{\"uid\":\"" + uid + "\",\"jti\":" + std::to_string(issued.size()) +
                                           ",\"iat\":" + std::to_string(now) +
                                           ",\"exp\":" + std::to_string(now + ttl.count()) + "}",
                                       "iam-secret")
                     : "opaque-" + std::to_string(issued.size());
      issued.push_back(token);
      return LoginAnswer{200, "{\"token\":\"" + token + "\"}"};
    };
  }
};

ServiceAccountCredential credential() {
  return *parse_service_account_credential(credential_with([](json::object&) {}), "env");
}

TEST(TokenSource, LogsInOnFirstUseAndRenewsAtEightyPercentOfTheTokensLifetime) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  ServiceAccountTokenSource source(credential(), iam.transport(), clock);
  auto first = source.token();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(iam.calls, 1);
  EXPECT_EQ(*first, iam.issued.at(0));
  // exp - iat = 100 s, less a second for iat's rounding; renewal at 80% of that.
  EXPECT_EQ(source.expires_at(), clock.now() + 99s);
  EXPECT_GT(source.refresh_due(), clock.now() + 79s);
  EXPECT_LT(source.refresh_due(), clock.now() + 80s);

  clock.advance(79s);
  EXPECT_EQ(source.token().value(), iam.issued.at(0));
  EXPECT_EQ(iam.calls, 1);
  clock.advance(2s);
  auto renewed = source.token();
  ASSERT_TRUE(renewed);
  EXPECT_EQ(iam.calls, 2);
  EXPECT_EQ(*renewed, iam.issued.at(1));
  EXPECT_EQ(source.logins(), 2u);
  EXPECT_EQ(source.failed_logins(), 0u);
}

TEST(TokenSource, LifetimeComesFromIatAndExpSoClockSkewDoesNotMatter) {
  ManualTimeSource iam_clock(TimePoint{std::chrono::seconds{1'000'000'000}});  // far behind ours
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &iam_clock;
  iam.ttl = 3600s;
  ServiceAccountTokenSource source(credential(), iam.transport(), clock);
  ASSERT_TRUE(source.login());
  EXPECT_EQ(source.expires_at(), clock.now() + 3599s);
  EXPECT_GT(source.refresh_due(), clock.now() + 2879s);
  EXPECT_LT(source.refresh_due(), clock.now() + 2880s);
}

TEST(TokenSource, TokenWithoutExpUsesTheConfiguredLifetime) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  iam.jwt_tokens = false;
  TokenSourceOptions options;
  options.default_lifetime = 10min;
  ServiceAccountTokenSource source(credential(), iam.transport(), clock, options);
  ASSERT_TRUE(source.login());
  EXPECT_EQ(source.current_token(), "opaque-0");
  EXPECT_EQ(source.refresh_due(), clock.now() + 8min);
  clock.advance(8min + 1s);
  EXPECT_EQ(source.token().value(), "opaque-1");
}

TEST(TokenSource, ARejectedTokenCausesOneLoginHoweverManyRequestsSawIt) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  ServiceAccountTokenSource source(credential(), iam.transport(), clock);
  const std::string old = source.token().value();
  source.rejected(old);
  const std::string fresh = source.token().value();
  EXPECT_NE(fresh, old);
  EXPECT_EQ(iam.calls, 2);
  source.rejected(old);  // a late 401 for the token already replaced
  EXPECT_EQ(source.token().value(), fresh);
  EXPECT_EQ(iam.calls, 2);
}

TEST(TokenSource, WrongKeyIsAnUnauthorizedErrorNamingTheAccountAndEndpoint) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  iam.public_pem = other_keys().public_pem;
  ServiceAccountTokenSource source(credential(), iam.transport(), clock);
  auto r = source.login();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(r.error().code, 401);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("'heron-marathon-controller'"), std::string::npos) << m;
  EXPECT_NE(m.find("https://leader.mesos/acs/api/v1/auth/login"), std::string::npos) << m;
  EXPECT_NE(m.find("Invalid credentials (ERR_INVALID_CREDENTIALS)"), std::string::npos) << m;
  EXPECT_EQ(source.failed_logins(), 1u);
}

TEST(TokenSource, AFailedLoginIsNotRepeatedBeforeItsBackoff) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  iam.scripted = {make_error(ErrorSource::marathon, ErrorKind::unavailable, "connecting: refused"),
                  make_error(ErrorSource::marathon, ErrorKind::unavailable, "connecting: refused")};
  ServiceAccountTokenSource source(credential(), iam.transport(), clock);
  auto r = source.token();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
  EXPECT_FALSE(source.token());
  EXPECT_EQ(iam.calls, 1);
  clock.advance(1001ms);
  EXPECT_FALSE(source.token());  // second failure: backoff doubles to 2 s
  EXPECT_EQ(iam.calls, 2);
  clock.advance(1500ms);
  EXPECT_FALSE(source.token());
  EXPECT_EQ(iam.calls, 2);
  clock.advance(600ms);
  EXPECT_TRUE(source.token());
  EXPECT_EQ(iam.calls, 3);
}

TEST(TokenSource, EveryLoginIsReportedWithItsOutcome) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  iam.scripted = {make_error(ErrorSource::marathon, ErrorKind::unavailable, "connecting: refused"),
                  LoginAnswer{401, R"({"title":"Unauthorized","description":"Invalid credentials"})"}};
  std::vector<LoginOutcome> seen;
  TokenSourceOptions options;
  options.on_login = [&](const LoginOutcome& o) { seen.push_back(o); };
  ServiceAccountTokenSource source(credential(), iam.transport(), clock, options);
  EXPECT_FALSE(source.login());
  EXPECT_FALSE(source.login());
  ASSERT_TRUE(source.login());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen[0].ok);
  EXPECT_EQ(seen[0].kind, ErrorKind::unavailable);
  EXPECT_FALSE(seen[1].ok);
  EXPECT_EQ(seen[1].kind, ErrorKind::unauthorized);
  EXPECT_TRUE(seen[2].ok);
  EXPECT_EQ(seen[2].expires_at, source.expires_at());
}

TEST(TokenSource, FailedRenewalKeepsTheStillValidToken) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  ServiceAccountTokenSource source(credential(), iam.transport(), clock);
  const std::string first = source.token().value();
  iam.scripted = {LoginAnswer{503, R"({"message":"IAM is starting"})"}};
  clock.advance(85s);
  EXPECT_EQ(source.token().value(), first);
  EXPECT_EQ(source.failed_logins(), 1u);
  clock.advance(2s);
  EXPECT_NE(source.token().value(), first);
}

TEST(TokenSource, WhileOneThreadRenewsOthersKeepUsingTheValidToken) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> block{false};
  std::promise<void> entered;
  auto inner = iam.transport();
  ServiceAccountTokenSource source(
      credential(),
      [&](const std::string& body) {
        if (block.exchange(false)) {
          entered.set_value();
          released.wait();
        }
        return inner(body);
      },
      clock);
  const std::string first = source.token().value();
  clock.advance(90s);
  block = true;
  std::thread renewer([&] { EXPECT_NE(source.token().value(), first); });
  entered.get_future().wait();
  EXPECT_EQ(source.token().value(), first);  // does not wait for the login
  release.set_value();
  renewer.join();
  EXPECT_EQ(iam.calls, 2);
}

TEST(TokenSource, ErrorMessagesNeverCarryTokens) {
  ManualTimeSource clock;
  FakeIam iam;
  iam.clock = &clock;
  std::string echoed;
  auto inner = iam.transport();
  int n = 0;
  ServiceAccountTokenSource source(
      credential(),
      [&](const std::string& body) -> Result<LoginAnswer> {
        if (n++ == 0) return inner(body);
        // An endpoint that echoes what it got (and the current token) in its error.
        echoed = std::string(json::parse(body).at("token").as_string());
        return LoginAnswer{401, "{\"message\":\"bad token " + echoed + " after " + iam.issued.at(0) + "\"}"};
      },
      clock);
  ASSERT_TRUE(source.login());
  auto r = source.login();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find(echoed), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find(iam.issued.at(0)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("<redacted>"), std::string::npos);
  EXPECT_EQ(source.redact("x " + iam.issued.at(0) + " y"), "x <redacted> y");
}

}  // namespace
}  // namespace hmc::marathon
