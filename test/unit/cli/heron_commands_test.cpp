// submit, update, diff, list and describe with a Heron topology definition
// (--topology-defn), in process against the in-memory FakeZooKeeper.

#include "cli_fixture.hpp"
#include "hmc/common/base64.hpp"
#include "hmc/heron_state/heron_state.hpp"
#include "hmc/reconciler/desired.hpp"
#include "hmc/testing/process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

namespace rc = hmc::reconciler;
namespace hs = hmc::heron_state;

const std::string kNode = "/heron-marathon/topologies/word-count";
const char* kSpec = R"(name: word-count
cluster: local
role: heron
package: "http://repo.local/word-count.tar.gz"
)";

using hmc::testing::contains;

hs::HeronTopology word_count(int stmgrs = 2, const std::string& id = "word-count-1f2e") {
  hs::HeronTopology t;
  t.id = id;
  t.name = "word-count";
  t.components = {{"sentence", 4, true}, {"count", 3, false}};
  t.config["topology.stmgrs"] = std::to_string(stmgrs);
  return t;
}

class HeronCommands : public hmc::testing::InProcessCli {
 protected:
  HeronCommands() : InProcessCli(kSpec, {{"LOGNAME", "alice"}}) {}
  std::string defn_file(const hs::HeronTopology& t, const std::string& file = "word-count.defn") {
    const std::string path = dir_.path() + "/" + file;
    hmc::testing::write_file(path, hs::encode_topology(t));
    return path;
  }
  rc::DesiredTopology node() {
    auto t = rc::parse_desired(zk_.data(kNode).value_or(""));
    EXPECT_TRUE(t) << (t ? "" : t.error().to_string());
    return t ? *t : rc::DesiredTopology{};
  }

  hmc::testing::TempDir dir_;
};

TEST_F(HeronCommands, SubmitWritesTheDefinitionTheUserAndNoSizes) {
  const auto defn = defn_file(word_count());
  ASSERT_EQ(run({"submit", "-", "--topology-defn", defn}), 0) << err_.str();
  EXPECT_TRUE(contains(out_.str(), "topology definition " + defn +
                                       ": 'word-count' (id word-count-1f2e), 2 components, 7 instances, 2 containers "
                                       "of cpus 5, mem 6144 MB, disk 16384 MB"))
      << out_.str();
  const auto t = node();
  EXPECT_EQ(hmc::base64_decode(t.topology_defn), hs::encode_topology(word_count()));
  EXPECT_EQ(t.topology_id, "word-count-1f2e");
  EXPECT_EQ(t.submission_user, "alice");
  EXPECT_FALSE(t.containers_set);
  EXPECT_FALSE(t.resources_set);
  const auto raw = boost::json::parse(*zk_.data(kNode)).as_object();
  EXPECT_FALSE(raw.contains("containers"));
  EXPECT_FALSE(raw.contains("resources"));
}

TEST_F(HeronCommands, TheSubmittingUserComesFromTheEnvironmentInGetpassOrder) {
  env_ = {{"USER", "bob"}, {"USERNAME", "carol"}};
  ASSERT_EQ(run({"submit", "-"}), 0) << err_.str();
  EXPECT_EQ(node().submission_user, "bob");

  ASSERT_TRUE(zk_.client()->remove(kNode));
  ASSERT_EQ(run({"submit", "-"}, std::string(kSpec) + "submissionUser: dave\n"), 0) << err_.str();
  EXPECT_EQ(node().submission_user, "dave") << "the spec's own wins";

  ASSERT_TRUE(zk_.client()->remove(kNode));
  env_ = {{"LOGNAME", "DOMAIN\\eve"}};
  ASSERT_EQ(run({"submit", "-"}), 0) << err_.str();
  EXPECT_TRUE(node().submission_user.empty());
  EXPECT_TRUE(contains(err_.str(), "note: the submitting user 'DOMAIN\\eve' is left out of submissionUser"))
      << err_.str();
}

