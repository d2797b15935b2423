#pragma once
// Errors as values at adapter boundaries. Each adapter reports an Error with
// the system it came from and whether retrying the same call may succeed.

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>

namespace hmc {

enum class ErrorSource { zookeeper, marathon, ssh, config, spec, internal };

enum class ErrorKind {
  not_found,      // the object does not exist (ZNONODE, HTTP 404)
  conflict,       // version mismatch or exists (ZBADVERSION, ZNODEEXISTS, HTTP 409)
  locked,         // Marathon deployment lock (HTTP 409 with deployments)
  invalid,        // the request was rejected as malformed (HTTP 400/422, bad JSON)
  unauthorized,   // credentials refused (HTTP 401/403, ZNOAUTH)
  unavailable,    // connection lost, timeout, 5xx, ZCONNECTIONLOSS
  session_expired,// ZooKeeper session expired: handle is dead
  fenced,         // a fenced write lost its fence (not leader any more)
  cancelled,      // the operation was abandoned on shutdown
  internal,       // anything else: a bug or an unexpected answer
};

struct Error {
  ErrorSource source = ErrorSource::internal;
  ErrorKind kind = ErrorKind::internal;
  int code = 0;           // HTTP status or ZooKeeper return code, 0 if none
  std::string message;    // human readable, never contains credentials

  // True when the same call may succeed later without any change of input.
  bool is_retryable() const noexcept {
    switch (kind) {
      case ErrorKind::unavailable:
      case ErrorKind::locked:
      case ErrorKind::conflict:
      case ErrorKind::session_expired:
        return true;
      default:
        return false;
    }
  }
};

inline const char* to_string(ErrorSource s) noexcept {
  switch (s) {
    case ErrorSource::zookeeper: return "zookeeper";
    case ErrorSource::marathon: return "marathon";
    case ErrorSource::ssh: return "ssh";
    case ErrorSource::config: return "config";
    case ErrorSource::spec: return "spec";
    case ErrorSource::internal: return "internal";
  }
  return "unknown";
}

inline const char* to_string(ErrorKind k) noexcept {
  switch (k) {
    case ErrorKind::not_found: return "NotFound";
    case ErrorKind::conflict: return "Conflict";
    case ErrorKind::locked: return "Locked";
    case ErrorKind::invalid: return "Invalid";
    case ErrorKind::unauthorized: return "Unauthorized";
    case ErrorKind::unavailable: return "Unavailable";
    case ErrorKind::session_expired: return "SessionExpired";
    case ErrorKind::fenced: return "Fenced";
    case ErrorKind::cancelled: return "Cancelled";
    case ErrorKind::internal: return "Internal";
  }
  return "Unknown";
}

class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(Error e) : std::runtime_error(e.message), error_(std::move(e)) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// Lets boost::system::result<T, Error>::value() throw a meaningful exception.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw ErrorException(e);
}

template <class T>
using Result = boost::system::result<T, Error>;

inline Error make_error(ErrorSource s, ErrorKind k, std::string message, int code = 0) {
  return Error{s, k, code, std::move(message)};
}

}  // namespace hmc
