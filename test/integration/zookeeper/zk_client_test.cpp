// hmc::zk::ZkClient against a real ZooKeeper server.

#include "hmc/testing/zookeeper_server.hpp"
#include "hmc/zookeeper/testing.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

namespace {

using namespace std::chrono_literals;
using hmc::ErrorKind;
using hmc::testing::wait_until;
using hmc::testing::ZooKeeperServer;
using hmc::testing::ZooKeeperServerOptions;
namespace zk = hmc::zk;

// Records watch events and session states from any thread.
class Recorder {
 public:
  zk::Watcher watcher() {
    return [this](zk::WatchEventType type, const std::string& path) {
      std::lock_guard lock(mu_);
      events_.push_back({type, path});
    };
  }
  zk::SessionListener listener() {
    return [this](zk::SessionState s) {
      std::lock_guard lock(mu_);
      states_.push_back(s);
    };
  }
  std::vector<std::pair<zk::WatchEventType, std::string>> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<zk::SessionState> states() {
    std::lock_guard lock(mu_);
    return states_;
  }
  bool wait_events(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    return wait_until([&] { return events().size() >= n; }, timeout);
  }
  // True once `first` was seen and later `second`.
  bool saw_in_order(zk::SessionState first, zk::SessionState second) {
    auto s = states();
    auto it = std::find(s.begin(), s.end(), first);
    return it != s.end() && std::find(it, s.end(), second) != s.end();
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<zk::WatchEventType, std::string>> events_;
  std::vector<zk::SessionState> states_;
};

class ZkClientTest : public ::testing::Test {
 protected:
  explicit ZkClientTest(ZooKeeperServerOptions server_options = {}) : server_(server_options) {}

  zk::ZkOptions options() const {
    zk::ZkOptions o;
    o.connect = server_.connect_string();
    o.session_timeout = 4000ms;
    o.connect_timeout = 10000ms;
    return o;
  }

  std::unique_ptr<zk::ZkClient> connect(zk::ZkOptions o) {
    auto client = zk::connect(o);
    if (!client) {
      ADD_FAILURE() << "connect: " << client.error().message;
      return nullptr;
    }
    return std::move(*client);
  }
  std::unique_ptr<zk::ZkClient> connect() { return connect(options()); }

  ZooKeeperServer server_;
};

TEST_F(ZkClientTest, CreateGetSetChildrenRemove) {
  auto c = connect();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state(), zk::SessionState::connected);
  EXPECT_NE(c->session_id(), 0);

  const std::string binary("a\0b\xff", 4);
  auto created = c->create("/app", binary);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(*created, "/app");
  ASSERT_TRUE(c->create("/app/x", "1"));
  ASSERT_TRUE(c->create("/app/y", ""));

  auto node = c->get("/app");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->data, binary);
  EXPECT_EQ(node->stat.version, 0);
  EXPECT_EQ(node->stat.num_children, 2);

  auto kids = c->children("/app");
  ASSERT_TRUE(kids);
  std::sort(kids->begin(), kids->end());
  EXPECT_EQ(*kids, (std::vector<std::string>{"x", "y"}));

  auto stat = c->set("/app/x", "2");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->version, 1);
  EXPECT_EQ(c->get("/app/x")->data, "2");
  EXPECT_EQ(c->get("/app/y")->data, "");

  ASSERT_TRUE(c->remove("/app/x"));
  auto gone = c->exists("/app/x");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto there = c->exists("/app/y");
  ASSERT_TRUE(there && there->has_value());
  EXPECT_EQ((*there)->version, 0);
}

TEST_F(ZkClientTest, VersionsAndMissingNodesAreReportedAsErrors) {
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->create("/v", "a"));
  ASSERT_TRUE(c->set("/v", "b", 0));

  auto stale = c->set("/v", "c", 0);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::conflict);
  EXPECT_EQ(stale.error().source, hmc::ErrorSource::zookeeper);
  EXPECT_NE(stale.error().message.find("/v"), std::string::npos);
  EXPECT_EQ(c->remove("/v", 7).error().kind, ErrorKind::conflict);
  EXPECT_EQ(c->create("/v", "again").error().kind, ErrorKind::conflict);
  EXPECT_EQ(c->create("/missing/child", "").error().kind, ErrorKind::not_found);
  EXPECT_EQ(c->get("/nope").error().kind, ErrorKind::not_found);
  EXPECT_EQ(c->children("/nope").error().kind, ErrorKind::not_found);
  EXPECT_EQ(c->set("/nope", "x").error().kind, ErrorKind::not_found);
  EXPECT_EQ(c->remove("/nope").error().kind, ErrorKind::not_found);

  ASSERT_TRUE(c->create("/v/child", ""));
  EXPECT_EQ(c->remove("/v").error().kind, ErrorKind::conflict);
  EXPECT_EQ(c->get("/v")->data, "b");
}

