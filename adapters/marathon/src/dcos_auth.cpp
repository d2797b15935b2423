// DC/OS service-account login: the credential, the service login token and
// the token source. The HTTP transport is in http_client.cpp, the JWT
// primitives (OpenSSL) in hmc::jwt.

#include "hmc/marathon/dcos_auth.hpp"

#include "hmc/common/log.hpp"
#include "hmc/jwt/jwt.hpp"
#include "marathon_internal.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>

namespace hmc::marathon {

namespace json = boost::json;

namespace {

Error credential_error(std::string_view origin, std::string message) {
  return make_error(ErrorSource::config, ErrorKind::invalid, std::string(origin) + ": " + std::move(message));
}

std::optional<TimePoint> seconds_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  double seconds;
  if (v->is_int64()) seconds = static_cast<double>(v->get_int64());
  else if (v->is_uint64()) seconds = static_cast<double>(v->get_uint64());
  else if (v->is_double()) seconds = v->get_double();
  else return std::nullopt;
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) return std::nullopt;
  return TimePoint{std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds))};
}

// The IAM's error body is {"title", "description", "code"}; Admin Router's
// and Marathon's carry "message".
std::string describe_refusal(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const json::object& o = v.get_object();
  std::string out;
  for (const char* key : {"description", "message", "title"}) {
    if (const json::value* m = o.if_contains(key); m != nullptr && m->is_string() && !m->get_string().empty()) {
      out = std::string(m->get_string());
      break;
    }
  }
  if (const json::value* c = o.if_contains("code"); c != nullptr && c->is_string()) {
    out += (out.empty() ? "" : " ") + std::string("(") + std::string(c->get_string()) + ")";
  }
  return out;
}

void replace_all(std::string& text, const std::string& secret) {
  if (secret.empty()) return;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "<redacted>");
    pos += 10;
  }
}

}  // namespace

Result<ServiceAccountCredential> parse_service_account_credential(std::string_view text, std::string_view origin) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  // Boost's message names the position, never the content.
  if (ec) return credential_error(origin, "not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return credential_error(origin, "expected a JSON object with uid, private_key, login_endpoint, scheme");
  const json::object& o = v.get_object();
  ServiceAccountCredential c;
  for (auto [name, target] : {std::pair<const char*, std::string*>{"uid", &c.uid},
                              {"private_key", &c.private_key},
                              {"login_endpoint", &c.login_endpoint},
                              {"scheme", &c.scheme}}) {
    const json::value* f = o.if_contains(name);
    if (f == nullptr) return credential_error(origin, std::string("field '") + name + "' is missing");
    if (!f->is_string()) return credential_error(origin, std::string("field '") + name + "' must be a string");
    *target = std::string(f->get_string());
    if (target->empty()) return credential_error(origin, std::string("field '") + name + "' is empty");
  }
  if (c.scheme != "RS256") {
    return credential_error(origin, "field 'scheme' is '" + c.scheme + "'; only RS256 is supported");
  }
  auto url = detail::parse_base_url(c.login_endpoint);
  if (!url) return credential_error(origin, "field 'login_endpoint' '" + c.login_endpoint + "' is not an http(s) URL");
  // A trial signature proves the key is usable now rather than at the first login.
  if (auto signed_token = jwt::sign_rs256(R"({"uid":"check"})", c.private_key); !signed_token) {
    return credential_error(origin, "field 'private_key': " + signed_token.error().message);
  }
  return c;
}

Result<std::string> make_service_login_token(const ServiceAccountCredential& credential, TimePoint exp) {
  const json::object claims{
      {"uid", credential.uid},
      {"exp", std::chrono::duration_cast<std::chrono::seconds>(exp.time_since_epoch()).count()}};
  return jwt::sign_rs256(json::serialize(claims), credential.private_key);
}

std::string login_request_body(std::string_view uid, std::string_view login_token) {
  return json::serialize(json::object{{"uid", uid}, {"token", login_token}});
}

