// The in-memory ZooKeeper behaves like the real one where controllers rely on it.

#include "hmc/testing/fake_zookeeper.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace {

using hmc::ErrorKind;
using hmc::testing::FakeZkFailure;
using hmc::testing::FakeZkOp;
using hmc::testing::FakeZooKeeper;
namespace zk = hmc::zk;
using Events = std::vector<std::pair<zk::WatchEventType, std::string>>;

struct Recorder {
  Events events;
  std::vector<zk::SessionState> states;
  zk::Watcher watcher() {
    return [this](zk::WatchEventType t, const std::string& p) { events.emplace_back(t, p); };
  }
  zk::SessionListener listener() {
    return [this](zk::SessionState s) { states.push_back(s); };
  }
};

TEST(FakeZooKeeper, CrudWithVersions) {
  FakeZooKeeper fake;
  auto c = fake.client();
  EXPECT_EQ(c->state(), zk::SessionState::connected);
  ASSERT_TRUE(c->create("/a", "1"));
  EXPECT_EQ(c->get("/a")->stat.version, 0);
  auto s = c->set("/a", "2", 0);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->version, 1);
  EXPECT_EQ(c->set("/a", "3", 0).error().kind, ErrorKind::conflict);
  EXPECT_EQ(c->create("/a", "").error().kind, ErrorKind::conflict);
  EXPECT_EQ(c->create("/x/y", "").error().kind, ErrorKind::not_found);
  ASSERT_TRUE(c->create("/a/b", ""));
  EXPECT_EQ(c->remove("/a").error().kind, ErrorKind::conflict);
  EXPECT_EQ(c->remove("/a/b", 5).error().kind, ErrorKind::conflict);
  EXPECT_EQ(*c->children("/a"), std::vector<std::string>{"b"});
  ASSERT_TRUE(c->remove("/a/b", 0));
  EXPECT_FALSE(c->exists("/a/b")->has_value());
  EXPECT_EQ(fake.data("/a"), "2");
  EXPECT_EQ(c->get("relative").error().kind, ErrorKind::invalid);
  EXPECT_EQ(c->create("/a/", "").error().kind, ErrorKind::invalid);
}

TEST(FakeZooKeeper, SequentialNamesFollowTheParentsChildVersion) {
  FakeZooKeeper fake;
  auto c = fake.client();
  ASSERT_TRUE(c->ensure_path("/root/election"));
  ASSERT_TRUE(c->create("/root/election/other", ""));
  auto n = c->create("/root/election/n_", "", zk::CreateMode::ephemeral_sequential);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, "/root/election/n_0000000001");
  EXPECT_EQ(fake.stat(*n)->ephemeral_owner, c->session_id());
  EXPECT_EQ(c->create(*n + "/child", "").error().kind, ErrorKind::invalid);
}

TEST(FakeZooKeeper, EphemeralsGoWithTheirSession) {
  FakeZooKeeper fake;
  auto owner = fake.client();
  auto other = fake.client();
  Recorder rec;
  ASSERT_TRUE(owner->create("/lock", "", zk::CreateMode::ephemeral));
  ASSERT_TRUE(other->exists("/lock", rec.watcher()));
  owner.reset();
  EXPECT_FALSE(fake.data("/lock"));
  EXPECT_EQ(rec.events, (Events{{zk::WatchEventType::deleted, "/lock"}}));
}

TEST(FakeZooKeeper, WatchesFireOnceWithZooKeeperEventTypes) {
  FakeZooKeeper fake;
  auto c = fake.client();
  ASSERT_TRUE(c->create("/w", ""));
  Recorder data, kids, missing;
  ASSERT_TRUE(c->get("/w", data.watcher()));
  ASSERT_TRUE(c->children("/w", kids.watcher()));
  ASSERT_TRUE(c->exists("/w/n", missing.watcher()));
  EXPECT_EQ(fake.watch_count(), 3u);
  ASSERT_TRUE(c->set("/w", "1"));
  ASSERT_TRUE(c->set("/w", "2"));
  ASSERT_TRUE(c->create("/w/n", ""));
  ASSERT_TRUE(c->create("/w/m", ""));
  EXPECT_EQ(data.events, (Events{{zk::WatchEventType::changed, "/w"}}));
  EXPECT_EQ(kids.events, (Events{{zk::WatchEventType::child, "/w"}}));
  EXPECT_EQ(missing.events, (Events{{zk::WatchEventType::created, "/w/n"}}));
  EXPECT_EQ(fake.watch_count(), 0u);
}