TEST_F(ZkClientTest, MalformedPathsAreInvalidNotFatal) {
  auto c = connect();
  ASSERT_TRUE(c);
  for (const std::string bad : {"relative", "/trailing/", "", "/a//b"}) {
    auto r = c->get(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid) << bad;
    EXPECT_NE(r.error().message.find("'" + bad + "'"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(c->create("no-slash", "").error().kind, ErrorKind::invalid);
  EXPECT_EQ(c->ensure_path("no-slash").error().kind, ErrorKind::invalid);
  EXPECT_EQ(c->remove_recursive("/").error().kind, ErrorKind::invalid);
}

TEST_F(ZkClientTest, LargeNodesAreReadCompletely) {
  auto c = connect();
  ASSERT_TRUE(c);
  std::string big(1536 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(c->create("/big", big));
  Recorder rec;
  auto node = c->get("/big", rec.watcher());
  ASSERT_TRUE(node) << node.error().message;
  EXPECT_EQ(node->data.size(), big.size());
  EXPECT_EQ(node->data, big);
  ASSERT_TRUE(c->set("/big", "small"));
  ASSERT_TRUE(rec.wait_events(1));
  EXPECT_EQ(rec.events().size(), 1u);
}

TEST_F(ZkClientTest, EphemeralSequentialNodesBelongToTheSession) {
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->ensure_path("/election"));
  auto first = c->create("/election/n_", "a", zk::CreateMode::ephemeral_sequential);
  auto second = c->create("/election/n_", "b", zk::CreateMode::ephemeral_sequential);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, "/election/n_0000000000");
  EXPECT_EQ(*second, "/election/n_0000000001");
  EXPECT_EQ(c->get(*first)->stat.ephemeral_owner, c->session_id());
  auto persistent_seq = c->create("/election/p_", "", zk::CreateMode::persistent_sequential);
  ASSERT_TRUE(persistent_seq);
  EXPECT_EQ(c->get(*persistent_seq)->stat.ephemeral_owner, 0);

  auto observer = connect();
  ASSERT_TRUE(observer);
  EXPECT_EQ(observer->children("/election")->size(), 3u);
  c.reset();  // closing ends the session: its ephemerals go at once
  auto left = observer->children("/election");
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, std::vector<std::string>{"p_0000000002"});
}

TEST_F(ZkClientTest, WatchesFireOnceThroughDispatch) {
  // A dispatch that runs callbacks on a thread of ours, like an executor.
  std::mutex mu;
  std::deque<std::function<void()>> queue;
  std::size_t dispatched = 0;
  auto opts = options();
  opts.dispatch = [&](std::function<void()> task) {
    std::lock_guard lock(mu);
    queue.push_back(std::move(task));
    ++dispatched;
  };
  auto run_dispatched = [&] {
    std::deque<std::function<void()>> tasks;
    {
      std::lock_guard lock(mu);
      tasks.swap(queue);
    }
    for (auto& t : tasks) t();
  };
  auto c = connect(opts);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->create("/w", "0"));

  Recorder data, kids, created;
  ASSERT_TRUE(c->get("/w", data.watcher()));
  ASSERT_TRUE(c->children("/w", kids.watcher()));
  auto absent = c->exists("/w/later", created.watcher());
  ASSERT_TRUE(absent && !absent->has_value());

  ASSERT_TRUE(c->set("/w", "1"));
  ASSERT_TRUE(c->set("/w", "2"));
  ASSERT_TRUE(c->create("/w/later", ""));
  ASSERT_TRUE(c->create("/w/another", ""));

  ASSERT_TRUE(wait_until([&] { std::lock_guard l(mu); return dispatched >= 3; }, 10s));
  // Nothing ran until our executor ran it.
  EXPECT_TRUE(data.events().empty() && kids.events().empty() && created.events().empty());
  std::this_thread::sleep_for(300ms);  // give any duplicate a chance to show up
  run_dispatched();
  EXPECT_EQ(data.events(), (std::vector<std::pair<zk::WatchEventType, std::string>>{{zk::WatchEventType::changed, "/w"}}));
  EXPECT_EQ(kids.events(), (std::vector<std::pair<zk::WatchEventType, std::string>>{{zk::WatchEventType::child, "/w"}}));
  EXPECT_EQ(created.events(),
            (std::vector<std::pair<zk::WatchEventType, std::string>>{{zk::WatchEventType::created, "/w/later"}}));

  Recorder deleted;
  ASSERT_TRUE(c->exists("/w/later", deleted.watcher()));
  ASSERT_TRUE(c->remove("/w/later"));
  ASSERT_TRUE(wait_until([&] { run_dispatched(); return !deleted.events().empty(); }, 10s));
  EXPECT_EQ(deleted.events().front().first, zk::WatchEventType::deleted);
}