TEST_F(HeronCommands, EveryDisagreementIsNamedAndNothingIsWritten) {
  hs::HeronTopology other = word_count();
  other.name = "other";
  const auto defn = defn_file(other);
  EXPECT_EQ(run({"submit", "-", "--topology-defn", defn},
                std::string(kSpec) + "containers: 3\nresources: {cpus: 1, mem: 8192, disk: 20000}\n"
                                     "topologyId: word-count-0\n"),
            2);
  const auto err = err_.str();
  EXPECT_TRUE(contains(err, "error: " + defn + " defines topology 'other', but <stdin> names 'word-count'")) << err;
  EXPECT_TRUE(contains(err, "error: <stdin> sets topologyId 'word-count-0', but " + defn + " has id 'word-count-1f2e'"))
      << err;
  EXPECT_TRUE(contains(err, "error: <stdin> sets containers 3, but Heron's packing plan (RoundRobinPacking) of " +
                                defn + " has 2 (topology.stmgrs); leave containers out or set topology.stmgrs to 3"))
      << err;
  EXPECT_TRUE(contains(err, "error: <stdin> sets resources.cpus 1, less than the 5 the largest container")) << err;
  EXPECT_FALSE(contains(err, "resources.mem")) << err;
  EXPECT_FALSE(contains(err, "resources.disk")) << err;
  EXPECT_TRUE(zk_.paths().empty()) << "nothing is written, not even the parents";

  hmc::testing::write_file(defn, "\x0a\x01x");  // id only: the required name and state are missing
  EXPECT_EQ(run({"submit", "-", "--topology-defn", defn}), 2);
  EXPECT_TRUE(contains(err_.str(), defn + ": not a valid Heron topology definition: "
                                          "heron.proto.api.Topology without its required fields: name, state"))
      << err_.str();
  other.name = "";
  EXPECT_EQ(run({"submit", "-", "--topology-defn", defn_file(other)}), 2);
  EXPECT_TRUE(contains(err_.str(), defn + ": not a valid Heron topology definition: topology name is empty"))
      << err_.str();

  hs::HeronTopology unpackable = word_count(8);  // more containers than its 7 instances
  EXPECT_EQ(run({"submit", "-", "--topology-defn", defn_file(unpackable)}), 2);
  EXPECT_TRUE(contains(err_.str(), "Heron's packing plan (RoundRobinPacking) refuses it: ")) << err_.str();
  EXPECT_TRUE(zk_.paths().empty());
}

TEST_F(HeronCommands, MatchingOverridesAreKept) {
  ASSERT_EQ(run({"submit", "-", "--topology-defn", defn_file(word_count())},
                std::string(kSpec) + "containers: 2\nresources: {cpus: 6, mem: 8192, disk: 16384}\n"),
            0)
      << err_.str();
  const auto t = node();
  EXPECT_TRUE(t.containers_set);
  EXPECT_TRUE(t.resources_set);
  EXPECT_EQ(t.containers, 2);
  EXPECT_EQ(t.resources.cpus, 6.0);
}

TEST_F(HeronCommands, UpdateAndDiffKeepTheDefinitionUnlessGivenANewOne) {
  ASSERT_EQ(run({"submit", "-", "--topology-defn", defn_file(word_count())}), 0) << err_.str();
  const auto first = node();
  env_ = {{"LOGNAME", "mallory"}};
  EXPECT_EQ(run({"diff", "-"}), 0) << out_.str() << err_.str();
  ASSERT_EQ(run({"update", "-"}, std::string(kSpec) + "labels: {team: data}\n"), 0) << err_.str();
  auto t = node();
  EXPECT_EQ(t.topology_defn, first.topology_defn);
  EXPECT_EQ(t.topology_id, "word-count-1f2e");
  EXPECT_EQ(t.submission_user, "alice") << "update keeps who submitted";
  EXPECT_FALSE(t.containers_set);

  // A spec override that disagrees with the kept definition is refused.
  EXPECT_EQ(run({"update", "-"}, std::string(kSpec) + "containers: 5\n"), 2);
  EXPECT_TRUE(contains(err_.str(), "sets containers 5, but Heron's packing plan (RoundRobinPacking) of the "
                                   "topologyDefn of " + kNode + " (version 1) has 2"))
      << err_.str();

  const auto three = defn_file(word_count(3, "word-count-2a3b"), "v2.defn");
  EXPECT_EQ(run({"diff", "-", "--topology-defn", three}), 1);
  EXPECT_TRUE(contains(out_.str(), "-  \"topologyId\": \"word-count-1f2e\"")) << out_.str();
  ASSERT_EQ(run({"update", "-", "--topology-defn", three}), 0) << err_.str();
  EXPECT_TRUE(contains(out_.str(), "3 containers")) << out_.str();
  t = node();
  EXPECT_EQ(t.topology_id, "word-count-2a3b");
  EXPECT_EQ(hmc::base64_decode(t.topology_defn), hs::encode_topology(word_count(3, "word-count-2a3b")));
  ASSERT_EQ(run({"list"}), 0);
  EXPECT_TRUE(contains(out_.str(), "word-count   running   3")) << out_.str();
}

