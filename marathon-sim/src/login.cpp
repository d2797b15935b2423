// DC/OS's login, as its IAM (Bouncer) answers behind Admin Router:
// POST /acs/api/v1/auth/login with {"uid", "token"}, where token is the
// service login token, an RS256 JWT with claims {"uid", "exp"} signed with the
// service account's private key. A valid one gets 200 {"token": <t>}, the
// authentication token for `Authorization: token=<t>`; anything else 401
// with `WWW-Authenticate: acsjwt` and the IAM's error shape
// {"title", "description", "code"}. DC/OS's tokens are RS256 JWTs with `uid`
// and `exp`; the simulator's are HS256 under a key of its own, with `uid`,
// `iat` and `exp` in the simulator's time, so they expire in
// --deterministic mode as time is ticked.

#include "hmc/jwt/jwt.hpp"
#include "simulator.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace hmc::marathon_sim {

namespace {

constexpr const char* kChallenge = "acsjwt";

Response iam_error(int status, const char* title, const std::string& description, const char* code) {
  Response r = json_response(
      status, json::serialize(json::object{{"title", title}, {"description", description}, {"code", code}}));
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", kChallenge);
  return r;
}

Response invalid_credentials(const std::string& why) {
  return iam_error(401, "Unauthorized", "Invalid credentials: " + why, "ERR_INVALID_CREDENTIALS");
}

std::int64_t epoch_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The claims object of a JWT, or null.
std::optional<json::object> claims_of(std::string_view token) {
  auto parts = jwt::split(token);
  if (!parts) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(parts->claims, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::optional<std::int64_t> int_claim(const json::object& claims, const char* name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

}  // namespace

Response Simulator::login(const Request& r) {
  if (r.method != "POST") return iam_error(405, "Method Not Allowed", "Use POST", "ERR_METHOD_NOT_ALLOWED");
  boost::system::error_code ec;
  json::value body = json::parse(r.body, ec);
  const json::object* o = (!ec && body.is_object()) ? &body.get_object() : nullptr;
  const json::value* uid_v = o ? o->if_contains("uid") : nullptr;
  const json::value* token_v = o ? o->if_contains("token") : nullptr;
  if (uid_v == nullptr || !uid_v->is_string()) {
    return iam_error(400, "Bad Request", "Request has bad Content-Type or lacks JSON with a string 'uid'",
                     "ERR_INVALID_DATA");
  }
  const std::string uid(uid_v->get_string());
  if (token_v == nullptr || !token_v->is_string()) {
    return invalid_credentials("a service account logs in with 'token', a login token signed with its private key");
  }
  const auto& uids = options_.login.uids;
  if (std::find(uids.begin(), uids.end(), uid) == uids.end()) {
    return invalid_credentials("no service account '" + uid + "'");
  }
  const std::string login_token(token_v->get_string());
  auto signed_ok = jwt::verify_rs256(login_token, options_.login.public_key_pem);
  if (!signed_ok || !*signed_ok) {
    return invalid_credentials("the login token is not an RS256 JWT signed with the key of '" + uid + "'");
  }
  auto claims = claims_of(login_token);
  const json::value* claimed_uid = claims ? claims->if_contains("uid") : nullptr;
  if (claimed_uid == nullptr || !claimed_uid->is_string() || claimed_uid->get_string() != uid) {
    return invalid_credentials("the login token's uid claim is not '" + uid + "'");
  }
  const TimePoint now = clock_->now();
  const auto exp = int_claim(*claims, "exp");
  if (!exp) return invalid_credentials("the login token has no exp claim");
  if (*exp <= epoch_seconds(now)) return invalid_credentials("the login token expired");

  if (login_secret_.empty()) login_secret_ = jwt::random_bytes(32);
  IssuedToken issued;
  issued.uid = uid;
  issued.issued_at = now;
  issued.expires_at = now + options_.login.token_ttl;
  const json::object token_claims{{"uid", uid},
                                  {"jti", ++login_counter_},
                                  {"iat", epoch_seconds(issued.issued_at)},
                                  {"exp", epoch_seconds(issued.expires_at)}};
  issued.token = jwt::sign_hs256(json::serialize(token_claims), login_secret_);
  std::string answer = json::serialize(json::object{{"token", issued.token}});
  issued_tokens_.push_back(std::move(issued));
  return json_response(200, std::move(answer));
}

bool Simulator::authorized(const Request& r) const {
  const bool static_token = !options_.token.empty();
  if (!static_token && !options_.login.enabled()) return true;
  if (static_token && r.authorization == "token=" + options_.token) return true;
  if (!options_.login.enabled() || login_secret_.empty() || !r.authorization.starts_with("token=")) return false;
  const std::string_view token = std::string_view(r.authorization).substr(6);
  if (!jwt::verify_hs256(token, login_secret_)) return false;
  auto claims = claims_of(token);
  const auto exp = claims ? int_claim(*claims, "exp") : std::nullopt;
  return exp && *exp > epoch_seconds(clock_->now());
}

Response Simulator::unauthorized() const {
  Response out = message(401, "Not Authorized to perform this action!");
  // Admin Router's challenge on DC/OS; open source DC/OS (OpenID) says oauthjwt.
  out.headers.emplace_back("WWW-Authenticate", options_.login.enabled() ? kChallenge : "oauthjwt");
  return out;
}

Response Simulator::logins_endpoint() const {
  json::array logins;
  for (const auto& t : issued_tokens_) {
    logins.push_back(json::object{{"uid", t.uid},
                                  {"token", t.token},
                                  {"issuedAt", format_time(t.issued_at)},
                                  {"expiresAt", format_time(t.expires_at)}});
  }
  return json_response(200, json::serialize(json::object{{"logins", std::move(logins)}}));
}

}  // namespace hmc::marathon_sim