TEST_F(ZkClientTest, DefaultDispatcherLetsCallbacksCallTheClient) {
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->create("/cb", "0"));
  std::mutex mu;
  std::string seen;
  std::function<void()> arm;
  // Re-arming from inside the callback: would deadlock on the library's thread.
  arm = [&] {
    auto r = c->get("/cb", [&](zk::WatchEventType, const std::string&) {
      auto again = c->get("/cb");
      std::lock_guard lock(mu);
      seen = again ? again->data : again.error().message;
    });
    ASSERT_TRUE(r);
  };
  arm();
  ASSERT_TRUE(c->set("/cb", "fresh"));
  ASSERT_TRUE(wait_until([&] { std::lock_guard lock(mu); return !seen.empty(); }, 10s));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, "fresh");
}

TEST_F(ZkClientTest, MultiIsAllOrNothingAndFencedByCheck) {
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->create("/leader", "me"));
  ASSERT_TRUE(c->create("/status", "old"));
  const auto leader_version = c->get("/leader")->stat.version;

  auto ok = c->multi({zk::CheckOp{"/leader", leader_version}, zk::SetOp{"/status", "new", 0},
                      zk::CreateOp{"/made", "x"}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(c->get("/status")->data, "new");
  EXPECT_TRUE(c->exists("/made")->has_value());

  ASSERT_TRUE(c->set("/leader", "someone else"));  // the fence moves
  auto fenced = c->multi({zk::CheckOp{"/leader", leader_version}, zk::SetOp{"/status", "stale"},
                          zk::DeleteOp{"/made"}, zk::CreateOp{"/made2", ""}});
  ASSERT_FALSE(fenced);
  EXPECT_EQ(fenced.error().kind, ErrorKind::conflict);
  EXPECT_NE(fenced.error().message.find("check '/leader'"), std::string::npos) << fenced.error().message;
  EXPECT_EQ(c->get("/status")->data, "new");
  EXPECT_TRUE(c->exists("/made")->has_value());
  EXPECT_FALSE(c->exists("/made2")->has_value());

  auto missing = c->multi({zk::CreateOp{"/made3", ""}, zk::DeleteOp{"/absent"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_NE(missing.error().message.find("remove '/absent'"), std::string::npos);
  EXPECT_FALSE(c->exists("/made3")->has_value());
  EXPECT_TRUE(c->multi({}));
}

// Pipelined reads in order, with watches only where a node exists; run against
// each of the server's connection factories.
void expect_pipelined_reads_in_order_with_watches(zk::ZkClient* c) {
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->ensure_path("/many"));
  std::vector<std::string> paths;
  for (int i = 0; i < 300; ++i) {
    paths.push_back("/many/n" + std::to_string(i));
    if (i % 3 != 2) {
      ASSERT_TRUE(c->create(paths.back(), "value-" + std::to_string(i)));
    }
  }
  // Larger than the blocking get's first read buffer: read whole.
  const std::string big(200 * 1024, 'b');
  ASSERT_TRUE(c->set(paths[0], big));

  Recorder rec;
  std::vector<std::size_t> order;
  std::vector<hmc::Result<zk::Node>> got;
  c->get_each(paths, [&](const std::string&) { return rec.watcher(); },
              [&](std::size_t i, hmc::Result<zk::Node> r) {
                order.push_back(i);
                got.push_back(std::move(r));
              });
  ASSERT_EQ(got.size(), paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(order[i], i);
    if (i % 3 == 2) {
      ASSERT_FALSE(got[i]) << paths[i];
      EXPECT_EQ(got[i].error().kind, ErrorKind::not_found);
      EXPECT_NE(got[i].error().message.find(paths[i]), std::string::npos);
    } else {
      ASSERT_TRUE(got[i]) << got[i].error().message;
      EXPECT_EQ(got[i]->data, i == 0 ? big : "value-" + std::to_string(i));
    }
  }
  // Watches are armed on the nodes that exist, and only there.
  ASSERT_TRUE(c->set(paths[1], "changed"));
  ASSERT_TRUE(c->create(paths[2], "made later"));
  ASSERT_TRUE(rec.wait_events(1));
  std::this_thread::sleep_for(200ms);
  auto events = rec.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, zk::WatchEventType::changed);
  EXPECT_EQ(events[0].second, paths[1]);

  auto all = c->get_many(paths);
  ASSERT_EQ(all.size(), paths.size());
  EXPECT_EQ(all[1]->data, "changed");
  EXPECT_EQ(all[2]->data, "made later");
  EXPECT_TRUE(c->get_many({}).empty());
}

TEST_F(ZkClientTest, GetManyPipelinesReadsInOrderWithWatches) {
  auto c = connect();
  expect_pipelined_reads_in_order_with_watches(c.get());
}

class ZkClientNettyTest : public ZkClientTest {
 protected:
  static ZooKeeperServerOptions server_options() {
    ZooKeeperServerOptions o;
    o.system_properties = hmc::testing::connection_properties("netty");
    return o;
  }
  ZkClientNettyTest() : ZkClientTest(server_options()) {}
};

TEST_F(ZkClientNettyTest, ServerUsesNettyAndPipelinedReadsMatch) {
  EXPECT_NE(server_.log().find("NettyServerCnxnFactory"), std::string::npos) << server_.log();
  auto c = connect();
  expect_pipelined_reads_in_order_with_watches(c.get());
}

TEST_F(ZkClientTest, MultiAsyncAnswersOnTheDispatcherInSessionOrder) {
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->create("/fence", ""));
  std::mutex mu;
  std::vector<std::string> outcomes;
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> on_caller{false};
  auto record = [&](std::string what) {
    return [&, what](hmc::Result<void> r) {
      if (std::this_thread::get_id() == caller) on_caller = true;
      // The dispatcher may call the blocking methods.
      auto st = c->exists("/fence");
      std::lock_guard lock(mu);
      outcomes.push_back(what + (r ? ":ok" : ":" + std::string(hmc::to_string(r.error().kind))) +
                         (st && st->has_value() ? "" : ":nofence"));
    };
  };
  c->multi_async({zk::CheckOp{"/fence", -1}, zk::CreateOp{"/a", "1"}}, record("create"));
  c->multi_async({zk::SetOp{"/a", "2", 0}}, record("set"));
  c->multi_async({zk::CreateOp{"/a", "again"}}, record("dup"));
  c->multi_async({zk::CheckOp{"/nofence", -1}, zk::SetOp{"/a", "3"}}, record("fenced"));
  c->multi_async({}, record("empty"));
  // A blocking call sent after them sees them all applied.
  auto a = c->get("/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->data, "2");
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu);
        return outcomes.size() == 5;
      },
      10s));
  EXPECT_FALSE(on_caller.load());
  std::lock_guard lock(mu);
  // The empty multi never reaches the server: it may answer first.
  auto sent = outcomes;
  std::erase(sent, std::string("empty:ok"));
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0], "create:ok");
  EXPECT_EQ(sent[1], "set:ok");
  EXPECT_EQ(sent[2], "dup:Conflict");
  EXPECT_EQ(sent[3], "fenced:NotFound");
}