TokenTimes token_times(std::string_view token) {
  TokenTimes out;
  auto parts = jwt::split(token);
  if (!parts) return out;
  boost::system::error_code ec;
  json::value claims = json::parse(parts->claims, ec);
  if (ec || !claims.is_object()) return out;
  out.issued_at = seconds_claim(claims.get_object(), "iat");
  out.expires_at = seconds_claim(claims.get_object(), "exp");
  return out;
}

ServiceAccountTokenSource::ServiceAccountTokenSource(ServiceAccountCredential credential, LoginTransport transport,
                                                     const TimeSource& clock, TokenSourceOptions options)
    : credential_(std::move(credential)), transport_(std::move(transport)), clock_(clock), options_(options) {
  options_.refresh_fraction = std::clamp(options_.refresh_fraction, 0.05, 1.0);
  if (options_.default_lifetime.count() <= 0) options_.default_lifetime = std::chrono::hours{1};
  if (options_.login_retry_initial.count() <= 0) options_.login_retry_initial = std::chrono::milliseconds{1};
  options_.login_retry_max = std::max(options_.login_retry_max, options_.login_retry_initial);
}

Error ServiceAccountTokenSource::login_error(ErrorKind kind, std::string detail, int code) const {
  return make_error(ErrorSource::marathon, kind,
                    "DC/OS login as '" + credential_.uid + "' at " + credential_.login_endpoint + ": " + detail, code);
}

Result<void> ServiceAccountTokenSource::login() {
  std::unique_lock lock(mu_);
  login_done_.wait(lock, [&] { return !logging_in_; });
  return login_locked(lock);
}

Result<void> ServiceAccountTokenSource::login_locked(std::unique_lock<std::mutex>& lock) {
  logging_in_ = true;
  lock.unlock();
  const TimePoint started = clock_.now();
  std::string login_token;
  std::optional<Error> failure;
  std::string token;
  if (auto t = make_service_login_token(credential_, started + options_.login_token_validity); !t) {
    failure = login_error(ErrorKind::invalid, "cannot sign the login token: " + t.error().message);
  } else {
    login_token = std::move(*t);
    auto answer = transport_(login_request_body(credential_.uid, login_token));
    if (!answer) {
      Error e = answer.error();
      failure = login_error(e.kind == ErrorKind::cancelled ? e.kind : ErrorKind::unavailable, e.message, e.code);
    } else if (answer->status == 401 || answer->status == 403) {
      const std::string why = describe_refusal(answer->body);
      failure = login_error(ErrorKind::unauthorized,
                            "refused (" + std::to_string(answer->status) + ")" + (why.empty() ? "" : ": " + why) +
                                "; check that the account exists and that its public key matches private_key",
                            answer->status);
    } else if (answer->status >= 500) {
      const std::string why = describe_refusal(answer->body);
      failure = login_error(ErrorKind::unavailable,
                            "answered " + std::to_string(answer->status) + (why.empty() ? "" : ": " + why), answer->status);
    } else if (answer->status < 200 || answer->status >= 300) {
      const std::string why = describe_refusal(answer->body);
      failure = login_error(ErrorKind::invalid,
                            "answered " + std::to_string(answer->status) + (why.empty() ? "" : ": " + why), answer->status);
    } else {
      boost::system::error_code ec;
      json::value v = json::parse(answer->body, ec);
      const json::value* t = (!ec && v.is_object()) ? v.get_object().if_contains("token") : nullptr;
      if (t == nullptr || !t->is_string() || t->get_string().empty()) {
        failure = login_error(ErrorKind::internal, "the answer carries no token");
      } else {
        token = std::string(t->get_string());
      }
    }
  }

  lock.lock();
  logging_in_ = false;
  const TimePoint now = clock_.now();
  if (!login_token.empty()) last_login_token_ = login_token;
  if (failure) {
    failure->message = redact_locked(std::move(failure->message));
    ++failed_logins_;
    retry_delay_ = retry_delay_.count() == 0 ? options_.login_retry_initial
                                             : std::min(retry_delay_ * 2, options_.login_retry_max);
    retry_after_ = now + retry_delay_;
    last_failure_ = *failure;
    if (options_.on_login) options_.on_login(LoginOutcome{false, failure->kind, {}});
    login_done_.notify_all();
    log::warn("dcos login failed", {{"uid", credential_.uid}, {"error", failure->message},
                                    {"retry_in_ms", std::to_string(retry_delay_.count())}});
    return *failure;
  }
  // exp - iat is the lifetime the IAM meant; exp - now needs synchronized
  // clocks. Both claims are whole seconds, iat rounded down: up to a second
  // of exp - iat may have passed when the token was issued.
  const TokenTimes times = token_times(token);
  Clock::duration lifetime = options_.default_lifetime;
  if (times.expires_at && times.issued_at && *times.expires_at - *times.issued_at > std::chrono::seconds{1}) {
    lifetime = *times.expires_at - *times.issued_at - std::chrono::seconds{1};
  } else if (times.expires_at && *times.expires_at > now) {
    lifetime = *times.expires_at - now;
  }
  token_ = std::move(token);
  stale_ = false;
  received_at_ = now;
  valid_until_ = now + lifetime;
  refresh_at_ = now + std::chrono::duration_cast<Clock::duration>(lifetime * options_.refresh_fraction);
  last_failure_.reset();
  retry_delay_ = std::chrono::milliseconds{0};
  ++logins_;
  if (options_.on_login) options_.on_login(LoginOutcome{true, ErrorKind::internal, valid_until_});
  login_done_.notify_all();
  log::info("dcos login", {{"uid", credential_.uid},
                           {"lifetime_s", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(lifetime).count())},
                           {"renew_at", format_time(refresh_at_)}});
  return {};
}

