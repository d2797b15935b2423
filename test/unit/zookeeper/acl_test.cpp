// ACL lists as operators write them and ZooKeeper's digest ids.

#include "hmc/zookeeper/acl.hpp"

#include <gtest/gtest.h>

namespace {

namespace zk = hmc::zk;

TEST(ZkDigestId, IsBase64OfSha1OfUserColonPasswordAsZooKeeperComputesIt) {
  // The example of ZooKeeper's administrator guide ("super" user).
  EXPECT_EQ(zk::digest_id("super:superpw"), "super:g9oN2HttPfn8MMWJZ2r45Np/LIA=");
  EXPECT_EQ(zk::digest_id("alice:secret"), "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
  // Only the first ':' separates the user; the hash covers the whole text.
  EXPECT_EQ(zk::digest_id("bob:pass:word").substr(0, 4), "bob:");
  EXPECT_NE(zk::digest_id("bob:pass:word"), zk::digest_id("bob:pass"));
  EXPECT_EQ(zk::digest_id("no-colon"), "");
}

TEST(ZkAclList, ParsesEntriesOfEachScheme) {
  auto acl = zk::parse_acl_list(" digest:ctl:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:rwcda , world:anyone:r,ip:10.0.0.0/8:rw ");
  ASSERT_TRUE(acl) << acl.error().message;
  ASSERT_EQ(acl->size(), 3u);
  EXPECT_EQ((*acl)[0], (zk::AclEntry{"digest", "ctl:aYXlLOpEooaV1cRAvUL1fp9Qt7E=", zk::acl_all}));
  EXPECT_EQ((*acl)[1], (zk::AclEntry{"world", "anyone", zk::acl_read}));
  EXPECT_EQ((*acl)[2], (zk::AclEntry{"ip", "10.0.0.0/8", zk::acl_read | zk::acl_write}));
  EXPECT_EQ(zk::to_string(*acl),
            "digest:ctl:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:rwcda,world:anyone:r,ip:10.0.0.0/8:rw");
  auto empty = zk::parse_acl_list("  ");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(ZkAclList, BadEntriesAreInvalidAndNamed) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"digest:ctl:rwcda", "a digest id is user:<base64"},
      {"digest:ctl:secret:rwcda", "base64"},  // a password where the hash belongs
      {"digest::aYXlLOpEooaV1cRAvUL1fp9Qt7E=:r", "base64"},
      {"digest:ctl:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:", "no permissions"},
      {"digest:ctl:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:rwx", "'x' is not a permission"},
      {"world:everyone:r", "anyone"},
      {"sasl:ctl:r", "scheme 'sasl'"},
      {"world:anyone:r,,ip:1.2.3.4:r", "empty entry"},
      {"nonsense", "scheme:id:perms"},
  };
  for (const auto& c : cases) {
    auto acl = zk::parse_acl_list(c.text);
    ASSERT_FALSE(acl) << c.text;
    EXPECT_EQ(acl.error().kind, hmc::ErrorKind::invalid) << c.text;
    EXPECT_NE(acl.error().message.find(c.says), std::string::npos) << c.text << ": " << acl.error().message;
  }
}

TEST(ZkCreatorAcl, KeepsTheCreatorAndMergesGrants) {
  const auto bob = zk::digest_id("bob:hunter2");
  auto acl = zk::creator_acl("alice:secret", {{"digest", bob, zk::acl_read},
                                              {"digest", zk::digest_id("alice:secret"), zk::acl_read},
                                              {"digest", bob, zk::acl_write}});
  ASSERT_EQ(acl.size(), 2u);
  EXPECT_EQ(acl[0], (zk::AclEntry{"digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=", zk::acl_all}));
  EXPECT_EQ(acl[1], (zk::AclEntry{"digest", bob, zk::acl_read | zk::acl_write}));
}

}  // namespace
