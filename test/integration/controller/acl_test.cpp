// Digest ACLs end to end: the CLI and the controller run as different
// ZooKeeper users and grant each other access; nobody else can read or change
// the desired, status or election nodes. Real ZooKeeper, marathon-sim and
// binaries.

#include "rig.hpp"

#include "hmc/testing/process.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using hmc::ErrorKind;
using hmc::reconciler::Phase;
using hmc::testing::ControllerRig;
using hmc::testing::RigOptions;
using hmc::testing::wait_until;
using hmc::testing::write_file;
namespace zk = hmc::zk;

namespace {

constexpr const char* kCli = "alice:cli-secret";
constexpr const char* kController = "ctl:controller-secret";

RigOptions without_controller() {
  RigOptions o;
  o.start_controller = false;
  return o;
}

struct AclRig {
  ControllerRig rig{without_controller()};
  std::string cli_auth = rig.tmp() + "/cli.auth";
  std::string controller_auth = rig.tmp() + "/controller.auth";
  // Each side grants the other every permission.
  std::string cli_acl = "digest:" + zk::digest_id(kController) + ":rwcda";
  std::string controller_acl = "digest:" + zk::digest_id(kCli) + ":rwcda";

  AclRig() {
    write_file(cli_auth, std::string(kCli) + "\n");
    write_file(controller_auth, std::string(kController) + "\n");
  }
  void start_controller() {
    rig.start_controller({"--zk-auth-file", controller_auth, "--zk-acl", controller_acl});
  }
  hmc::testing::CommandResult cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--zk-auth-file", cli_auth, "--zk-acl", cli_acl});
    return rig.cli(std::move(args));
  }
  // A client with the CLI's credentials, to read what the controller wrote.
  std::unique_ptr<zk::ZkClient> as_cli() {
    zk::ZkOptions o;
    o.connect = rig.zookeeper().connect_string();
    o.connect_timeout = 20s;
    o.digest = kCli;
    auto c = zk::connect(o);
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
  }
};

std::optional<hmc::reconciler::TopologyStatus> read_status(zk::ZkClient& c, const std::string& name) {
  auto n = c.get("/heron-marathon/status/" + name);
  if (!n) return std::nullopt;
  return hmc::reconciler::parse_status(n->data);
}

}  // namespace

TEST(ZooKeeperAcl, CliAndControllerAsDifferentUsersWorkAndOthersAreLockedOut) {
  AclRig a;
  a.start_controller();
  ASSERT_TRUE(a.rig.wait_ready()) << a.rig.controller_log();
  auto r = a.cli({"submit", a.rig.spec_file("word-count", 2)});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  auto alice = a.as_cli();
  ASSERT_TRUE(alice);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = read_status(*alice, "word-count");
        return s && s->phase == Phase::Running;
      },
      60s))
      << a.rig.controller_log();
  EXPECT_EQ(a.rig.running_tasks("word-count"), 3);
  r = a.cli({"status", "word-count"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Running"), std::string::npos) << r.out;

  // The rig's own client has no credentials: the status, desired and
  // election nodes (and their folders) are closed to it.
  auto& anonymous = a.rig.zk();
  const std::string status = "/heron-marathon/status/word-count";
  EXPECT_EQ(anonymous.get(status).error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous.set(status, "{}").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous.remove(status).error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous.children("/heron-marathon/status").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous.get("/heron-marathon/topologies/word-count").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous.children("/heron-marathon/election").error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(anonymous.create("/heron-marathon/election/n_", "").error().kind, ErrorKind::unauthorized);
  // The CLI without credentials: exit 3 with a clear message.
  r = a.rig.cli({"status", "word-count"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("not authorised"), std::string::npos) << r.err;

  // A kill: the controller (as ctl) deletes the desired node alice wrote.
  r = a.cli({"kill", "word-count"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(wait_until(
      [&] { return alice->get("/heron-marathon/topologies/word-count").error().kind == ErrorKind::not_found; }, 60s))
      << a.rig.controller_log();
  EXPECT_FALSE(a.rig.group("word-count").has_value());
  EXPECT_FALSE(read_status(*alice, "word-count").has_value());
}

TEST(ZooKeeperAcl, AControllerWithOtherCredentialsStopsWithAClearError) {
  AclRig a;
  a.start_controller();
  ASSERT_TRUE(a.rig.wait_ready()) << a.rig.controller_log();
  ASSERT_EQ(a.cli({"submit", a.rig.spec_file("word-count", 1)}).exit_code, 0);
  // Same user name, wrong password: ZooKeeper accepts the digest but it
  // matches no ACL entry.
  const std::string wrong = a.rig.tmp() + "/wrong.auth";
  write_file(wrong, "ctl:guess\n");
  a.rig.start_controller({"--zk-auth-file", wrong});
  EXPECT_EQ(a.rig.controller().wait(60s), 1);
  const auto log = a.rig.controller_log();
  EXPECT_NE(log.find("cannot start"), std::string::npos) << log;
  EXPECT_NE(log.find("ZooKeeper refused access"), std::string::npos) << log;
  EXPECT_EQ(log.find("guess"), std::string::npos) << "credentials are never logged";
}

TEST(ZooKeeperAcl, BadAclSettingsAreUsageErrors) {
  AclRig a;
  a.rig.start_controller({"--zk-acl", a.controller_acl});  // no credentials
  EXPECT_EQ(a.rig.controller().wait(60s), 2);
  EXPECT_NE(a.rig.controller_log().find("--zk-acl needs --zk-auth-file"), std::string::npos) << a.rig.controller_log();
  a.rig.start_controller({"--zk-auth-file", a.controller_auth, "--zk-acl", "digest:alice:not-a-hash:rwcda"});
  EXPECT_EQ(a.rig.controller().wait(60s), 2);
  EXPECT_NE(a.rig.controller_log().find("base64"), std::string::npos) << a.rig.controller_log();
}