Result<std::string> ServiceAccountTokenSource::token() {
  std::unique_lock lock(mu_);
  for (;;) {
    const TimePoint now = clock_.now();
    const bool usable = !stale_ && now < valid_until_;
    if (usable && now < refresh_at_) return token_;
    if (logging_in_) {
      if (usable) return token_;  // another thread renews it
      login_done_.wait(lock, [&] { return !logging_in_; });
      continue;
    }
    if (last_failure_ && now < retry_after_) {
      if (usable) return token_;
      return *last_failure_;
    }
    auto r = login_locked(lock);
    if (r) return token_;
    if (!stale_ && clock_.now() < valid_until_) return token_;  // renewal failed; the old token still holds
    return r.error();
  }
}

std::string ServiceAccountTokenSource::current_token() const {
  std::lock_guard lock(mu_);
  return token_;
}

void ServiceAccountTokenSource::rejected(const std::string& token) {
  std::lock_guard lock(mu_);
  if (token.empty() || token != token_) return;
  stale_ = true;
  // A rejection is news: the next token() logs in even after a recent failure.
  last_failure_.reset();
}

std::string ServiceAccountTokenSource::redact(std::string text) const {
  std::lock_guard lock(mu_);
  return redact_locked(std::move(text));
}

std::string ServiceAccountTokenSource::redact_locked(std::string text) const {
  replace_all(text, token_);
  replace_all(text, last_login_token_);
  return text;
}

std::uint64_t ServiceAccountTokenSource::logins() const {
  std::lock_guard lock(mu_);
  return logins_;
}

std::uint64_t ServiceAccountTokenSource::failed_logins() const {
  std::lock_guard lock(mu_);
  return failed_logins_;
}

std::optional<TimePoint> ServiceAccountTokenSource::refresh_due() const {
  std::lock_guard lock(mu_);
  if (logins_ == 0) return std::nullopt;
  return refresh_at_;
}

std::optional<TimePoint> ServiceAccountTokenSource::expires_at() const {
  std::lock_guard lock(mu_);
  if (logins_ == 0) return std::nullopt;
  return valid_until_;
}

}  // namespace hmc::marathon
