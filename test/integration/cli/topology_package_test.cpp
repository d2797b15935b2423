// heron-marathon submit/update/describe with real Heron topology packages,
// the real binary against a real ZooKeeper server. Packages are built here:
// the .defn by Heron's own wire format (`protoc --encode heron.proto.api.Topology`
// of test/vectors/heron_state/word-count.topology.txt), a jar, `tar czf`;
// what reaches the desired node is read back with `protoc --decode`.

#include "hmc/common/base64.hpp"
#include "hmc/reconciler/desired.hpp"
#include "hmc/testing/process.hpp"
#include "hmc/testing/zookeeper_server.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <set>

namespace {

using hmc::testing::CommandResult;
using hmc::testing::run_command;
namespace rc = hmc::reconciler;
using namespace std::chrono_literals;

const std::string kBinary = HMC_BINARY_DIR "/cli/heron-marathon";
const std::string kProtoDir = HMC_SOURCE_DIR "/adapters/heron_state/proto";
const std::string kVector = HMC_SOURCE_DIR "/test/vectors/heron_state/word-count.topology.txt";

const char* kSpec = R"(name: word-count
cluster: local
role: heron
image: "heron/heron:0.20.5-incubating"
package: "https://artifacts.example.org/heron/word-count.tar.gz"
)";

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string protoc(const std::string& mode, const std::string& input) {
  auto r = run_command({"protoc", mode, "heron.proto.api.Topology", "-I", kProtoDir, "topology.proto"}, input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

class TopologyPackageCli : public ::testing::Test {
 protected:
  void SetUp() override {
    connect_ = hmc::testing::shared_zookeeper().connect_string();
    root_ = std::string("/cli-pkg-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    hmc::zk::ZkOptions o;
    o.connect = connect_;
    o.connect_timeout = 20s;
    auto c = hmc::zk::connect(o);
    ASSERT_TRUE(c) << c.error().message;
    zk_ = std::move(*c);
    ASSERT_TRUE(zk_->remove_recursive(root_));
    vector_text_ = hmc::testing::read_file(kVector);
  }

  CommandResult cli(std::vector<std::string> args, const std::string& stdin_data = kSpec) {
    args.insert(args.begin(), kBinary);
    args.insert(args.end(), {"--zk", connect_, "--root", root_, "--zk-timeout", "10s"});
    return run_command(args, stdin_data, 60s,
                       {{"HERON_MARATHON_ZK", ""}, {"HERON_MARATHON_CONFIG", ""}, {"HERON_MARATHON_ROOT", ""},
                        {"HERON_MARATHON_ZK_AUTH_FILE", ""}, {"HERON_MARATHON_ZK_ACL", ""}, {"LOGNAME", "alice"}});
  }

  // Files under a fresh directory, packed as `tar czf <package> -C <dir> <names>`.
  std::string package(const std::string& file, const std::map<std::string, std::string>& members) {
    const std::string dir = dir_.path() + "/" + file + ".d";
    std::vector<std::string> argv = {"tar", "czf", dir_.path() + "/" + file, "-C", dir};
    for (const auto& [name, data] : members) {
      const auto slash = name.rfind('/');
      if (slash != std::string::npos) run_command({"mkdir", "-p", dir + "/" + name.substr(0, slash)});
      else run_command({"mkdir", "-p", dir});
      hmc::testing::write_file(dir + "/" + name, data);
      argv.push_back(name);
    }
    auto r = run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return dir_.path() + "/" + file;
  }
  std::string word_count_defn() { return protoc("--encode", vector_text_); }

  std::string desired_path() const { return root_ + "/topologies/word-count"; }
  std::optional<hmc::zk::Node> desired() {
    auto n = zk_->get(desired_path());
    if (!n) return std::nullopt;
    return *n;
  }
  void expect_nothing_written() {
    EXPECT_FALSE(desired()) << "no desired node";
    auto ex = zk_->exists(root_ + "/topologies");
    ASSERT_TRUE(ex);
    EXPECT_FALSE(*ex) << "not even the parent";
  }

  hmc::testing::TempDir dir_;
  std::string connect_, root_, vector_text_;
  std::unique_ptr<hmc::zk::ZkClient> zk_;
};

TEST_F(TopologyPackageCli, SubmitOfAPackageWritesHeronsDefinitionIntoTheDesiredNode) {
  const auto defn = word_count_defn();
  const auto pkg = package("word-count.tar.gz", {{"word-count.jar", "PK\x03\x04 not really a jar"},
                                                 {"word-count.defn", defn},
                                                 {"heron-conf/scheduler.yaml", "heron.scheduler.is.service: False\n"}});
  auto r = cli({"submit", "-", "--topology-package", pkg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "topology definition word-count.defn in " + pkg +
                                  ": 'word-count' (id word-count-1f2e), 2 components, 7 instances, 2 containers"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "topology 'word-count' submitted")) << r.out;

  auto n = desired();
  ASSERT_TRUE(n);
  const auto node = boost::json::parse(n->data).as_object();
  const auto bytes = hmc::base64_decode(node.at("topologyDefn").as_string());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, defn) << "the .defn's bytes, unchanged";
  EXPECT_EQ(protoc("--decode", *bytes), protoc("--decode", defn));
  EXPECT_TRUE(contains(protoc("--decode", *bytes), "name: \"word-count\"\n"));
  EXPECT_EQ(node.at("topologyId").as_string(), "word-count-1f2e");
  EXPECT_EQ(node.at("submissionUser").as_string(), "alice");
  EXPECT_EQ(node.at("package").as_string(), "https://artifacts.example.org/heron/word-count.tar.gz");
  EXPECT_FALSE(node.contains("containers")) << "sized by the controller from the plan";
  EXPECT_FALSE(node.contains("resources"));
  EXPECT_FALSE(node.contains("topologyDefnFile")) << "the default <name>.defn";
  EXPECT_TRUE(rc::parse_desired(n->data)) << "a valid desired node";
}

TEST_F(TopologyPackageCli, DescribeShowsComponentsAndThePlanPerContainer) {
  const auto pkg = package("wc.tar.gz", {{"word-count.jar", "jar"}, {"word-count.defn", word_count_defn()}});
  ASSERT_EQ(cli({"submit", "-", "--topology-package", pkg}).exit_code, 0);
  auto r = cli({"describe", "word-count"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* line : {"Containers:     2 (+1 TManager), each cpus 5, mem 6144 MB, disk 16384 MB\n",
                           "Components:     2, 7 instances\n", "  sentence   spout   4\n", "  count      bolt    3\n",
                           "Packing plan:   2 containers", "  Container 1: cpus 5, mem 6144 MB, disk 16384 MB\n",
                           "    count      tasks 1, 3\n", "    sentence   tasks 5, 7\n", "  Container 2: ",
                           "    count      task 2\n", "    sentence   tasks 4, 6\n"})
    EXPECT_TRUE(contains(r.out, line)) << line << "\n" << r.out;

  r = cli({"describe", "word-count", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto heron = boost::json::parse(r.out).at("heron").as_object();
  const auto& comps = heron.at("components").as_array();
  ASSERT_EQ(comps.size(), 2u);
  EXPECT_EQ(comps[0].at("name").as_string(), "sentence");
  EXPECT_EQ(comps[0].at("kind").as_string(), "spout");
  EXPECT_EQ(comps[0].at("parallelism").as_int64(), 4);
  EXPECT_EQ(comps[1].at("kind").as_string(), "bolt");
  std::multiset<std::int64_t> tasks;
  for (const auto& c : heron.at("packingPlan").at("containers").as_array())
    for (const auto& i : c.at("instances").as_array()) tasks.insert(i.at("taskId").as_int64());
  EXPECT_EQ(tasks, (std::multiset<std::int64_t>{1, 2, 3, 4, 5, 6, 7})) << "every instance once";

  r = cli({"describe", "word-count", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "packingPlan:")) << r.out;
  EXPECT_TRUE(contains(r.out, "RoundRobinPacking")) << r.out;
}

TEST_F(TopologyPackageCli, APackageWithoutADefinitionIsRefusedAndNothingIsWritten) {
  const auto pkg = package("wc.tar.gz", {{"word-count.jar", "jar"}, {"README", "x"}});
  auto r = cli({"submit", "-", "--topology-package", pkg});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "error: no word-count.defn in " + pkg + " (it has: README, word-count.jar)")) << r.err;
  expect_nothing_written();
}

TEST_F(TopologyPackageCli, ACorruptDefinitionIsRefusedAndNothingIsWritten) {
  auto defn = word_count_defn();
  const auto pkg = package("wc.tar.gz", {{"word-count.jar", "jar"}, {"word-count.defn", defn.substr(0, defn.size() / 2)}});
  auto r = cli({"submit", "-", "--topology-package", pkg});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "error: word-count.defn in " + pkg + ": not a ")) << r.err;
  EXPECT_FALSE(contains(r.err, "libprotobuf")) << r.err;
  expect_nothing_written();

  const auto not_tar = dir_.path() + "/plain.tar.gz";
  hmc::testing::write_file(not_tar, defn);
  r = cli({"submit", "-", "--topology-package", not_tar});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, not_tar + " is not a readable topology package")) << r.err;
  expect_nothing_written();
}

