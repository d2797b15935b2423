// An app's lastTaskFailure and versionInfo.lastConfigChangeAt, as parse_groups
// reads them (embed group.apps.lastTaskFailure). The shape follows Marathon's
// published RAML type task.TaskFailure (appId, host, message, state, taskId,
// timestamp, version, slaveId?; types-task.raml) and app.versionInfo
// (types-versionInfo.raml). The parser's contract: absent or null means none;
// a member of the wrong type is an `invalid` error naming its path; a string
// that is not a timestamp is an absent time (times only feed the failure
// window, never a decision that needs them).

#include "hmc/marathon/marathon_client.hpp"
#include "marathon_examples.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace hmc::marathon {
namespace {

// One group /r/a with one app whose extra members are `members` (JSON text
// without the surrounding braces, may be empty).
std::string group_with_app(const std::string& members) {
  return R"({"id":"/r","groups":[{"id":"/r/a","apps":[{"id":"/r/a/0","instances":1)" +
         (members.empty() ? std::string() : "," + members) + "}]}]}";
}

TimePoint at_time(const char* iso) {
  auto t = parse_time(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(TimePoint{});
}

// Every field of task.TaskFailure, as Marathon writes it for a task killed by
// Mesos after a failed fetch.
const std::string kFullFailure = R"("lastTaskFailure":{
    "appId":"/r/a/0","host":"10.0.1.7","slaveId":"4e1b-S3",
    "message":"Failed to fetch 'https://x/p.tgz': HTTP 404","state":"TASK_FAILED",
    "taskId":"r_a_0.5f3c1d2e-9b1a-11ee-8c90-0242ac120002",
    "timestamp":"2026-11-25T18:00:05.123Z","version":"2026-11-25T17:59:00.000Z"})";

struct FailureCase {
  const char* name;
  std::string members;  // the app's members besides id and instances
  std::optional<reconciler::TaskFailure> failure;
  std::string last_task_failure;
};

TEST(ParseTaskFailure, PresentAbsentNullAndPartial) {
  reconciler::TaskFailure full;
  full.task_id = "r_a_0.5f3c1d2e-9b1a-11ee-8c90-0242ac120002";
  full.message = "Failed to fetch 'https://x/p.tgz': HTTP 404";
  full.state = "TASK_FAILED";
  full.host = "10.0.1.7";
  full.timestamp = at_time("2026-11-25T18:00:05.123Z");
  full.version = at_time("2026-11-25T17:59:00.000Z");

  reconciler::TaskFailure partial;
  partial.task_id = "t-1";
  partial.state = "TASK_LOST";

  reconciler::TaskFailure bad_times = full;
  bad_times.timestamp.reset();
  bad_times.version.reset();

  reconciler::TaskFailure null_members;
  null_members.task_id = "t-2";

  const std::vector<FailureCase> cases = {
      {"every field", kFullFailure, full, full.message},
      {"absent", "", std::nullopt, ""},
      {"null", R"("lastTaskFailure":null)", std::nullopt, ""},
      // An empty object is still a failure Marathon reported, with nothing known.
      {"empty object", R"("lastTaskFailure":{})", reconciler::TaskFailure{}, ""},
      {"only taskId and state", R"("lastTaskFailure":{"taskId":"t-1","state":"TASK_LOST"})", partial, ""},
      {"null members are absent",
       R"("lastTaskFailure":{"taskId":"t-2","message":null,"host":null,"timestamp":null,"version":null})",
       null_members, ""},
      {"timestamps that are not times",
       R"("lastTaskFailure":{"appId":"/r/a/0","host":"10.0.1.7",
           "message":"Failed to fetch 'https://x/p.tgz': HTTP 404","state":"TASK_FAILED",
           "taskId":"r_a_0.5f3c1d2e-9b1a-11ee-8c90-0242ac120002",
           "timestamp":"yesterday","version":"2026-13-45T99:00:00.000Z"})",
       bad_times, full.message},
      {"empty timestamp strings",
       R"("lastTaskFailure":{"appId":"/r/a/0","host":"10.0.1.7",
           "message":"Failed to fetch 'https://x/p.tgz': HTTP 404","state":"TASK_FAILED",
           "taskId":"r_a_0.5f3c1d2e-9b1a-11ee-8c90-0242ac120002","timestamp":"","version":""})",
       bad_times, full.message},
  };
  for (const auto& c : cases) {
    auto groups = parse_groups(group_with_app(c.members), "/r");
    ASSERT_TRUE(groups) << c.name << ": " << groups.error().message;
    const auto& app = groups->at("/r/a").apps.at(0);
    EXPECT_EQ(app.failure, c.failure) << c.name;
    EXPECT_EQ(app.last_task_failure, c.last_task_failure) << c.name;
  }
}

struct MalformedCase {
  const char* name;
  std::string members;
  const char* expected_in_message;
};

