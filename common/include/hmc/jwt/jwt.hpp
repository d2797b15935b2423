#pragma once
// Compact JSON Web Tokens (RFC 7519) signed with RS256 or HS256, as DC/OS's
// IAM uses them: the service login token a DC/OS service account signs with
// its private key, and the authentication tokens the IAM hands back. OpenSSL
// stays in jwt.cpp; nothing here includes it.
//
// Threading: every function is pure and may run on any thread.

#include "hmc/common/error.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hmc::jwt {

// Base64url (RFC 4648 section 5) without padding, as JWS writes it.
std::string base64url_encode(std::string_view bytes);
// Accepts unpadded (and padded) base64url; nullopt on any other character.
std::optional<std::string> base64url_decode(std::string_view text);

// The decoded parts of a compact token "header.claims.signature".
struct Parts {
  std::string header;         // JSON text
  std::string claims;         // JSON text
  std::string signing_input;  // the first two segments as sent, with the dot
  std::string signature;      // raw bytes
};
// nullopt unless there are exactly three base64url segments.
std::optional<Parts> split(std::string_view token);

// {"alg":"RS256","typ":"JWT"}.<claims>.<RSASSA-PKCS1-v1_5 SHA-256 signature>.
// `private_key_pem`: an RSA private key, PKCS#1 ("BEGIN RSA PRIVATE KEY") or
// PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted. Errors (source config, kind
// invalid): not a PEM key, not RSA; the message never quotes the key.
Result<std::string> sign_rs256(std::string_view claims_json, std::string_view private_key_pem);

// Whether `token` has header alg RS256 and a valid signature by the key of
// `public_key_pem` ("BEGIN PUBLIC KEY", as `openssl rsa -pubout` and
// `dcos security org service-accounts keypair` write it). Claims are
// not looked at. Errors: the public key cannot be read.
Result<bool> verify_rs256(std::string_view token, std::string_view public_key_pem);

// {"alg":"HS256","typ":"JWT"} with HMAC-SHA256 under `secret`.
std::string sign_hs256(std::string_view claims_json, std::string_view secret);
bool verify_hs256(std::string_view token, std::string_view secret);

// `n` bytes from OpenSSL's CSPRNG (for HS256 secrets).
std::string random_bytes(std::size_t n);

}  // namespace hmc::jwt