TEST_F(HeronCommands, DescribeShowsComponentsAndThePlanPerContainer) {
  ASSERT_EQ(run({"submit", "-", "--topology-defn", defn_file(word_count())}), 0) << err_.str();
  ASSERT_EQ(run({"describe", "word-count"}), 0) << err_.str();
  const auto text = out_.str();
  for (const char* line : {"Containers:     2 (+1 TManager), each cpus 5, mem 6144 MB, disk 16384 MB\n",
                           "Submitted by:   alice\n",
                           "Heron topology: word-count (id word-count-1f2e), topologyDefn of ",
                           "Components:     2, 7 instances\n",
                           "  NAME       KIND    PARALLELISM\n",
                           "  sentence   spout   4\n",
                           "  count      bolt    3\n",
                           "Packing plan:   2 containers (RoundRobinPacking; +1 TManager)",
                           "  Container 1: cpus 5, mem 6144 MB, disk 16384 MB\n",
                           "    count      tasks 1, 3\n",
                           "    sentence   tasks 5, 7\n",
                           "  Container 2: ",
                           "    count      task 2\n",
                           "    sentence   tasks 4, 6\n",
                           "  topologyDefn: <220 characters of base64>\n"})
    EXPECT_TRUE(contains(text, line)) << line << "\n" << text;

  ASSERT_EQ(run({"describe", "word-count", "-o", "json"}), 0) << err_.str();
  const auto v = boost::json::parse(out_.str()).as_object();
  const auto& heron = v.at("heron").as_object();
  EXPECT_EQ(heron.at("topologyId").as_string(), "word-count-1f2e");
  EXPECT_EQ(heron.at("components").as_array().size(), 2u);
  const auto& containers = heron.at("packingPlan").at("containers").as_array();
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0].at("instances").as_array().size(), 4u);
  EXPECT_EQ(containers[1].at("instances").as_array().size(), 3u);
  EXPECT_EQ(containers[0].at("required").at("ramBytes").as_int64(), 6LL << 30);
  EXPECT_FALSE(v.at("spec").as_object().at("topologyDefn").as_string().empty()) << "json keeps the bytes";
}

TEST_F(HeronCommands, WithoutADefinitionDescribeIsAsBefore) {
  ASSERT_EQ(run({"submit", "-"}), 0) << err_.str();
  ASSERT_EQ(run({"describe", "word-count"}), 0) << err_.str();
  EXPECT_FALSE(contains(out_.str(), "Heron topology")) << out_.str();
  ASSERT_EQ(run({"describe", "word-count", "-o", "yaml"}), 0) << err_.str();
  EXPECT_FALSE(contains(out_.str(), "heron:")) << out_.str();
}

