#pragma once
// JSON text written straight into a string, for the hot paths that would
// otherwise build a Boost.JSON tree only to serialize it at once: the group
// bodies the controller POSTs, and the simulator's answers.
//
// Strings are escaped as Boost.JSON's serializer escapes them: the quote and
// the backslash, \b \t \n \f \r by name, other control characters as \u00xx
// (lower-case hex); every other byte, UTF-8 included, as it is.

#include <cstdint>
#include <string>
#include <string_view>

namespace hmc::json_text {

// `s` as a JSON string literal, quotes included.
void append_string(std::string& out, std::string_view s);

// `"key":`
void append_key(std::string& out, std::string_view key);

void append_int(std::string& out, std::int64_t v);

}  // namespace hmc::json_text