TEST(FakeZooKeeper, CallbacksGoThroughDispatch) {
  FakeZooKeeper fake;
  std::deque<std::function<void()>> queue;
  zk::ZkOptions o;
  o.dispatch = [&](std::function<void()> t) { queue.push_back(std::move(t)); };
  auto c = fake.client(o);
  Recorder rec;
  ASSERT_TRUE(c->create("/d", ""));
  ASSERT_TRUE(c->get("/d", rec.watcher()));
  ASSERT_TRUE(c->remove("/d"));
  EXPECT_TRUE(rec.events.empty());
  ASSERT_EQ(queue.size(), 1u);
  queue.front()();
  EXPECT_EQ(rec.events, (Events{{zk::WatchEventType::deleted, "/d"}}));
}

TEST(FakeZooKeeper, CallbacksMayCallTheClient) {
  FakeZooKeeper fake;
  auto c = fake.client();
  ASSERT_TRUE(c->create("/r", "0"));
  std::vector<std::string> seen;
  std::function<void()> arm = [&] {
    ASSERT_TRUE(c->get("/r", [&](zk::WatchEventType, const std::string&) {
      seen.push_back(c->get("/r")->data);
      arm();
    }));
  };
  arm();
  ASSERT_TRUE(c->set("/r", "1"));
  ASSERT_TRUE(c->set("/r", "2"));
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2"}));
}

TEST(FakeZooKeeper, MultiIsAllOrNothing) {
  FakeZooKeeper fake;
  auto c = fake.client();
  Recorder rec;
  ASSERT_TRUE(c->create("/leader", ""));
  ASSERT_TRUE(c->create("/s", "old"));
  ASSERT_TRUE(c->get("/s", rec.watcher()));
  auto failed = c->multi({zk::SetOp{"/s", "new"}, zk::CreateOp{"/t", ""}, zk::CheckOp{"/leader", 3}});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::conflict);
  EXPECT_NE(failed.error().message.find("check '/leader'"), std::string::npos) << failed.error().message;
  EXPECT_EQ(fake.data("/s"), "old");
  EXPECT_FALSE(fake.data("/t"));
  EXPECT_TRUE(rec.events.empty());
  EXPECT_EQ(fake.watch_count(), 1u);

  ASSERT_TRUE(c->multi({zk::CheckOp{"/leader", 0}, zk::SetOp{"/s", "new", 0}, zk::CreateOp{"/t", ""}}));
  EXPECT_EQ(fake.data("/s"), "new");
  EXPECT_TRUE(fake.data("/t"));
  EXPECT_EQ(rec.events, (Events{{zk::WatchEventType::changed, "/s"}}));
}

TEST(FakeZooKeeper, InjectedFailuresChangeNothing) {
  FakeZooKeeper fake;
  auto c = fake.client();
  ASSERT_TRUE(c->create("/status", "a"));
  fake.inject_failure({.op = FakeZkOp::set, .path = "/status", .kind = ErrorKind::unavailable, .times = 2});
  EXPECT_EQ(c->set("/status", "b").error().kind, ErrorKind::unavailable);
  EXPECT_EQ(c->set("/status", "b").error().kind, ErrorKind::unavailable);
  EXPECT_EQ(fake.data("/status"), "a");
  EXPECT_TRUE(c->get("/status"));  // other operations are unaffected
  EXPECT_TRUE(c->set("/status", "b"));
  fake.inject_failure({.op = FakeZkOp::any, .path = "/topologies", .kind = ErrorKind::session_expired, .times = -1});
  EXPECT_EQ(c->children("/topologies/x").error().kind, ErrorKind::session_expired);
  EXPECT_EQ(c->multi({zk::CreateOp{"/topologies", ""}}).error().kind, ErrorKind::session_expired);
  EXPECT_TRUE(c->create("/other", ""));
  fake.clear_failures();
  EXPECT_TRUE(c->create("/topologies", ""));
  EXPECT_EQ(fake.call_count(FakeZkOp::set), 3u);
  EXPECT_EQ(fake.call_count(FakeZkOp::multi), 1u);
}

TEST(FakeZooKeeper, SessionExpiryRenewsTheSession) {
  FakeZooKeeper fake;
  auto c = fake.client();
  auto other = fake.client();
  Recorder mine, theirs;
  c->set_session_listener(mine.listener());
  ASSERT_TRUE(c->create("/eph", "", zk::CreateMode::ephemeral));
  ASSERT_TRUE(c->create("/data", ""));
  ASSERT_TRUE(c->get("/data", mine.watcher()));
  ASSERT_TRUE(other->exists("/eph", theirs.watcher()));
  const auto old_id = c->session_id();

  fake.expire_session(old_id);
  EXPECT_EQ(mine.states, (std::vector<zk::SessionState>{zk::SessionState::expired, zk::SessionState::connected}));
  EXPECT_EQ(mine.events, (Events{{zk::WatchEventType::session_lost, "/data"}}));
  EXPECT_EQ(theirs.events, (Events{{zk::WatchEventType::deleted, "/eph"}}));
  EXPECT_NE(c->session_id(), old_id);
  EXPECT_FALSE(fake.data("/eph"));
  EXPECT_TRUE(c->create("/eph", "", zk::CreateMode::ephemeral));
  EXPECT_EQ(fake.stat("/eph")->ephemeral_owner, c->session_id());
}