TEST_F(ZkClientTest, MultiAsyncOutstandingAtCloseStillAnswers) {
  std::atomic<int> answered{0};
  {
    auto c = connect();
    ASSERT_TRUE(c);
    for (int i = 0; i < 50; ++i)
      c->multi_async({zk::CreateOp{"/closing" + std::to_string(i), ""}}, [&](hmc::Result<void>) { ++answered; });
  }  // the client waits for the answers still on their way, then closes
  EXPECT_EQ(answered.load(), 50);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(answered.load(), 50);  // nothing runs after the client is gone
}

TEST_F(ZkClientTest, EnsurePathAndRemoveRecursive) {
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->ensure_path("/heron-marathon/topologies"));
  ASSERT_TRUE(c->ensure_path("/heron-marathon/topologies"));  // idempotent
  ASSERT_TRUE(c->ensure_path("/heron-marathon/status/deep/er"));
  ASSERT_TRUE(c->create("/heron-marathon/topologies/t1", "{}"));
  EXPECT_EQ(c->get("/heron-marathon")->stat.num_children, 2);

  ASSERT_TRUE(c->remove_recursive("/heron-marathon"));
  EXPECT_FALSE(c->exists("/heron-marathon")->has_value());
  EXPECT_TRUE(c->remove_recursive("/heron-marathon"));  // idempotent
}

