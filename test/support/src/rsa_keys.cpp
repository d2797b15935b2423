#include "hmc/testing/rsa_keys.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>

namespace hmc::testing {

namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

RsaKeyPair generate_rsa_key_pair(int bits) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(static_cast<unsigned>(bits)), &EVP_PKEY_free);
  if (!key) throw std::runtime_error("EVP_RSA_gen failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), &BIO_free);
  if (!priv || !pub || PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) {
    throw std::runtime_error("writing the RSA key pair as PEM failed");
  }
  return RsaKeyPair{bio_text(priv.get()), bio_text(pub.get())};
}

const RsaKeyPair& test_key_pair() {
  static const RsaKeyPair keys = generate_rsa_key_pair();
  return keys;
}

std::string service_account_credential(const std::string& uid, const RsaKeyPair& keys,
                                       const std::string& login_endpoint) {
  return boost::json::serialize(boost::json::object{{"uid", uid},
                                                    {"private_key", keys.private_pem},
                                                    {"login_endpoint", login_endpoint},
                                                    {"scheme", "RS256"}});
}

}  // namespace hmc::testing