TEST(FakeZooKeeper, UnreachableServerKeepsSessionsAndWatches) {
  FakeZooKeeper fake;
  auto c = fake.client();
  Recorder rec;
  c->set_session_listener(rec.listener());
  ASSERT_TRUE(c->create("/n", ""));
  ASSERT_TRUE(c->get("/n", rec.watcher()));
  fake.set_reachable(false);
  EXPECT_EQ(c->state(), zk::SessionState::connecting);
  EXPECT_EQ(c->get("/n").error().kind, ErrorKind::unavailable);
  EXPECT_EQ(fake.connect({}).error().kind, ErrorKind::unavailable);
  fake.set_reachable(true);
  EXPECT_EQ(rec.states, (std::vector<zk::SessionState>{zk::SessionState::connecting, zk::SessionState::connected}));
  ASSERT_TRUE(c->set("/n", "x"));
  EXPECT_EQ(rec.events, (Events{{zk::WatchEventType::changed, "/n"}}));
}

TEST(FakeZooKeeper, DigestAclsLikeCreatorAll) {
  FakeZooKeeper fake;
  zk::ZkOptions alice;
  alice.digest = "alice:secret";
  auto a = fake.client(alice);
  auto anon = fake.client();
  ASSERT_TRUE(a->ensure_path("/secure/child"));
  EXPECT_EQ(anon->get("/secure").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anon->set("/secure", "x").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anon->create("/secure/mine", "").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anon->remove("/secure/child").error().kind, ErrorKind::unauthorized);
  EXPECT_TRUE(anon->exists("/secure")->has_value());
  auto a2 = fake.client(alice);
  EXPECT_TRUE(a2->set("/secure", "ok"));
  zk::ZkOptions bad;
  bad.digest = "nocolon";
  EXPECT_EQ(fake.connect(bad).error().kind, ErrorKind::invalid);
}

TEST(FakeZooKeeper, AclListsGrantPerPermissionAsTheRealServer) {
  FakeZooKeeper fake;
  zk::ZkOptions alice;
  alice.digest = "alice:secret";
  alice.acl = {{"digest", zk::digest_id("bob:pw"), zk::acl_all}, {"digest", zk::digest_id("dave:pw"), zk::acl_read}};
  auto a = fake.client(alice);
  ASSERT_TRUE(a->ensure_path("/shared/t"));
  zk::ZkOptions bob;
  bob.digest = "bob:pw";
  auto b = fake.client(bob);
  EXPECT_TRUE(b->set("/shared/t", "b"));
  EXPECT_TRUE(b->create("/shared/u", ""));
  EXPECT_EQ(a->get("/shared/u").error().kind, ErrorKind::unauthorized) << "bob's node is bob's";
  EXPECT_TRUE(b->remove("/shared/u"));
  zk::ZkOptions dave;
  dave.digest = "dave:pw";
  auto d = fake.client(dave);
  EXPECT_EQ(d->get("/shared/t")->data, "b");
  EXPECT_EQ(d->set("/shared/t", "d").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(d->create("/shared/v", "").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(fake.client()->get("/shared/t").error().kind, ErrorKind::unauthorized);
  zk::ZkOptions acl_only;
  acl_only.acl = alice.acl;
  EXPECT_EQ(fake.connect(acl_only).error().kind, ErrorKind::invalid);
}

TEST(FakeZooKeeper, EnsurePathAndRemoveRecursive) {
  FakeZooKeeper fake;
  auto c = fake.client();
  ASSERT_TRUE(c->ensure_path("/a/b/c"));
  ASSERT_TRUE(c->ensure_path("/a/b/c"));
  ASSERT_TRUE(c->create("/a/b/d", ""));
  EXPECT_EQ(fake.paths(), (std::vector<std::string>{"/a", "/a/b", "/a/b/c", "/a/b/d"}));
  ASSERT_TRUE(c->remove_recursive("/a"));
  EXPECT_TRUE(fake.paths().empty());
  EXPECT_TRUE(c->remove_recursive("/a"));
  EXPECT_EQ(c->remove_recursive("/").error().kind, ErrorKind::invalid);
}

}  // namespace