TEST_F(ZkClientTest, ExpiredSessionIsReplacedAndWatchersLearnIt) {
  auto c = connect();
  ASSERT_TRUE(c);
  Recorder session, watch;
  c->set_session_listener(session.listener());
  ASSERT_TRUE(c->create("/owned", "", zk::CreateMode::ephemeral));
  ASSERT_TRUE(c->create("/watched", ""));
  ASSERT_TRUE(c->get("/watched", watch.watcher()));
  const auto old_session = c->session_id();

  ASSERT_TRUE(zk::expire_session_for_testing(*c));

  ASSERT_TRUE(wait_until([&] { return session.saw_in_order(zk::SessionState::expired, zk::SessionState::connected); },
                         20s))
      << "states seen: " << session.states().size();
  ASSERT_TRUE(watch.wait_events(1));
  EXPECT_EQ(watch.events().front(), std::make_pair(zk::WatchEventType::session_lost, std::string("/watched")));
  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connected; }, 10s));
  EXPECT_NE(c->session_id(), old_session);
  auto owned = c->exists("/owned");
  ASSERT_TRUE(owned) << owned.error().message;
  EXPECT_FALSE(owned->has_value());  // ephemerals died with the session
  EXPECT_TRUE(c->create("/owned", "", zk::CreateMode::ephemeral));  // usable again
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(watch.events().size(), 1u);
}

class ZkClientLongSessionTest : public ZkClientTest {
 protected:
  static ZooKeeperServerOptions server_options() {
    ZooKeeperServerOptions o;
    o.max_session_timeout = 20000ms;
    return o;
  }
  ZkClientLongSessionTest() : ZkClientTest(server_options()) {}
};

TEST_F(ZkClientTest, PausedServerFailsCallsRetryablyUntilResumed) {
  auto opts = options();
  opts.session_timeout = 1000ms;
  auto c = connect(opts);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->create("/p", "before"));

  server_.pause();  // no answers: the client disconnects
  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connecting; }, 10s));
  auto during = c->get("/p");
  ASSERT_FALSE(during);
  EXPECT_TRUE(during.error().is_retryable()) << during.error().message;
  server_.resume();

  // Same session or (if it timed out meanwhile) a new one: either way usable.
  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connected && c->get("/p").has_value(); }, 20s));
  EXPECT_EQ(c->get("/p")->data, "before");
}

class ZkClientNetworkTest : public ZkClientTest {
 protected:
  static ZooKeeperServerOptions server_options() {
    ZooKeeperServerOptions o;
    o.network_control = true;
    return o;
  }
  ZkClientNetworkTest() : ZkClientTest(server_options()) {}
};

