#pragma once
// ZooKeeper ACL entries as operators write them ("scheme:id:perms", the form
// of zkCli's setAcl) and the digest ids ZooKeeper derives from credentials.

#include "hmc/common/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace hmc::zk {

// Permission bits, as ZooKeeper's ZOO_PERM_* (READ 1, WRITE 2, CREATE 4,
// DELETE 8, ADMIN 16).
enum AclPerm : int { acl_read = 1, acl_write = 2, acl_create = 4, acl_delete = 8, acl_admin = 16, acl_all = 31 };

struct AclEntry {
  std::string scheme;  // "digest", "world" or "ip"
  std::string id;      // digest: "user:base64(sha1(user:password))"; world: "anyone"; ip: addr[/bits]
  int perms = 0;       // AclPerm bits, at least one
  bool operator==(const AclEntry&) const = default;
};

// Parses a comma-separated list of "scheme:id:perms" entries, perms being
// letters of "rwcda" (e.g. "digest:ctl:K3p...=:rwcda,world:anyone:r").
// Errors: invalid, naming the entry that is wrong (digest ids are not
// secrets, so they may appear in messages). An empty text is an empty list.
Result<std::vector<AclEntry>> parse_acl_list(std::string_view text);

// "scheme:id:perms,..." as parse_acl_list reads it.
std::string to_string(const std::vector<AclEntry>& acl);

// The id ZooKeeper's DigestAuthenticationProvider gives a session that
// authenticated with "user:password": "user:" + base64(sha1("user:password")).
// Credentials without a ':' give an empty string.
std::string digest_id(std::string_view credentials);

// The ACL of nodes created with `credentials` ("user:password") and the
// extra entries `grants`: the creator's own digest with every permission,
// then each grant (a grant for the creator's own id is folded into it).
std::vector<AclEntry> creator_acl(std::string_view credentials, const std::vector<AclEntry>& grants);

}  // namespace hmc::zk
