#include "hmc/common/json_text.hpp"

#include <charconv>

namespace hmc::json_text {

namespace {

// Per byte: 0 as is; 'u' as \u00xx; otherwise the letter after the backslash.
struct EscapeTable {
  char of[256] = {};
  constexpr EscapeTable() {
    for (int c = 0; c < 0x20; ++c) of[c] = 'u';
    of[static_cast<unsigned char>('"')] = '"';
    of[static_cast<unsigned char>('\\')] = '\\';
    of[static_cast<unsigned char>('\b')] = 'b';
    of[static_cast<unsigned char>('\t')] = 't';
    of[static_cast<unsigned char>('\n')] = 'n';
    of[static_cast<unsigned char>('\f')] = 'f';
    of[static_cast<unsigned char>('\r')] = 'r';
  }
};
constexpr EscapeTable kEscape;

}  // namespace

void append_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t plain = 0;  // start of the run not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const char e = kEscape.of[c];
    if (!e) continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    out += '\\';
    out += e;
    if (e == 'u') {
      constexpr char hex[] = "0123456789abcdef";
      out += "00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

void append_key(std::string& out, std::string_view key) {
  append_string(out, key);
  out += ':';
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace hmc::json_text