TEST_F(TopologyPackageCli, ANameMismatchNamesBothAndWritesNothing) {
  std::string text = vector_text_;
  text.replace(text.find("name: \"word-count\""), 18, "name: \"sentence-count\"");
  const auto pkg = package("wc.tar.gz", {{"word-count.defn", protoc("--encode", text)}});
  auto r = cli({"submit", "-", "--topology-package", pkg});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "error: word-count.defn in " + pkg +
                                  " defines topology 'sentence-count', but <stdin> names 'word-count'"))
      << r.err;
  expect_nothing_written();
}

TEST_F(TopologyPackageCli, AContainersOverrideThatDisagreesWithThePlanIsRefused) {
  const auto pkg = package("wc.tar.gz", {{"word-count.defn", word_count_defn()}});
  auto r = cli({"submit", "-", "--topology-package", pkg}, std::string(kSpec) + "containers: 4\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "error: <stdin> sets containers 4, but Heron's packing plan (RoundRobinPacking) of "
                              "word-count.defn in " + pkg + " has 2 (topology.stmgrs)"))
      << r.err;
  expect_nothing_written();

  r = cli({"submit", "-", "--topology-package", pkg}, std::string(kSpec) + "containers: 2\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(boost::json::parse(desired()->data).at("containers").as_int64(), 2);
}

