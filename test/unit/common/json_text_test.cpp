// The JSON text writer escapes exactly as Boost.JSON's serializer does, so a
// body written as text is byte for byte the one a Boost.JSON tree gives.

#include "hmc/common/json_text.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>

namespace hmc::json_text {
namespace {

namespace json = boost::json;

std::string written(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

TEST(JsonText, EveryByteIsEscapedAsBoostJsonDoes) {
  for (int c = 0; c < 256; ++c) {
    const std::string s(1, static_cast<char>(c));
    EXPECT_EQ(written(s), json::serialize(json::string_view(s))) << "byte " << c;
  }
}

TEST(JsonText, RandomStringsMatchBoostJsonAndParseBack) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    // Printable text, quotes, backslashes, control bytes and whole UTF-8 characters.
    const char* pieces[] = {"a", "b", " ", "/", ":", "=", "\"", "\\", "\n", "\t", "\r", "\b", "\f",
                            "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac"};
    std::string s;
    for (auto n = rng() % 40; n > 0; --n) s += pieces[rng() % std::size(pieces)];
    const auto out = written(s);
    ASSERT_EQ(out, json::serialize(json::string_view(s))) << i;
    ASSERT_EQ(json::parse(out).as_string(), s) << i;
  }
}

TEST(JsonText, KeysAndIntegers) {
  std::string out = "{";
  append_key(out, "a\"b");
  append_int(out, 0);
  out += ',';
  append_key(out, "min");
  append_int(out, std::numeric_limits<std::int64_t>::min());
  out += ',';
  append_key(out, "max");
  append_int(out, std::numeric_limits<std::int64_t>::max());
  out += '}';
  const auto v = json::parse(out).as_object();
  EXPECT_EQ(v.at("a\"b").as_int64(), 0);
  EXPECT_EQ(v.at("min").as_int64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(v.at("max").as_int64(), std::numeric_limits<std::int64_t>::max());
}

}  // namespace
}  // namespace hmc::json_text
