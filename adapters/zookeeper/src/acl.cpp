// ACL lists and digest ids. The digest follows ZooKeeper's
// DigestAuthenticationProvider.generateDigest: SHA-1 of the whole
// "user:password", Base64 encoded, prefixed with "user:".

#include "hmc/zookeeper/acl.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>

namespace hmc::zk {

namespace {

Error acl_error(std::string message) {
  return make_error(ErrorSource::zookeeper, ErrorKind::invalid, std::move(message));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

constexpr std::string_view kPermLetters = "rwcda";

int perm_bit(char c) {
  switch (c) {
    case 'r': return acl_read;
    case 'w': return acl_write;
    case 'c': return acl_create;
    case 'd': return acl_delete;
    case 'a': return acl_admin;
    default: return 0;
  }
}

bool is_base64_sha1(std::string_view s) {
  // 20 bytes of SHA-1 are 28 Base64 characters ending in one '='.
  if (s.size() != 28 || s.back() != '=') return false;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

Result<AclEntry> parse_entry(std::string_view entry) {
  const std::string quoted = "ZooKeeper ACL entry '" + std::string(entry) + "'";
  const auto first = entry.find(':');
  const auto last = entry.rfind(':');
  if (first == std::string_view::npos || first == last) {
    return acl_error(quoted + ": expected scheme:id:perms (e.g. digest:user:<base64 sha1>:rwcda)");
  }
  AclEntry out;
  out.scheme = std::string(entry.substr(0, first));
  out.id = std::string(entry.substr(first + 1, last - first - 1));
  const auto perms = entry.substr(last + 1);
  if (perms.empty()) return acl_error(quoted + ": no permissions (letters of rwcda)");
  for (char c : perms) {
    const int bit = perm_bit(c);
    if (bit == 0) return acl_error(quoted + ": '" + std::string(1, c) + "' is not a permission (letters of rwcda)");
    out.perms |= bit;
  }
  if (out.scheme == "digest") {
    const auto colon = out.id.find(':');
    if (colon == std::string::npos || colon == 0 || !is_base64_sha1(std::string_view(out.id).substr(colon + 1))) {
      return acl_error(quoted + ": a digest id is user:<base64 of sha1(user:password)>, 28 characters ending in '='");
    }
  } else if (out.scheme == "world") {
    if (out.id != "anyone") return acl_error(quoted + ": the only world id is 'anyone'");
  } else if (out.scheme == "ip") {
    if (out.id.empty()) return acl_error(quoted + ": an ip id is an address, optionally /bits");
  } else {
    return acl_error(quoted + ": scheme '" + out.scheme + "' is not one of digest, world, ip");
  }
  return out;
}

}  // namespace

Result<std::vector<AclEntry>> parse_acl_list(std::string_view text) {
  std::vector<AclEntry> out;
  text = trim(text);
  if (text.empty()) return out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = text.find(',', pos);
    const auto entry = trim(text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (entry.empty()) return acl_error("ZooKeeper ACL list '" + std::string(text) + "' has an empty entry");
    auto parsed = parse_entry(entry);
    if (!parsed) return parsed.error();
    out.push_back(std::move(*parsed));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::string to_string(const std::vector<AclEntry>& acl) {
  std::string out;
  for (const auto& e : acl) {
    if (!out.empty()) out += ',';
    out += e.scheme + ":" + e.id + ":";
    for (char c : kPermLetters) {
      if (e.perms & perm_bit(c)) out += c;
    }
  }
  return out;
}

std::string digest_id(std::string_view credentials) {
  const auto colon = credentials.find(':');
  if (colon == std::string_view::npos) return {};
  std::array<unsigned char, SHA_DIGEST_LENGTH> sha{};
  unsigned int length = 0;
  if (EVP_Digest(credentials.data(), credentials.size(), sha.data(), &length, EVP_sha1(), nullptr) != 1) return {};
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded{};
  const int n = EVP_EncodeBlock(encoded.data(), sha.data(), static_cast<int>(length));
  return std::string(credentials.substr(0, colon)) + ":" +
         std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

std::vector<AclEntry> creator_acl(std::string_view credentials, const std::vector<AclEntry>& grants) {
  std::vector<AclEntry> out{{"digest", digest_id(credentials), acl_all}};
  for (const auto& g : grants) {
    if (g.scheme == out.front().scheme && g.id == out.front().id) continue;  // already all
    bool merged = false;
    for (auto& e : out) {
      if (e.scheme == g.scheme && e.id == g.id) {
        e.perms |= g.perms;
        merged = true;
      }
    }
    if (!merged) out.push_back(g);
  }
  return out;
}

}  // namespace hmc::zk
