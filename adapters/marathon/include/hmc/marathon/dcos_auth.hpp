#pragma once
// DC/OS service-account login for the Marathon client. A service account's
// credential (the secret DC/OS injects as DCOS_SERVICE_ACCOUNT_CREDENTIAL)
// holds its uid, an RSA private key and the IAM's login endpoint. The
// controller signs a short-lived service login token with the key (RS256,
// claims {"uid", "exp"}), POSTs {"uid", "token"} to the endpoint and gets
// {"token": <authentication token>} back, which it sends to Marathon as
// `Authorization: token=<t>`, as DC/OS documents (docs/dcos.md).
//
// The authentication token and the private key never appear in a log line,
// a metric, a status or an error message.

#include "hmc/common/clock.hpp"
#include "hmc/common/error.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace hmc::marathon {

struct MarathonOptions;

struct ServiceAccountCredential {
  std::string uid;
  std::string private_key;     // PEM, RSA
  std::string login_endpoint;  // e.g. https://leader.mesos/acs/api/v1/auth/login
  std::string scheme;          // always RS256
};

// Parses the credential JSON {"uid", "private_key", "login_endpoint",
// "scheme": "RS256"}. `origin` names where it came from (the env variable or
// the file) and starts every message. Errors (source config, kind invalid):
// not a JSON object; a field missing, empty or not a string (named); a scheme
// other than RS256; a login_endpoint that is not an http(s) URL; a
// private_key that is not an unencrypted PEM RSA private key. Messages never
// quote the private key.
Result<ServiceAccountCredential> parse_service_account_credential(std::string_view json, std::string_view origin);

// The service login token: an RS256 JWT with claims {"uid": uid, "exp": exp}
// (seconds since the epoch), signed with the credential's private key.
Result<std::string> make_service_login_token(const ServiceAccountCredential& credential, TimePoint exp);

// {"uid": uid, "token": login_token}: the body POSTed to the login endpoint.
std::string login_request_body(std::string_view uid, std::string_view login_token);

// What an authentication token says of its own lifetime: the `iat` and `exp`
// claims when it is a JWT (DC/OS's are), nothing otherwise. The signature is
// not checked: the token is the IAM's business, this only schedules renewal.
struct TokenTimes {
  std::optional<TimePoint> issued_at;
  std::optional<TimePoint> expires_at;
};
TokenTimes token_times(std::string_view token);

// Where the Marathon client takes its token from when it is not static.
// Threading: every method may be called from any thread concurrently.
class TokenProvider {
 public:
  virtual ~TokenProvider() = default;
  // The token to send now. Logs in first when there is none, when it expired,
  // when it was rejected, or when its renewal is due (then, while another
  // thread logs in, the still-valid token is returned at once). Blocks for
  // the login. Errors: the login's (unauthorized: refused; unavailable: the
  // endpoint could not be reached or answered 5xx), without the token.
  virtual Result<std::string> token() = 0;
  // The token as it is, without logging in ("" when none): for a caller that
  // must not block (the event stream on the client's I/O thread).
  virtual std::string current_token() const = 0;
  // Marathon answered 401 to a request that carried `token`: the next token()
  // logs in again. A token that is no longer the current one is ignored, so
  // many requests rejected at once cause one login.
  virtual void rejected(const std::string& token) = 0;
};

// One POST of a login body; status 0 never: transport failures are errors.
struct LoginAnswer {
  int status = 0;
  std::string body;
};
using LoginTransport = std::function<Result<LoginAnswer>(const std::string& body)>;

// The real transport: POSTs JSON to `login_endpoint` over its own keep-alive
// connection, with the TLS settings (ca_file, verify_tls) and timeouts of
// `options` (http_client.cpp). Errors: invalid when the URL is not http(s) or
// the CA file cannot be read.
Result<LoginTransport> make_login_transport(const std::string& login_endpoint, const MarathonOptions& options);

// The outcome of one login, for metrics.
struct LoginOutcome {
  bool ok = false;
  ErrorKind kind = ErrorKind::internal;  // on failure: unauthorized (refused), unavailable, ...
  TimePoint expires_at{};                // on success: when the new token expires
};

struct TokenSourceOptions {
  // Validity of each service login token (its exp claim); DC/OS's own
  // clients give theirs five minutes.
  std::chrono::seconds login_token_validity{300};
  // Lifetime assumed for a token that carries no exp claim.
  std::chrono::milliseconds default_lifetime{std::chrono::hours{1}};
  // Renew once this fraction of the lifetime has passed.
  double refresh_fraction = 0.8;
  // After a failed login, token() answers with that failure (no new login)
  // for this long, doubling with every failure up to login_retry_max.
  std::chrono::milliseconds login_retry_initial{1000};
  std::chrono::milliseconds login_retry_max{30000};
  // Called after every login, successful or not, with the source's lock
  // held: it must not call back into the source.
  std::function<void(const LoginOutcome&)> on_login;
};

// A TokenProvider that logs in as a DC/OS service account. The lifetime of
// a token is taken from its own claims (exp - iat less the second iat may
// have been rounded down by, so a clock skew between the IAM and this host
// does not matter; exp - now without iat), else
// default_lifetime; renewal is due at refresh_fraction of it, counted on
// `clock` from the moment the token arrived.
class ServiceAccountTokenSource final : public TokenProvider {
 public:
  ServiceAccountTokenSource(ServiceAccountCredential credential, LoginTransport transport, const TimeSource& clock,
                            TokenSourceOptions options = {});

  // Logs in now, whatever the state: the startup check. Errors as token().
  Result<void> login();

  Result<std::string> token() override;
  std::string current_token() const override;
  void rejected(const std::string& token) override;

  // `text` with every token this source handled (authentication and login
  // tokens) replaced by "<redacted>".
  std::string redact(std::string text) const;

  const ServiceAccountCredential& credential() const { return credential_; }
  std::uint64_t logins() const;         // successful logins so far
  std::uint64_t failed_logins() const;  // refused or failed logins so far
  // When the current token's renewal is due and when it expires (nullopt
  // before the first login).
  std::optional<TimePoint> refresh_due() const;
  std::optional<TimePoint> expires_at() const;

 private:
  // Runs the login with mu_ released; `lock` holds mu_ on entry and on return.
  Result<void> login_locked(std::unique_lock<std::mutex>& lock);
  Error login_error(ErrorKind kind, std::string detail, int code = 0) const;
  std::string redact_locked(std::string text) const;

  ServiceAccountCredential credential_;
  LoginTransport transport_;
  const TimeSource& clock_;
  TokenSourceOptions options_;

  mutable std::mutex mu_;
  std::condition_variable login_done_;
  bool logging_in_ = false;
  std::string token_;
  std::string last_login_token_;  // kept only to redact it
  TimePoint received_at_{};
  TimePoint refresh_at_{};
  TimePoint valid_until_{};
  bool stale_ = true;  // no token, or rejected by Marathon
  std::optional<Error> last_failure_;
  TimePoint retry_after_{};
  std::chrono::milliseconds retry_delay_{0};
  std::uint64_t logins_ = 0;
  std::uint64_t failed_logins_ = 0;
};

}  // namespace hmc::marathon
