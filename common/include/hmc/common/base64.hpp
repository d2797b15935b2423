#pragma once
// Standard base64 (RFC 4648 section 4, with '=' padding), as the desired node
// carries a Heron topology definition (docs/desired-state.md, topologyDefn).

#include <optional>
#include <string>
#include <string_view>

namespace hmc {

std::string base64_encode(std::string_view bytes);

// The decoded bytes, or nullopt when `text` is not canonical base64: a length
// that is not a multiple of 4, a character outside the alphabet, padding other
// than at the end, or non-zero bits after the last byte.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace hmc
