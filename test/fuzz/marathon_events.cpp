// The text/event-stream parser of GET /v2/events on arbitrary bytes. The
// frames it yields must not depend on how the stream is cut into reads:
// the whole body at once, one byte at a time and slices of every size from
// 1 to 64 bytes (the first byte picks the size) give the same events.
#include "fuzz_target.hpp"

#include "marathon_internal.hpp"

#include <utility>
#include <vector>

namespace {

using Events = std::vector<std::pair<std::string, std::string>>;

Events parse_in_slices(std::string_view body, std::size_t slice) {
  Events out;
  hmc::marathon::detail::SseParser parser(
      [&out](const std::string& type, const std::string& data) { out.emplace_back(type, data); },
      4096);
  for (std::size_t i = 0; i < body.size(); i += slice) parser.feed(body.substr(i, slice));
  return out;
}

}  // namespace

HMC_FUZZ_TARGET(marathon_events) {
  if (size == 0) return 0;
  const std::size_t slice = 1 + data[0] % 64;
  const auto body = hmc::fuzz::as_text(data + 1, size - 1);
  const Events whole = parse_in_slices(body, body.size() + 1);
  for (const auto& [type, payload] : whole) {
    hmc::fuzz::check(!type.empty(), "event without a type");
    hmc::fuzz::check(payload.size() <= 4096, "frame beyond max_frame delivered");
  }
  hmc::fuzz::check(parse_in_slices(body, 1) == whole, "byte-by-byte feeding gives other events");
  hmc::fuzz::check(parse_in_slices(body, slice) == whole,
                   "feeding in slices of " + std::to_string(slice) + " gives other events");
  return 0;
}
