// Base64 as RFC 4648 defines it: its test vectors, and refusal of anything
// that is not the canonical encoding of some bytes.

#include "hmc/common/base64.hpp"

#include <gtest/gtest.h>

#include <random>

namespace hmc {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : cases) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(plain)) << encoded;
  }
}

TEST(Base64, RandomBytesRoundTrip) {
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) {
    std::string bytes(static_cast<std::size_t>(n), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() & 0xff);
    EXPECT_EQ(base64_decode(base64_encode(bytes)), std::optional<std::string>(bytes)) << n;
  }
}

TEST(Base64, RefusesWhatIsNotCanonical) {
  for (const char* bad : {"Zg", "Zg=", "Zm9", "Z===", "====", "Zh==", "Zm9=", "Zm-v", "Zm_v",
                          "Zm9v\n", " Zm9v", "Zg==Zg==", "Z=g="}) {
    EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace hmc
