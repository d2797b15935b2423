// Desired-state and status codecs: round trips, every validation rule, hostile input.

#include "hmc/reconciler/desired.hpp"
#include "hmc/reconciler/status.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace hmc::reconciler {
namespace {

const char* kMinimal =
    R"({"name":"wc","cluster":"c1","role":"r","package":"https://x/wc.tar.gz"})";

DesiredTopology full() {
  DesiredTopology t;
  t.name = "word-count.v2";
  t.cluster = "dcos";
  t.role = "analytics";
  t.environ = "prod";
  t.containers = 4;
  t.resources = {2.5, 4096, 2048};
  t.image = "registry.local:5000/heron/heron:0.20.5@sha256:abc";
  t.package = "hdfs://nn:8020/heron/wc.tar.gz";
  t.core_uri = "https://cdn/heron-core.tar.gz";
  t.topology_id = "wc-1f2e";
  t.topology_defn_file = "wc.defn";
  t.submission_user = "alice";
  t.executor_args = {"--verbose", "--extra=it's"};
  t.env = {{"JAVA_OPTS", "-Xmx1g"}, {"A_B", ""}};
  t.labels = {{"team", "data"}, {"cost-center", "42"}};
  t.constraints = {{"hostname", "UNIQUE"}, {"rack", "GROUP_BY", "3"}};
  t.state = DesiredState::suspended;
  t.on_stuck = OnStuck::suspend;
  return t;
}

TEST(DesiredCodec, MinimalGetsDefaults) {
  auto r = parse_desired(kMinimal);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->name, "wc");
  EXPECT_EQ(r->containers, 1);
  EXPECT_EQ(r->environ, "default");
  EXPECT_EQ(r->state, DesiredState::running);
  EXPECT_EQ(r->on_stuck, OnStuck::wait);
  EXPECT_EQ(r->resources, Resources{});
}

TEST(DesiredCodec, FullRoundTrip) {
  const auto t = full();
  EXPECT_TRUE(validate(t).empty());
  const auto j = to_json(t);
  auto r = parse_desired(j);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, t);
  EXPECT_EQ(to_json(*r), j);  // canonical: stable
}

TEST(DesiredCodec, CanonicalKeyOrder) {
  const auto j = to_json(full());
  const std::vector<std::string> keys = {
      "schemaVersion", "name", "cluster", "role", "environ", "containers", "resources",
      "\"cpus\"", "\"mem\"", "\"disk\"", "image", "package", "coreUri", "topologyId",
      "topologyDefnFile", "submissionUser", "executorArgs", "env", "labels", "constraints", "state", "onStuck"};
  std::size_t pos = 0;
  for (const auto& k : keys) {
    const auto at = j.find(k, pos);
    ASSERT_NE(at, std::string::npos) << k << " in " << j;
    pos = at;
  }
  EXPECT_NE(j.find("\"mem\":4096"), std::string::npos) << j;  // integers stay integers
  EXPECT_NE(j.find("\"cpus\":2.5"), std::string::npos) << j;
}

TEST(DesiredCodec, TopologyDefnMakesSizesOverrides) {
  // Without a definition the sizes always count (defaults included).
  auto plain = parse_desired(kMinimal);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->containers_set);
  EXPECT_TRUE(plain->resources_set);

  // With one, absent sizes come from Heron's packing plan and stay absent.
  const std::string with_defn =
      R"({"name":"wc","cluster":"c1","role":"r","package":"https://x/wc.tar.gz","topologyDefn":"CgJ3YxICd2M="})";
  auto r = parse_desired(with_defn);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->topology_defn, "CgJ3YxICd2M=");
  EXPECT_FALSE(r->containers_set);
  EXPECT_FALSE(r->resources_set);
  const auto j = to_json(*r);
  EXPECT_EQ(j.find("containers"), std::string::npos) << j;
  EXPECT_EQ(j.find("resources"), std::string::npos) << j;
  auto again = parse_desired(j);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *r);

  // Given sizes are kept as overrides, and round-trip.
  auto t = full();
  t.topology_defn = "CgJ3YxICd2M=";
  t.resources_set = false;
  const auto j2 = to_json(t);
  EXPECT_NE(j2.find("\"containers\":4"), std::string::npos) << j2;
  EXPECT_EQ(j2.find("resources"), std::string::npos) << j2;
  auto r2 = parse_desired(j2);
  ASSERT_TRUE(r2) << r2.error().to_string();
  t.resources = Resources{};  // not carried: the plan decides
  EXPECT_EQ(*r2, t);
  EXPECT_EQ(to_json(*r2), j2);
}