TEST_F(ZkClientNetworkTest, PartitionBeyondSessionTimeoutExpiresTheSession) {
  auto opts = options();
  opts.session_timeout = 1000ms;
  auto c = connect(opts);
  ASSERT_TRUE(c);
  Recorder session, watch;
  c->set_session_listener(session.listener());
  ASSERT_TRUE(c->create("/eph", "", zk::CreateMode::ephemeral));
  ASSERT_TRUE(c->exists("/eph", watch.watcher()));
  const auto old_session = c->session_id();

  server_.drop_network();
  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connecting; }, 10s));
  EXPECT_TRUE(c->get("/eph").error().is_retryable());
  // The server, still running, expires the session after 1s without the client.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto dump = server_.four_letter("dump");
        return !dump.empty() && dump.find("/eph") == std::string::npos;
      },
      20s, 100ms));
  server_.restore_network();

  ASSERT_TRUE(wait_until([&] { return session.saw_in_order(zk::SessionState::expired, zk::SessionState::connected); },
                         20s));
  ASSERT_TRUE(watch.wait_events(1));
  EXPECT_EQ(watch.events().front(), std::make_pair(zk::WatchEventType::session_lost, std::string("/eph")));
  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connected; }, 10s));
  EXPECT_NE(c->session_id(), old_session);
  auto eph = c->exists("/eph");
  ASSERT_TRUE(eph) << eph.error().message;
  EXPECT_FALSE(eph->has_value());
}

TEST_F(ZkClientNetworkTest, ShortPartitionKeepsTheSession) {
  auto c = connect();  // 4s session
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->create("/eph", "", zk::CreateMode::ephemeral));
  const auto id = c->session_id();
  server_.drop_network();
  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connecting; }, 10s));
  server_.restore_network();
  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connected; }, 10s));
  EXPECT_EQ(c->session_id(), id);
  EXPECT_TRUE(c->exists("/eph")->has_value());
}

TEST_F(ZkClientLongSessionTest, ServerRestartKeepsTheSession) {
  auto opts = options();
  opts.session_timeout = 15000ms;
  auto c = connect(opts);
  ASSERT_TRUE(c);
  Recorder session, watch;
  c->set_session_listener(session.listener());
  ASSERT_TRUE(c->create("/eph", "", zk::CreateMode::ephemeral));
  ASSERT_TRUE(c->create("/data", "before"));
  ASSERT_TRUE(c->get("/data", watch.watcher()));
  const auto id = c->session_id();

  server_.stop();
  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connecting; }, 10s));
  EXPECT_EQ(c->get("/data").error().kind, ErrorKind::unavailable);
  server_.start();

  ASSERT_TRUE(wait_until([&] { return c->state() == zk::SessionState::connected; }, 20s));
  EXPECT_TRUE(session.saw_in_order(zk::SessionState::connecting, zk::SessionState::connected));
  const auto states = session.states();
  EXPECT_EQ(std::count(states.begin(), states.end(), zk::SessionState::expired), 0);
  EXPECT_EQ(c->session_id(), id);
  EXPECT_TRUE(c->exists("/eph")->has_value());
  // The library re-registered the watch on the new connection.
  ASSERT_TRUE(c->set("/data", "after"));
  ASSERT_TRUE(watch.wait_events(1));
  EXPECT_EQ(watch.events().front().first, zk::WatchEventType::changed);
}

TEST_F(ZkClientTest, DigestProtectsNodesFromOtherClients) {
  auto alice_opts = options();
  alice_opts.digest = "alice:secret";
  auto alice = connect(alice_opts);
  ASSERT_TRUE(alice);
  ASSERT_TRUE(alice->create("/secure", "mine"));
  ASSERT_TRUE(alice->create("/secure/child", ""));

  auto anonymous = connect();
  ASSERT_TRUE(anonymous);
  auto write = anonymous->set("/secure", "theirs");
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous->get("/secure").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous->children("/secure").error().kind, ErrorKind::unauthorized);
  // Deleting needs the parent's permission: /secure protects its children.
  EXPECT_EQ(anonymous->remove("/secure/child").error().kind, ErrorKind::unauthorized);

  auto mallory_opts = options();
  mallory_opts.digest = "alice:wrong";
  auto mallory = connect(mallory_opts);
  ASSERT_TRUE(mallory);
  EXPECT_EQ(mallory->set("/secure", "theirs").error().kind, ErrorKind::unauthorized);

  auto alice_again = connect(alice_opts);
  ASSERT_TRUE(alice_again);
  ASSERT_TRUE(alice_again->set("/secure", "still mine"));
  EXPECT_EQ(alice->get("/secure")->data, "still mine");
}

