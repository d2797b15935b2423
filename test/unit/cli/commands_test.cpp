// heron-marathon's commands in process, against the in-memory FakeZooKeeper:
// the paths a real server rarely takes on demand (write conflicts, lost
// connections, refused credentials) and --wait with time under the test's control.

#include "cli_fixture.hpp"
#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/status.hpp"

#include <gtest/gtest.h>

namespace {

namespace rc = hmc::reconciler;
using hmc::testing::FakeZkOp;

const char* kSpec = R"(name: word-count
cluster: local
role: heron
containers: 2
package: "http://repo.local/word-count.tar.gz"
)";

using hmc::testing::contains;

class Commands : public hmc::testing::InProcessCli {
 protected:
  int submit() { return run({"submit", "-"}, kSpec); }
  std::string state() {
    auto t = rc::parse_desired(zk_.data("/heron-marathon/topologies/word-count").value_or(""));
    return t ? rc::to_string(t->state) : "invalid";
  }
  void write_status(rc::Phase phase, std::int64_t generation, int running, int total) {
    rc::TopologyStatus s;
    s.name = "word-count";
    s.observed_generation = generation;
    s.phase = phase;
    s.running_containers = running;
    s.total_containers = total;
    auto c = zk_.client();
    ASSERT_TRUE(c->ensure_path("/heron-marathon/status"));
    ASSERT_TRUE(c->ensure_path("/heron-marathon/status/word-count"));
    ASSERT_TRUE(c->set("/heron-marathon/status/word-count", rc::to_json(s)));
  }
};

TEST_F(Commands, StateFlipsMergeAgainAfterAConcurrentChange) {
  ASSERT_EQ(submit(), 0) << err_.str();
  zk_.inject_failure({FakeZkOp::set, "", hmc::ErrorKind::conflict, 2});
  EXPECT_EQ(run({"suspend", "word-count"}), 0) << err_.str();
  EXPECT_EQ(state(), "suspended");
  EXPECT_EQ(zk_.call_count(FakeZkOp::set), 3u);
}

TEST_F(Commands, StateFlipsGiveUpWhenTheSpecKeepsChanging) {
  ASSERT_EQ(submit(), 0) << err_.str();
  zk_.inject_failure({FakeZkOp::set, "", hmc::ErrorKind::conflict, -1});
  EXPECT_EQ(run({"kill", "word-count"}), 1);
  EXPECT_TRUE(contains(err_.str(), "kept changing; gave up after 5 attempts")) << err_.str();
  zk_.clear_failures();
  EXPECT_EQ(state(), "running");
}

TEST_F(Commands, UpdateIsNeverRetried) {
  ASSERT_EQ(submit(), 0) << err_.str();
  zk_.inject_failure({FakeZkOp::set, "", hmc::ErrorKind::conflict, 1});
  std::string three = kSpec;
  three.replace(three.find("containers: 2"), 13, "containers: 3");
  EXPECT_EQ(run({"update", "-"}, three), 1);
  EXPECT_TRUE(contains(err_.str(), "the spec of 'word-count' changed since it was read")) << err_.str();
  EXPECT_EQ(zk_.call_count(FakeZkOp::set), 1u);
}

TEST_F(Commands, RefusedCredentialsAndLostConnectionsExitThree) {
  ASSERT_EQ(submit(), 0) << err_.str();
  zk_.inject_failure({FakeZkOp::get, "", hmc::ErrorKind::unauthorized, 1});
  EXPECT_EQ(run({"status", "word-count"}), 3);
  EXPECT_TRUE(contains(err_.str(), "not authorised")) << err_.str();
  zk_.inject_failure({FakeZkOp::set, "", hmc::ErrorKind::unavailable, 1});
  EXPECT_EQ(run({"suspend", "word-count"}), 3);
  EXPECT_TRUE(contains(err_.str(), "unreachable")) << err_.str();
  zk_.set_reachable(false);
  EXPECT_EQ(run({"list"}), 3);
  EXPECT_TRUE(contains(err_.str(), "cannot reach ZooKeeper at 127.0.0.1:2181")) << err_.str();
}

TEST_F(Commands, WaitPrintsAProgressLinePerChangeUntilRunning) {
  on_sleep_ = {
      [&] { write_status(rc::Phase::Pending, 0, 0, 3); },
      [&] { write_status(rc::Phase::Deploying, 0, 1, 3); },
      [] {},  // no change: no line
      [&] { write_status(rc::Phase::Running, 0, 3, 3); },
  };
  ASSERT_EQ(run({"submit", "-", "--wait"}, kSpec), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "topology 'word-count' submitted (/heron-marathon/topologies/word-count, version 0)\n"
            "word-count: waiting for the controller to act on version 0\n"
            "word-count: Pending 0/3 containers\n"
            "word-count: Deploying 1/3 containers\n"
            "word-count: Running 3/3 containers\n");
}

TEST_F(Commands, WaitForSuspendNeedsTheNewGeneration) {
  ASSERT_EQ(submit(), 0);
  write_status(rc::Phase::Suspended, 0, 0, 3);  // of the old generation: not an answer
  on_sleep_ = {[] {}, [&] { write_status(rc::Phase::Suspended, 1, 0, 3); }};
  ASSERT_EQ(run({"suspend", "word-count", "--wait"}), 0) << err_.str();
  EXPECT_EQ(sleeps_, 2);
}

TEST_F(Commands, EveryProblemOfASpecIsNamed) {
  EXPECT_EQ(run({"submit", "-"}, "name: Bad_Name\ncluster: local\nrole: heron\npackage: nope\n"
                                  "resources: {cpus: -1}\nreplicas: 2\n"),
            2);
  const auto err = err_.str();
  for (const char* field : {"/name:", "/package:", "/resources/cpus:", "/replicas:"})
    EXPECT_TRUE(contains(err, field)) << field << "\n" << err;
  EXPECT_TRUE(zk_.paths().empty()) << "nothing is written, not even the parents";
}

}  // namespace
