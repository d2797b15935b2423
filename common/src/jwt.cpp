#include "hmc/jwt/jwt.hpp"

#include <boost/json/parse.hpp>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace hmc::jwt {

namespace {

constexpr std::string_view kRs256Header = R"({"alg":"RS256","typ":"JWT"})";
constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";
constexpr const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

Error key_error(std::string message) {
  return make_error(ErrorSource::config, ErrorKind::invalid, std::move(message));
}

std::unique_ptr<BIO, BioFree> memory_bio(std::string_view pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string signing_input(std::string_view header, std::string_view claims) {
  return base64url_encode(header) + "." + base64url_encode(claims);
}

std::string hmac_sha256(std::string_view data, std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  return std::string(reinterpret_cast<const char*>(mac.data()), len);
}

bool header_alg_is(const Parts& p, std::string_view alg) {
  boost::system::error_code ec;
  boost::json::value header = boost::json::parse(p.header, ec);
  if (ec || !header.is_object()) return false;
  const boost::json::value* a = header.get_object().if_contains("alg");
  return a != nullptr && a->is_string() && a->get_string() == alg;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    const unsigned v = byte(i) << 16;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
  } else if (bytes.size() - i == 2) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::optional<Parts> split(std::string_view token) {
  const auto a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return std::nullopt;
  auto header = base64url_decode(token.substr(0, a));
  auto claims = base64url_decode(token.substr(a + 1, b - a - 1));
  auto signature = base64url_decode(token.substr(b + 1));
  if (!header || !claims || !signature || header->empty() || claims->empty()) return std::nullopt;
  return Parts{std::move(*header), std::move(*claims), std::string(token.substr(0, b)), std::move(*signature)};
}

Result<std::string> sign_rs256(std::string_view claims_json, std::string_view private_key_pem) {
  auto bio = memory_bio(private_key_pem);
  if (!bio) return key_error("cannot allocate a buffer for the private key");
  // No passphrase callback: an encrypted key fails instead of prompting.
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) return key_error("private_key is not a PEM private key (expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY, unencrypted)");
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) return key_error("private_key is not an RSA key (scheme RS256 needs one)");
  const std::string input = signing_input(kRs256Header, claims_json);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return key_error("signing with private_key failed");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return key_error("signing with private_key failed");
  }
  signature.resize(len);
  return input + "." + base64url_encode(signature);
}

Result<bool> verify_rs256(std::string_view token, std::string_view public_key_pem) {
  auto bio = memory_bio(public_key_pem);
  if (!bio) return key_error("cannot allocate a buffer for the public key");
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) return key_error("not a PEM RSA public key (BEGIN PUBLIC KEY)");
  auto parts = split(token);
  if (!parts || !header_alg_is(*parts, "RS256")) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(parts->signature.data()),
                          parts->signature.size(), reinterpret_cast<const unsigned char*>(parts->signing_input.data()),
                          parts->signing_input.size()) == 1;
}

std::string sign_hs256(std::string_view claims_json, std::string_view secret) {
  const std::string input = signing_input(kHs256Header, claims_json);
  return input + "." + base64url_encode(hmac_sha256(input, secret));
}

bool verify_hs256(std::string_view token, std::string_view secret) {
  auto parts = split(token);
  if (!parts || !header_alg_is(*parts, "HS256")) return false;
  const std::string expected = hmac_sha256(parts->signing_input, secret);
  return expected.size() == parts->signature.size() &&
         CRYPTO_memcmp(expected.data(), parts->signature.data(), expected.size()) == 0;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL's random generator failed");
  return out;
}

}  // namespace hmc::jwt