TEST_F(ZkClientTest, AclListGrantsOtherIdentitiesAccessAndNobodyElse) {
  // alice creates; bob is granted every permission, dave only reading.
  auto alice_opts = options();
  alice_opts.digest = "alice:secret";
  alice_opts.acl = {{"digest", zk::digest_id("bob:hunter2"), zk::acl_all},
                    {"digest", zk::digest_id("dave:pw"), zk::acl_read}};
  auto alice = connect(alice_opts);
  ASSERT_TRUE(alice);
  ASSERT_TRUE(alice->ensure_path("/shared/topologies"));
  ASSERT_TRUE(alice->create("/shared/topologies/t", "v1"));

  auto bob_opts = options();
  bob_opts.digest = "bob:hunter2";
  auto bob = connect(bob_opts);
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->get("/shared/topologies/t")->data, "v1");
  ASSERT_TRUE(bob->set("/shared/topologies/t", "v2"));
  ASSERT_TRUE(bob->create("/shared/topologies/u", ""));  // creating below needs c on the folder
  // bob's own node carries only bob's creator ACL: alice cannot read it.
  EXPECT_EQ(alice->get("/shared/topologies/u").error().kind, ErrorKind::unauthorized);
  ASSERT_TRUE(bob->remove("/shared/topologies/u"));

  auto dave_opts = options();
  dave_opts.digest = "dave:pw";
  auto dave = connect(dave_opts);
  ASSERT_TRUE(dave);
  EXPECT_EQ(dave->get("/shared/topologies/t")->data, "v2");
  EXPECT_EQ(dave->set("/shared/topologies/t", "v3").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(dave->remove("/shared/topologies/t").error().kind, ErrorKind::unauthorized);

  auto carol_opts = options();
  carol_opts.digest = "carol:pw";
  auto carol = connect(carol_opts);
  ASSERT_TRUE(carol);
  EXPECT_EQ(carol->get("/shared/topologies/t").error().kind, ErrorKind::unauthorized);
  auto anonymous = connect();
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->get("/shared/topologies/t").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous->children("/shared").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous->create("/shared/topologies/x", "").error().kind, ErrorKind::unauthorized);
  // multi() uses the same ACL.
  ASSERT_TRUE(alice->multi({zk::CreateOp{"/shared/topologies/m", "m"}}));
  EXPECT_EQ(bob->get("/shared/topologies/m")->data, "m");
  EXPECT_EQ(carol->get("/shared/topologies/m").error().kind, ErrorKind::unauthorized);
}

TEST_F(ZkClientTest, DigestIsAddedAgainAfterExpiry) {
  auto opts = options();
  opts.digest = "alice:secret";
  auto c = connect(opts);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->create("/secure", "v1"));
  Recorder session;
  c->set_session_listener(session.listener());
  ASSERT_TRUE(zk::expire_session_for_testing(*c));
  ASSERT_TRUE(wait_until([&] { return session.saw_in_order(zk::SessionState::expired, zk::SessionState::connected); },
                         20s));
  auto write = c->set("/secure", "v2");
  EXPECT_TRUE(write) << write.error().message;
}

TEST(ZkClientConnect, NothingListeningIsUnavailableAfterTimeout) {
  zk::ZkOptions o;
  o.connect = "127.0.0.1:" + std::to_string(hmc::testing::free_port());
  o.connect_timeout = 1500ms;
  o.session_timeout = 2000ms;
  auto c = zk::connect(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::unavailable);
  EXPECT_NE(c.error().message.find(o.connect), std::string::npos);
}

TEST(ZkClientConnect, BadOptionsAreInvalid) {
  zk::ZkOptions o;
  EXPECT_EQ(zk::connect(o).error().kind, ErrorKind::invalid);
  o.connect = "127.0.0.1:1";
  o.digest = "no-colon";
  auto bad_digest = zk::connect(o);
  ASSERT_FALSE(bad_digest);
  EXPECT_EQ(bad_digest.error().kind, ErrorKind::invalid);
  EXPECT_EQ(bad_digest.error().message.find("no-colon"), std::string::npos);  // credentials stay secret
  o.digest.clear();
  o.acl = {{"world", "anyone", zk::acl_read}};
  auto acl_without_digest = zk::connect(o);
  ASSERT_FALSE(acl_without_digest);
  EXPECT_EQ(acl_without_digest.error().kind, ErrorKind::invalid);
  EXPECT_NE(acl_without_digest.error().message.find("needs digest credentials"), std::string::npos);
  o.acl.clear();
  o.session_timeout = 0ms;
  EXPECT_EQ(zk::connect(o).error().kind, ErrorKind::invalid);
}

}  // namespace