TEST_F(HeronCommands, FlagsAreCheckedBeforeConnecting) {
  EXPECT_EQ(run({"submit", "-", "--topology-defn", "a.defn", "--topology-package", "a.tar.gz"}), 2);
  EXPECT_TRUE(contains(err_.str(), "--topology-package and --topology-defn exclude each other")) << err_.str();
  EXPECT_EQ(run({"kill", "word-count", "--topology-defn", "a.defn"}), 2);
  EXPECT_TRUE(contains(err_.str(), "'kill' takes no --topology-defn flag")) << err_.str();
  const std::string inline_defn = std::string(kSpec) + "topologyDefn: " +
                                  hmc::base64_encode(hs::encode_topology(word_count())) + "\n";
  EXPECT_EQ(run({"submit", "-", "--topology-defn", defn_file(word_count())}, inline_defn), 2);
  EXPECT_TRUE(contains(err_.str(), "<stdin> already has a topologyDefn")) << err_.str();
  EXPECT_TRUE(zk_.paths().empty());
  EXPECT_EQ(zk_.call_count(hmc::testing::FakeZkOp::get), 0u);
}

// restart --container N: with a topologyDefn and no containers override the
// containers are the packing plan's (topology.stmgrs), not the default 1.
struct RestartBoundCase {
  const char* name;
  int stmgrs;
  std::string extra_spec;  // appended to kSpec
};

TEST_F(HeronCommands, RestartOfAContainerIsBoundedByThePackingPlan) {
  const std::vector<RestartBoundCase> cases = {
      {"plan of 3, no override", 3, ""},
      {"plan of 3, override of 3", 3, "containers: 3\n"},
      {"plan of 1, no override", 1, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(!zk_.data(kNode) || zk_.client()->remove(kNode));  // each case submits afresh
    ASSERT_EQ(run({"submit", "-", "--topology-defn", defn_file(word_count(c.stmgrs))}, kSpec + c.extra_spec), 0)
        << err_.str();
    for (int index = 0; index <= c.stmgrs; ++index) {
      ASSERT_EQ(run({"restart", "word-count", "--container", std::to_string(index)}), 0) << index << ": " << err_.str();
      EXPECT_TRUE(contains(out_.str(), "restart of container " + std::to_string(index) + " requested")) << out_.str();
      EXPECT_EQ(node().restart.containers.at(index), 1) << index;
    }
    const auto before = zk_.data(kNode);
    const std::string over = std::to_string(c.stmgrs + 1);
    EXPECT_EQ(run({"restart", "word-count", "--container", over}), 1);
    EXPECT_TRUE(contains(err_.str(), "topology 'word-count' has no container " + over +
                                         ": its containers are 0 (the TManager) to " + std::to_string(c.stmgrs)))
        << err_.str();
    EXPECT_EQ(zk_.data(kNode), before) << "nothing written";
  }
}

TEST_F(HeronCommands, RestartOfAContainerBesideAnUnpackableDefinitionIsRefused) {
  ASSERT_EQ(run({"submit", "-", "--topology-defn", defn_file(word_count())}), 0) << err_.str();
  auto t = node();
  t.topology_defn = "CgF4";  // base64 of a Topology with only an id: no name, nothing to pack
  ASSERT_TRUE(zk_.client()->set(kNode, rc::to_json(t)));
  const auto before = zk_.data(kNode);
  EXPECT_EQ(run({"restart", "word-count", "--container", "1"}), 1);
  EXPECT_TRUE(contains(err_.str(), "topology 'word-count': its topologyDefn has no packing plan to count the "
                                   "containers by (")) << err_.str();
  EXPECT_TRUE(contains(err_.str(), "fix it with update before restarting a container")) << err_.str();
  EXPECT_EQ(zk_.data(kNode), before) << "nothing written";
}

TEST_F(HeronCommands, RestartWithoutADefinitionIsBoundedByContainers) {
  ASSERT_EQ(run({"submit", "-"}), 0) << err_.str();  // containers defaults to 1
  ASSERT_EQ(run({"restart", "word-count", "--container", "1"}), 0) << err_.str();
  EXPECT_EQ(run({"restart", "word-count", "--container", "2"}), 1);
  EXPECT_TRUE(contains(err_.str(), "has no container 2: its containers are 0 (the TManager) to 1")) << err_.str();
  EXPECT_EQ(node().restart.containers.count(2), 0u);
}

}  // namespace
