#pragma once
// Pieces shared by the HTTP client and the JSON translation unit. Kept free of
// Beast and Boost.JSON so each translation unit pulls only what it needs.

#include "hmc/common/error.hpp"
#include "hmc/marathon/marathon_client.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace hmc::marathon::detail {

struct BaseUrl {
  bool https = false;
  std::string host;
  std::string port;         // always set: defaults to 80 / 443
  std::string path_prefix;  // without trailing '/', empty for none
};

// Errors: invalid (not http/https, no host, query or fragment present).
Result<BaseUrl> parse_base_url(std::string_view url);

// The hmc::Error for a non-2xx answer, from Marathon's error body
// ({"message", "details", "deployments"}); `what` names the request
// ("PUT /v2/groups/x") and never carries credentials.
Error error_from_response(std::string_view what, int status, std::string_view body);

// {"deploymentId", "version"} of a change; missing fields stay empty, the
// header value is used when the body has no deploymentId.
ChangeResult parse_change_result(std::string_view body, std::string_view deployment_header);

// {"scaleBy": factor}; errors: invalid for NaN, infinite or negative factors.
Result<std::string> scale_body(double factor);

// Percent-encodes every byte of a Marathon id outside [A-Za-z0-9-._~/].
std::string encode_path(std::string_view id);

// Group root as Marathon writes ids: leading '/', no trailing '/' ("/" stays).
std::string normalize_group_id(std::string_view id);

// Incremental parser of a text/event-stream body: feed() any slice of bytes,
// on_event(type, data) runs once per complete frame (blank line). Frames
// without an `event:` line have type "message"; comment lines are ignored.
// Oversized frames (beyond max_frame bytes) are dropped, not buffered.
class SseParser {
 public:
  using Handler = std::function<void(const std::string&, const std::string&)>;
  explicit SseParser(Handler on_event, std::size_t max_frame = 8u << 20)
      : on_event_(std::move(on_event)), max_frame_(max_frame) {}
  void feed(std::string_view bytes);
  void reset();

 private:
  void line(std::string_view l);
  Handler on_event_;
  std::size_t max_frame_;
  std::string partial_;  // bytes after the last end of line
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  bool oversized_ = false;
  bool last_was_cr_ = false;
};

}  // namespace hmc::marathon::detail