TEST(ParseTaskFailure, WrongTypesAreErrorsNamingTheField) {
  const std::vector<MalformedCase> cases = {
      {"not an object", R"("lastTaskFailure":"boom")", "(/r/a/0).lastTaskFailure: expected an object, got a string"},
      {"an array", R"("lastTaskFailure":[])", "lastTaskFailure: expected an object, got an array"},
      {"taskId number", R"("lastTaskFailure":{"taskId":42})", "lastTaskFailure.taskId: expected a string, got a number"},
      {"message object", R"("lastTaskFailure":{"message":{"text":"x"}})",
       "lastTaskFailure.message: expected a string, got an object"},
      {"state boolean", R"("lastTaskFailure":{"state":true})", "lastTaskFailure.state: expected a string, got a boolean"},
      {"host array", R"("lastTaskFailure":{"host":["a"]})", "lastTaskFailure.host: expected a string, got an array"},
      // Epoch milliseconds are not what Marathon writes (ISO-8601 datetime).
      {"timestamp number", R"("lastTaskFailure":{"timestamp":1700000000000})",
       "lastTaskFailure.timestamp: expected a string, got a number"},
      {"version boolean", R"("lastTaskFailure":{"version":false})",
       "lastTaskFailure.version: expected a string, got a boolean"},
      {"versionInfo string", R"("versionInfo":"2026-11-25T17:59:00.000Z")",
       "(/r/a/0).versionInfo: expected an object, got a string"},
      {"lastConfigChangeAt number", R"("versionInfo":{"lastConfigChangeAt":5})",
       "versionInfo.lastConfigChangeAt: expected a string, got a number"},
  };
  for (const auto& c : cases) {
    auto groups = parse_groups(group_with_app(c.members), "/r");
    ASSERT_FALSE(groups) << c.name;
    EXPECT_EQ(groups.error().kind, ErrorKind::invalid) << c.name;
    EXPECT_NE(groups.error().message.find(c.expected_in_message), std::string::npos)
        << c.name << ": " << groups.error().message;
  }
}

struct ConfigVersionCase {
  const char* name;
  std::string members;
  std::optional<TimePoint> config_version;
};

TEST(ParseConfigVersion, LastConfigChangeAtOrTheAppVersion) {
  const std::vector<ConfigVersionCase> cases = {
      // A scale changes `version` and lastScalingAt, not lastConfigChangeAt:
      // failures of the same config must stay counted across it.
      {"lastConfigChangeAt wins over version",
       R"("version":"2026-11-25T18:30:00.000Z","versionInfo":{"lastScalingAt":"2026-11-25T18:30:00.000Z",
           "lastConfigChangeAt":"2026-11-25T17:59:00.000Z"})",
       at_time("2026-11-25T17:59:00.000Z")},
      {"no versionInfo: the version", R"("version":"2026-11-25T18:30:00.000Z")", at_time("2026-11-25T18:30:00.000Z")},
      {"null versionInfo: the version", R"("version":"2026-11-25T18:30:00.000Z","versionInfo":null)",
       at_time("2026-11-25T18:30:00.000Z")},
      {"versionInfo without lastConfigChangeAt: the version",
       R"("version":"2026-11-25T18:30:00.000Z","versionInfo":{"lastScalingAt":"2026-11-25T18:30:00.000Z"})",
       at_time("2026-11-25T18:30:00.000Z")},
      {"bad lastConfigChangeAt: the version",
       R"("version":"2026-11-25T18:30:00.000Z","versionInfo":{"lastConfigChangeAt":"not a time"})",
       at_time("2026-11-25T18:30:00.000Z")},
      {"neither", "", std::nullopt},
      {"bad version and no versionInfo", R"("version":"v7")", std::nullopt},
      {"bad lastConfigChangeAt and bad version", R"("version":"v7","versionInfo":{"lastConfigChangeAt":"x"})",
       std::nullopt},
  };
  for (const auto& c : cases) {
    auto groups = parse_groups(group_with_app(c.members), "/r");
    ASSERT_TRUE(groups) << c.name << ": " << groups.error().message;
    EXPECT_EQ(groups->at("/r/a").apps.at(0).config_version, c.config_version) << c.name;
  }
}

// Marathon's published group example: /tools/datadog-agent was scaled after
// its last config change (version 2015-08-26, lastConfigChangeAt 2015-05-19).
TEST(ParseConfigVersion, MarathonGroupExample) {
  auto groups = parse_groups(example("group.json"), "/");
  ASSERT_TRUE(groups) << groups.error().message;
  const auto& tools = groups->at("/tools");
  ASSERT_EQ(tools.apps.size(), 2u);
  EXPECT_EQ(tools.apps[0].config_version, at_time("2015-09-28T19:47:37.681Z"));
  EXPECT_EQ(tools.apps[1].version, "2015-08-26T22:33:24.225Z");
  EXPECT_EQ(tools.apps[1].config_version, at_time("2015-05-19T13:59:18.899Z"));
  EXPECT_FALSE(tools.apps[1].failure.has_value());
}

// A failure of an older app version is told apart by comparing its `version`
// with the app's config version: both come through the parser intact.
TEST(ParseTaskFailure, FailureVersionComparesWithTheConfigVersion) {
  auto groups = parse_groups(
      group_with_app(kFullFailure + R"(,"version":"2026-11-25T18:10:00.000Z",
          "versionInfo":{"lastConfigChangeAt":"2026-11-25T18:10:00.000Z"})"),
      "/r");
  ASSERT_TRUE(groups) << groups.error().message;
  const auto& app = groups->at("/r/a").apps.at(0);
  ASSERT_TRUE(app.failure && app.failure->version && app.config_version);
  EXPECT_LT(*app.failure->version, *app.config_version);
  EXPECT_EQ(format_time(*app.failure->timestamp), "2026-11-25T18:00:05.123Z");
}

}  // namespace
}  // namespace hmc::marathon