TEST_F(TopologyPackageCli, ADefnWithThePackageUriOfTheSpec) {
  const std::string defn = dir_.path() + "/word-count.defn";
  hmc::testing::write_file(defn, word_count_defn());
  auto r = cli({"submit", "-", "--topology-defn", defn, "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "would be created")) << r.out;
  EXPECT_FALSE(desired());

  r = cli({"submit", "-", "--topology-defn", defn});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = rc::parse_desired(desired()->data);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->package, "https://artifacts.example.org/heron/word-count.tar.gz");
  EXPECT_EQ(protoc("--decode", *hmc::base64_decode(t->topology_defn)), protoc("--decode", word_count_defn()));
  r = cli({"list"});
  EXPECT_TRUE(contains(r.out, "word-count   running   2")) << r.out;
}

TEST_F(TopologyPackageCli, UpdateKeepsTheDefinitionOrTakesANewPackage) {
  const auto pkg = package("wc.tar.gz", {{"word-count.defn", word_count_defn()}});
  ASSERT_EQ(cli({"submit", "-", "--topology-package", pkg}).exit_code, 0);
  const auto first = boost::json::parse(desired()->data).at("topologyDefn");

  auto r = cli({"update", "-"}, std::string(kSpec) + "labels: {team: data}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(boost::json::parse(desired()->data).at("topologyDefn"), first);

  // A new build: three stream managers, a new id, the definition under another name.
  std::string text = vector_text_;
  text.replace(text.find("word-count-1f2e"), 15, "word-count-9c0d");
  text.replace(text.find("value: \"2\""), 10, "value: \"3\"");
  const auto v2 = package("wc-v2.tar.gz", {{"word-count.jar", "jar"}, {"wc-v2.defn", protoc("--encode", text)}});
  r = cli({"update", "-", "--topology-package", v2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "3 containers")) << r.out;
  auto t = rc::parse_desired(desired()->data);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->topology_id, "word-count-9c0d");
  EXPECT_EQ(t->topology_defn_file, "wc-v2.defn") << "the executors read the same file from the package";
  EXPECT_EQ(t->submission_user, "alice");
  EXPECT_EQ(desired()->stat.version, 2);
}

}  // namespace
