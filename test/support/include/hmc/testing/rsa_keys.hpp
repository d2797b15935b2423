#pragma once
// RSA key pairs made at test time (OpenSSL), so no private key is checked in.

#include <string>

namespace hmc::testing {

struct RsaKeyPair {
  std::string private_pem;  // PKCS#8 "BEGIN PRIVATE KEY", unencrypted
  std::string public_pem;   // SubjectPublicKeyInfo "BEGIN PUBLIC KEY"
};

// A fresh 2048-bit key pair. Throws std::runtime_error when OpenSSL fails.
RsaKeyPair generate_rsa_key_pair(int bits = 2048);

// One 2048-bit key pair per test process, made at the first call: the
// service account's key in tests that need only one.
const RsaKeyPair& test_key_pair();

// The DC/OS service-account credential JSON for `keys`:
// {"uid", "private_key", "login_endpoint", "scheme": "RS256"}.
std::string service_account_credential(const std::string& uid, const RsaKeyPair& keys,
                                       const std::string& login_endpoint);

}  // namespace hmc::testing