TEST(DesiredCodec, TopologyDefnSizeIsBounded) {
  DesiredTopology t;
  t.name = "wc";
  t.cluster = "c";
  t.role = "r";
  t.package = "https://x/p";
  t.topology_defn = std::string((kMaxTopologyDefnBytes / 3 + 1) * 4, 'A');
  const auto errs = validate(t);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "/topologyDefn");
  EXPECT_NE(errs[0].message.find("at most 524288 bytes"), std::string::npos) << errs[0].message;
}

// --- every validation rule: (field edit) -> the path and words of the error -----------

struct RuleCase {
  const char* name;
  const char* json;  // the minimal node with one field changed (merged by hand)
  const char* path;
  const char* words;
};

const RuleCase kRules[] = {
    {"NotJson", "{", "", "not valid JSON"},
    {"NotObject", "[1,2]", "", "must be a JSON object"},
    {"NullDocument", "null", "", "must be a JSON object"},
    {"UnknownField", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","replicas":3})", "/replicas", "unknown field"},
    {"MissingName", R"({"cluster":"c","role":"r","package":"https://x/p"})", "/name", "is required"},
    {"MissingCluster", R"({"name":"wc","role":"r","package":"https://x/p"})", "/cluster", "is required"},
    {"MissingRole", R"({"name":"wc","cluster":"c","package":"https://x/p"})", "/role", "is required"},
    {"MissingPackage", R"({"name":"wc","cluster":"c","role":"r"})", "/package", "is required"},
    {"NameWrongType", R"({"name":5,"cluster":"c","role":"r","package":"https://x/p"})", "/name", "must be a string"},
    {"NameUpperCase", R"({"name":"WordCount","cluster":"c","role":"r","package":"https://x/p"})", "/name", "lower case"},
    {"NameUnderscore", R"({"name":"word_count","cluster":"c","role":"r","package":"https://x/p"})", "/name", "may only contain"},
    {"NameSlash", R"({"name":"a/b","cluster":"c","role":"r","package":"https://x/p"})", "/name", "may only contain"},
    {"NameLeadingDash", R"({"name":"-wc","cluster":"c","role":"r","package":"https://x/p"})", "/name", "start and end"},
    {"NameTrailingDash", R"({"name":"wc-","cluster":"c","role":"r","package":"https://x/p"})", "/name", "start and end"},
    {"NameEmptyPart", R"({"name":"a..b","cluster":"c","role":"r","package":"https://x/p"})", "/name", "empty parts"},
    {"NameEmpty", R"({"name":"","cluster":"c","role":"r","package":"https://x/p"})", "/name", "must not be empty"},
    {"NameReservedRestart", R"({"name":"restart","cluster":"c","role":"r","package":"https://x/p"})", "/name", "reserved"},
    {"NameReservedTasks", R"({"name":"tasks","cluster":"c","role":"r","package":"https://x/p"})", "/name", "reserved"},
    {"NameReservedVersions", R"({"name":"versions","cluster":"c","role":"r","package":"https://x/p"})", "/name", "reserved"},
    {"NameDot", R"({"name":".","cluster":"c","role":"r","package":"https://x/p"})", "/name", "reserved"},
    {"NameTooLong", R"({"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","cluster":"c","role":"r","package":"https://x/p"})", "/name", "at most 63"},
    {"ClusterSpace", R"({"name":"wc","cluster":"a b","role":"r","package":"https://x/p"})", "/cluster", "may only contain"},
    {"RoleShell", R"({"name":"wc","cluster":"c","role":"r;rm","package":"https://x/p"})", "/role", "may only contain"},
    {"EnvironEmpty", R"({"name":"wc","cluster":"c","role":"r","environ":"","package":"https://x/p"})", "/environ", "must not be empty"},
    {"ContainersZero", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","containers":0})", "/containers", ">= 1"},
    {"ContainersNegative", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","containers":-3})", "/containers", ">= 1"},
    {"ContainersHuge", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","containers":100000000000000000000})", "/containers", "<= 1000"},
    {"ContainersAbsurd", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","containers":1001})", "/containers", "<= 1000"},
    {"ContainersFraction", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","containers":2.5})", "/containers", "must be an integer"},
    {"ContainersString", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","containers":"3"})", "/containers", "must be an integer"},
    {"ResourcesNotObject", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","resources":4})", "/resources", "must be an object"},
    {"CpusZero", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","resources":{"cpus":0}})", "/resources/cpus", "must be > 0"},
    {"CpusNegative", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","resources":{"cpus":-1}})", "/resources/cpus", "must be > 0"},
    {"CpusString", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","resources":{"cpus":"1"}})", "/resources/cpus", "must be a number"},
    {"CpusHuge", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","resources":{"cpus":1e300}})", "/resources/cpus", "must be <="},
    {"MemZero", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","resources":{"mem":0}})", "/resources/mem", "must be > 0"},
    {"DiskNegative", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","resources":{"disk":-5}})", "/resources/disk", "must be > 0"},
    {"ResourceUnknown", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","resources":{"gpus":1}})", "/resources/gpus", "unknown field"},
    {"PackageNoScheme", R"({"name":"wc","cluster":"c","role":"r","package":"/tmp/wc.tar.gz"})", "/package", "scheme://"},
    {"PackageEmptyRest", R"({"name":"wc","cluster":"c","role":"r","package":"https://"})", "/package", "nothing after"},
    {"PackageSpace", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/a b"})", "/package", "without spaces"},
    {"PackageBadScheme", R"({"name":"wc","cluster":"c","role":"r","package":"1http://x"})", "/package", "scheme"},
    {"CoreUriMalformed", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","coreUri":"core.tgz"})", "/coreUri", "scheme://"},
    {"ImageSpace", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","image":"a b"})", "/image", "docker image"},
    {"TopologyIdShell", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","topologyId":"a$b"})", "/topologyId", "may only contain"},
    {"DefnFileSlashes", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","topologyDefnFile":"../x"})", "/topologyDefnFile", "may only contain"},
    {"ExecutorArgsNotArray", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","executorArgs":"--x"})", "/executorArgs", "array of strings"},
    {"ExecutorArgWrongType", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","executorArgs":[1]})", "/executorArgs/0", "must be a string"},
    {"ExecutorArgEmpty", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","executorArgs":[""]})", "/executorArgs/0", "must not be empty"},
    {"ExecutorArgOverridesShard", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","executorArgs":["--ok","--shard=3"]})", "/executorArgs/1", "controller sets itself"},
    {"ExecutorArgControl", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","executorArgs":["a\nb"]})", "/executorArgs/0", "control characters"},
    {"EnvNotObject", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","env":[]})", "/env", "object of strings"},
    {"EnvValueNumber", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","env":{"A":1}})", "/env/A", "must be a string"},
    {"EnvBadName", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","env":{"1A":"x"}})", "/env/1A", "must start with"},
    {"EnvReserved", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","env":{"PORT0":"x"}})", "/env/PORT0", "set by Mesos"},
    {"EnvMesos", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","env":{"MESOS_SANDBOX":"x"}})", "/env/MESOS_SANDBOX", "set by Mesos"},
    {"LabelReserved", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","labels":{"heron-marathon/spec-hash":"x"}})", "/labels/heron-marathon/spec-hash", "reserved"},
    {"LabelEnvironment", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","labels":{"environment":"x"}})", "/labels/environment", "reserved"},
    {"LabelEmptyName", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","labels":{"":"x"}})", "/labels", "must not be empty"},
    {"ConstraintsNotArray", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","constraints":{}})", "/constraints", "must be an array"},
    {"ConstraintTooShort", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","constraints":[["hostname"]]})", "/constraints/0", "[field, operator]"},
    {"ConstraintBadOperator", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","constraints":[["hostname","SOMETIMES"]]})", "/constraints/0/1", "operator must be"},
    {"ConstraintEmptyField", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","constraints":[["","UNIQUE"]]})", "/constraints/0/0", "field must not be empty"},
    {"ConstraintNotStrings", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","constraints":[["hostname",3]]})", "/constraints/0/1", "must be a string"},
    {"StateUnknown", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","state":"paused"})", "/state", "running, suspended, killed"},
    {"StateWrongType", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","state":true})", "/state", "must be a string"},
    {"OnStuckUnknown", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","onStuck":"panic"})", "/onStuck", "wait, suspend"},
    {"SchemaVersion2", R"({"schemaVersion":2,"name":"wc","cluster":"c","role":"r","package":"https://x/p"})", "/schemaVersion", "must be 1"},
    {"DefnNotBase64", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","topologyDefn":"not base64!"})", "/topologyDefn", "standard base64"},
    {"DefnUnpadded", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","topologyDefn":"Zg"})", "/topologyDefn", "standard base64"},
    {"DefnEmpty", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","topologyDefn":""})", "/topologyDefn", "must not be empty"},
    {"DefnWrongType", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","topologyDefn":["Zg=="]})", "/topologyDefn", "must be a string"},
    {"SubmissionUserSpaces", R"({"name":"wc","cluster":"c","role":"r","package":"https://x/p","submissionUser":"a b"})", "/submissionUser", "may only contain"},
    {"SchemaVersionString", R"({"schemaVersion":"1","name":"wc","cluster":"c","role":"r","package":"https://x/p"})", "/schemaVersion", "must be an integer"},
};

class ValidationRule : public ::testing::TestWithParam<RuleCase> {};

TEST_P(ValidationRule, ReportsPathAndRule) {
  const auto& c = GetParam();
  auto r = parse_desired(c.json);
  ASSERT_FALSE(r) << c.json;
  const auto& errs = r.error().errors;
  const bool found = std::any_of(errs.begin(), errs.end(), [&](const FieldError& e) {
    return e.path == c.path && e.message.find(c.words) != std::string::npos;
  });
  EXPECT_TRUE(found) << "want " << c.path << ": " << c.words << "; got " << r.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(Rules, ValidationRule, ::testing::ValuesIn(kRules),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DesiredCodec, CollectsAllErrorsAtOnce) {
  auto r = parse_desired(
      R"({"name":"Bad_Name","cluster":"c","role":"r","containers":0,"resources":{"cpus":-1,"mem":0},"package":"nope","state":"x","extra":1})");
  ASSERT_FALSE(r);
  std::set<std::string> paths;
  for (const auto& e : r.error().errors) paths.insert(e.path);
  for (const char* p : {"/name", "/containers", "/resources/cpus", "/resources/mem", "/package",
                        "/state", "/extra"})
    EXPECT_TRUE(paths.count(p)) << p << " in " << r.error().to_string();
}

TEST(DesiredCodec, WrongTypeIsReportedOnce) {
  auto r = parse_desired(R"({"name":["wc"],"cluster":"c","role":"r","package":"https://x/p"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errors.size(), 1u) << r.error().to_string();
}

TEST(DesiredCodec, ValidateMatchesParseRules) {
  auto t = full();
  EXPECT_TRUE(validate(t).empty());
  t.resources.mem = std::numeric_limits<double>::quiet_NaN();
  t.containers = 0;
  auto errs = validate(t);
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0].path, "/containers");
  EXPECT_EQ(errs[1].path, "/resources/mem");
  EXPECT_NE(errs[1].message.find("finite"), std::string::npos);
}

TEST(DesiredCodec, StateNames) {
  for (auto s : {DesiredState::running, DesiredState::suspended, DesiredState::killed})
    EXPECT_EQ(parse_desired_state(to_string(s)), s);
  EXPECT_FALSE(parse_desired_state("Running"));
  EXPECT_EQ(check_name("word-count.v2"), "");
  EXPECT_EQ(check_name("a"), "");
  EXPECT_EQ(check_name("0"), "");
}

TEST(DesiredCodec, SpecErrorsThrowWithEveryField) {
  auto r = parse_desired(R"({"name":"X"})");
  ASSERT_FALSE(r);
  try {
    (void)r.value();
    FAIL() << "value() of an error must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/name"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("/package"), std::string::npos);
  }
}

// --- hostile input never crashes --------------------------------------------------------

std::vector<std::string> hostile_inputs() {
  std::vector<std::string> v = {
      "", " ", "null", "true", "0", "\"wc\"", "[]", "{}", "{\"name\":null}",
      "{\"name\":\"wc\",\"name\":\"wc\"}", "NaN", "{\"resources\":{\"cpus\":NaN}}",
      "{\"resources\":{\"cpus\":Infinity}}", "{\"resources\":{\"cpus\":1e999999}}",
      "{\"containers\":-99999999999999999999999}", "{\"containers\":18446744073709551616}",
      "{\"containers\":1e308}", "{\"name\":\"\xff\xfe\"}", "{\"\xc0\xaf\":1}", "{\"name\":\"wc\0\"}",
      "{\"name\":\"\\u0000\"}", "{\"labels\":{\"a\":{\"b\":{}}}}", "{\"env\":{\"A\":[1,2]}}",
      "{\"constraints\":[[[[]]]]}", "{\"executorArgs\":[null,{},[]]}", "\xef\xbb\xbf{}",
      "{\"name\":\"wc\"} trailing", "{/*comment*/}", "{'name':'wc'}"};
  v.push_back(std::string(100000, '['));
  v.push_back(std::string(50000, '[') + std::string(50000, ']'));
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{\"a\":";
  v.push_back(deep);
  v.push_back("{\"name\":\"" + std::string(1 << 20, 'a') + "\"}");
  v.push_back("{\"executorArgs\":[" + [] {
    std::string s;
    for (int i = 0; i < 5000; ++i) s += (i ? ",\"x\"" : "\"x\"");
    return s;
  }() + "]}");
  return v;
}

TEST(HostileInput, DesiredParserReportsInsteadOfCrashing) {
  for (const auto& in : hostile_inputs()) {
    auto r = parse_desired(in);
    EXPECT_FALSE(r) << in.substr(0, 80);
    if (!r) {
      EXPECT_FALSE(r.error().errors.empty());
    }
  }
}

TEST(HostileInput, StatusParserNeverCrashes) {
  for (const auto& in : hostile_inputs()) (void)parse_status(in);
  EXPECT_FALSE(parse_status("nope"));
  EXPECT_FALSE(parse_status("[1]"));
  auto s = parse_status(
      R"({"phase":"Exploded","health":7,"observedGeneration":1e300,"conditions":[1,{"type":3},{"type":"Synced","status":"Maybe","lastTransitionTime":"yesterday"}],"apps":[null,{"id":"/a","instances":"x"}],"retryCount":-1e99,"waiting":[]})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->phase, Phase::Pending);
  EXPECT_EQ(s->health, Health::Unknown);
  ASSERT_EQ(s->conditions.size(), 1u);
  EXPECT_EQ(s->conditions[0].status, ConditionStatus::Unknown);
  ASSERT_EQ(s->apps.size(), 1u);
  EXPECT_EQ(s->apps[0].instances, 0);
  EXPECT_FALSE(s->waiting);
}

TEST(HostileInput, MutatedNodesEitherParseCanonicallyOrReportErrors) {
  const std::string base = to_json(full());
  std::mt19937 rng(12345);  // fixed seed: the same 3000 mutants every run
  using namespace std::string_literals;
  const std::string alphabet = "{}[]:,\"0123456789.-eE+ abcxyz\\\x00\x7f\xc3\xff"s;
  for (int i = 0; i < 3000; ++i) {
    std::string m = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % m.size();
      switch (rng() % 3) {
        case 0: m[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: m.erase(at, 1 + rng() % 8); break;
        default: m.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      }
      if (m.empty()) m = "{";
    }
    auto r = parse_desired(m);
    if (r) {
      EXPECT_TRUE(validate(*r).empty()) << m;
      auto again = parse_desired(to_json(*r));
      ASSERT_TRUE(again) << m;
      EXPECT_EQ(*again, *r) << m;
    } else {
      EXPECT_FALSE(r.error().errors.empty()) << m;
    }
  }
}

// --- status codec ---------------------------------------------------------------------------

TopologyStatus sample_status() {
  const TimePoint at{std::chrono::milliseconds{1'764'000'000'123}};
  TopologyStatus s;
  s.name = "wc";
  s.observed_generation = 12;
  s.phase = Phase::Waiting;
  s.health = Health::Degraded;
  s.conditions = {{kCondSynced, ConditionStatus::True, "InSync", "", at},
                  {kCondWaiting, ConditionStatus::True, "Unschedulable", "each container asks...", at + std::chrono::seconds(5)}};
  s.group_id = "/heron/topologies/wc";
  s.deployment_ids = {"d-1", "d-2"};
  s.apps = {{"/heron/topologies/wc/0", 1, 1, 0}, {"/heron/topologies/wc/1", 1, 0, 1}};
  s.running_containers = 1;
  s.total_containers = 2;
  s.waiting = WaitingDiagnosis{"Unschedulable", "each container asks cpus=8 mem=16384; ...", at,
                               {"/heron/topologies/wc/1"}, {{"InsufficientCpus", 37, 40}}};
  s.last_error = "marathon: 409 locked";
  s.retry_count = 3;
  s.next_retry_time = at + std::chrono::seconds(8);
  s.leader = "controller-a";
  s.updated_at = at;
  return s;
}

TEST(StatusCodec, RoundTrip) {
  const auto s = sample_status();
  const auto j = to_json(s);
  auto back = parse_status(j);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  EXPECT_EQ(to_json(*back), j);
  TopologyStatus empty;
  EXPECT_EQ(*parse_status(to_json(empty)), empty);
}

TEST(StatusCodec, CamelCaseKeysAndIsoTimes) {
  const auto j = to_json(sample_status());
  for (const char* k : {"\"schemaVersion\":1", "\"observedGeneration\":12", "\"phase\":\"Waiting\"",
                        "\"health\":\"Degraded\"", "\"lastTransitionTime\":\"2025-11-24T",
                        "\"groupId\":", "\"deploymentIds\":[\"d-1\",\"d-2\"]", "\"tasksRunning\":",
                        "\"tasksStaged\":", "\"runningContainers\":1", "\"totalContainers\":2",
                        "\"waiting\":{\"kind\":\"Unschedulable\"", "\"reasons\":[{\"reason\":\"InsufficientCpus\",\"declined\":37,\"processed\":40}]",
                        "\"lastError\":", "\"retryCount\":3", "\"nextRetryTime\":\"", "\"leader\":\"controller-a\"",
                        "\"updatedAt\":\"2025-11-24T"})
    EXPECT_NE(j.find(k), std::string::npos) << k << " in " << j;
}

TEST(StatusCodec, EnumNames) {
  for (auto p : {Phase::Pending, Phase::Deploying, Phase::Running, Phase::Waiting, Phase::Suspended,
                 Phase::Killing, Phase::Failed})
    EXPECT_EQ(parse_phase(to_string(p)), p);
  for (auto h : {Health::Healthy, Health::Progressing, Health::Degraded, Health::Suspended,
                 Health::Missing, Health::Unknown})
    EXPECT_EQ(parse_health(to_string(h)), h);
  EXPECT_STREQ(to_string(ConditionStatus::False), "False");
}

TEST(Conditions, SetKeepsTransitionTimeWhenStatusUnchanged) {
  const TimePoint a{std::chrono::seconds{100}}, b{std::chrono::seconds{200}};
  std::vector<Condition> conds;
  set_condition(conds, {kCondSynced, ConditionStatus::False, "Creating", "x", a});
  set_condition(conds, {kCondSynced, ConditionStatus::False, "SpecChanged", "y", b});
  ASSERT_EQ(conds.size(), 1u);
  EXPECT_EQ(conds[0].last_transition_time, a);
  EXPECT_EQ(conds[0].reason, "SpecChanged");
  set_condition(conds, {kCondSynced, ConditionStatus::True, "InSync", "", b});
  EXPECT_EQ(conds[0].last_transition_time, b);
  set_condition(conds, {kCondAvailable, ConditionStatus::True, "AllRunning", "", b});
  EXPECT_EQ(conds.size(), 2u);
  EXPECT_EQ(find_condition(conds, kCondAvailable)->reason, "AllRunning");
  EXPECT_EQ(find_condition(conds, kCondWaiting), nullptr);
}

}  // namespace
}  // namespace hmc::reconciler
