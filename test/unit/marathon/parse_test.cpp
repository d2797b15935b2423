// Marathon's JSON answers into the observed model: Marathon's own published
// examples as vectors, plus hostile inputs that must give errors, not crashes.

#include "hmc/marathon/marathon_client.hpp"
#include "marathon_examples.hpp"
#include "marathon_internal.hpp"

#include <gtest/gtest.h>

namespace hmc::marathon {
namespace {

TEST(ParseGroups, DirectSubgroupsOfTheRootAreTopologies) {
  auto groups = parse_groups(example("group.json"), "/");
  ASSERT_TRUE(groups) << groups.error().message;
  ASSERT_EQ(groups->size(), 1u);
  const auto& tools = groups->at("/tools");
  EXPECT_EQ(tools.version, "2015-09-17T10:38:20.875Z");
  ASSERT_EQ(tools.apps.size(), 2u);
  EXPECT_EQ(tools.apps[0].id, "/tools/oauth-server");
  EXPECT_EQ(tools.apps[0].instances, 2);
  EXPECT_DOUBLE_EQ(tools.apps[0].cpus, 1);
  EXPECT_DOUBLE_EQ(tools.apps[0].mem, 1024);
  EXPECT_EQ(tools.apps[0].image, "docker-registry/oauth_server:6d7d463cb8b1517002080a81cf23f9cf7b7fc774");
  EXPECT_EQ(tools.apps[1].id, "/tools/datadog-agent");
  EXPECT_EQ(tools.apps[1].instances, 5);
  EXPECT_EQ(tools.apps[1].version, "2015-08-26T22:33:24.225Z");
}

TEST(ParseGroups, RootBelowTheDocumentIsFoundByDescending) {
  auto groups = parse_groups(example("group.json"), "/tools/");
  ASSERT_TRUE(groups) << groups.error().message;
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_TRUE(groups->at("/tools/log").apps.empty());
  const auto& docker = groups->at("/tools/docker");
  ASSERT_EQ(docker.apps.size(), 1u);
  EXPECT_EQ(docker.apps[0].id, "/tools/docker/registry");
  EXPECT_EQ(docker.apps[0].image, "registry");
  EXPECT_DOUBLE_EQ(docker.apps[0].cpus, 0.5);
}

TEST(ParseGroups, SleepGroupAppsCarryTheirCommand) {
  auto groups = parse_groups(example("sleep-group.json"), "sleep-group");
  ASSERT_TRUE(groups) << groups.error().message;
  ASSERT_EQ(groups->size(), 1u);
  const auto& sleep = groups->at("/sleep-group/sleep");
  ASSERT_EQ(sleep.apps.size(), 2u);
  EXPECT_EQ(sleep.apps[1].id, "/sleep-group/sleep/goodnight-2");
  EXPECT_EQ(sleep.apps[1].cmd_digest, reconciler::text_digest("sleep 1000"));
  EXPECT_DOUBLE_EQ(sleep.apps[1].mem, 32);
  EXPECT_TRUE(sleep.apps[1].image.empty());
}

TEST(ParseGroups, EmbeddedCountsDeploymentsLabelsAndFailure) {
  const std::string body = R"({
    "id": "/heron/topologies", "version": "v0",
    "groups": [{
      "id": "/heron/topologies/wc", "version": "2024-01-01T00:00:00.000Z",
      "apps": [{
        "id": "/heron/topologies/wc/0", "instances": 1, "cpus": 1.5, "mem": 2048, "disk": 1024,
        "cmd": "heron-executor --shard=0",
        "labels": {"heron-marathon/managed-by": "heron-marathon-controller", "heron-marathon/container": "0",
                   "team": "data"},
        "container": {"type": "DOCKER", "docker": {"image": "heron/heron:0.20"}},
        "tasksStaged": 1, "tasksRunning": 2, "tasksHealthy": 3, "tasksUnhealthy": 4,
        "deployments": [{"id": "d-1"}, {"id": "d-2"}],
        "lastTaskFailure": {"message": "Container exited with status 137", "state": "TASK_FAILED"},
        "version": "2024-01-01T00:00:00.000Z"
      }],
      "groups": []
    }, {"id": "/heron/topologies/empty", "apps": [], "groups": []}]
  })";
  auto groups = parse_groups(body, "/heron/topologies");
  ASSERT_TRUE(groups) << groups.error().message;
  ASSERT_EQ(groups->size(), 2u);
  const auto& app = groups->at("/heron/topologies/wc").apps.at(0);
  EXPECT_EQ(app.tasks_staged, 1);
  EXPECT_EQ(app.tasks_running, 2);
  EXPECT_EQ(app.tasks_healthy, 3);
  EXPECT_EQ(app.tasks_unhealthy, 4);
  EXPECT_EQ(app.deployment_ids, (std::vector<std::string>{"d-1", "d-2"}));
  EXPECT_EQ(app.labels.at("heron-marathon/container"), "0");
  EXPECT_EQ(app.labels.count("team"), 0u);  // only the controller's own labels are kept
  EXPECT_EQ(app.labels.size(), 2u);
  EXPECT_EQ(app.image, "heron/heron:0.20");
  EXPECT_EQ(app.cmd_digest, reconciler::text_digest("heron-executor --shard=0"));
  EXPECT_EQ(app.last_task_failure, "Container exited with status 137");
  EXPECT_DOUBLE_EQ(app.disk, 1024);
}

TEST(ParseGroups, MissingOptionalFieldsAndNullsAreTolerated) {
  auto groups = parse_groups(R"({"id":"/r","groups":[{"id":"/r/a","apps":[{"id":"/r/a/0","cmd":null,
      "labels":null,"container":{"docker":null}}]}]})", "/r");
  ASSERT_TRUE(groups) << groups.error().message;
  const auto& app = groups->at("/r/a").apps.at(0);
  EXPECT_EQ(app.instances, 0);
  EXPECT_EQ(app.cmd_digest, reconciler::text_digest(""));
  EXPECT_TRUE(app.labels.empty());
}

TEST(ParseGroups, UnrelatedDocumentHasNoTopologies) {
  auto groups = parse_groups(example("group.json"), "/heron/topologies");
  ASSERT_TRUE(groups) << groups.error().message;
  EXPECT_TRUE(groups->empty());
}

TEST(ParseDeployments, MarathonExample) {
  auto deployments = parse_deployments(example("deployments.json"));
  ASSERT_TRUE(deployments) << deployments.error().message;
  ASSERT_EQ(deployments->size(), 1u);
  const auto& d = deployments->at(0);
  EXPECT_EQ(d.id, "97c136bf-5a28-4821-9d94-480d9fbb01c8");
  EXPECT_EQ(d.version, "2015-09-30T09:09:17.614Z");
  EXPECT_EQ(d.affected_apps, (std::vector<std::string>{"/foo"}));
  ASSERT_EQ(d.current_actions.size(), 1u);
  EXPECT_EQ(d.current_actions[0].action, "ScaleApplication");
  EXPECT_EQ(d.current_actions[0].app, "/foo");
  EXPECT_EQ(d.current_step, 1);
  EXPECT_EQ(d.total_steps, 1);
}

TEST(ParseDeployments, EmptyList) {
  auto deployments = parse_deployments("[]");
  ASSERT_TRUE(deployments);
  EXPECT_TRUE(deployments->empty());
}

TEST(ParseQueue, MarathonExampleReasonsAndCounts) {
  auto queue = parse_queue(example("queue.json"));
  ASSERT_TRUE(queue) << queue.error().message;
  ASSERT_EQ(queue->size(), 2u);

  const auto& agent = queue->at(0);
  EXPECT_EQ(agent.app_id, "/tools/datadog-agent");
  EXPECT_EQ(agent.count, 1);
  EXPECT_TRUE(agent.overdue);
  EXPECT_EQ(agent.processed_offers, 123);
  EXPECT_EQ(agent.unused_offers, 0);
  EXPECT_FALSE(agent.last_unused_offer_at.has_value());
  EXPECT_TRUE(agent.reject_summary_last_offers.empty());
  ASSERT_TRUE(agent.since.has_value());
  EXPECT_EQ(format_time(*agent.since), "2016-02-28T16:41:41.090Z");

  const auto& foo = queue->at(1);
  EXPECT_EQ(foo.app_id, "/foo");
  EXPECT_EQ(foo.count, 2);
  EXPECT_TRUE(foo.overdue);
  EXPECT_DOUBLE_EQ(foo.delay_time_left_seconds, 0);
  EXPECT_EQ(foo.processed_offers, 123);
  EXPECT_EQ(foo.unused_offers, 123);
  ASSERT_TRUE(foo.last_unused_offer_at && foo.last_used_offer_at);
  ASSERT_EQ(foo.reject_summary_last_offers.size(), 8u);
  EXPECT_EQ(foo.reject_summary_last_offers[3].reason, "InsufficientCpus");
  EXPECT_EQ(foo.reject_summary_last_offers[3].declined, 75);
  EXPECT_EQ(foo.reject_summary_last_offers[3].processed, 123);
  EXPECT_EQ(foo.reject_summary_last_offers[4].reason, "InsufficientMemory");
  EXPECT_EQ(foo.reject_summary_last_offers[4].declined, 15);
  EXPECT_EQ(foo.reject_summary_last_offers[4].processed, 48);
  EXPECT_EQ(foo.reject_summary_last_offers[5].reason, "InsufficientDisk");
  EXPECT_EQ(foo.reject_summary_last_offers[5].declined, 10);
  EXPECT_EQ(foo.reject_summary_last_offers[7].reason, "DeclinedScarceResources");
  ASSERT_EQ(foo.reject_summary_launch_attempt.size(), 9u);
  EXPECT_EQ(foo.reject_summary_launch_attempt[3].reason, "AgentMaintenance");
  EXPECT_EQ(foo.reject_summary_launch_attempt[4].declined, 150);
  EXPECT_EQ(foo.reject_summary_launch_attempt[4].processed, 246);

  ASSERT_EQ(foo.last_unused_offers.size(), 1u);
  const auto& offer = foo.last_unused_offers[0];
  EXPECT_EQ(offer.offer_id, "offer_123");
  EXPECT_EQ(offer.agent_id, "slave_123");
  EXPECT_EQ(offer.hostname, "1.2.3.4");
  EXPECT_DOUBLE_EQ(offer.resources.cpus, 23);
  EXPECT_EQ(offer.reasons, (std::vector<std::string>{"InsufficientMemory"}));
  ASSERT_TRUE(offer.timestamp.has_value());
}

TEST(ParseQueue, OfferResourcesAddUpScalarsAndCountPorts) {
  auto queue = parse_queue(R"({"queue":[{"pod":{"id":"/p"},"count":1,"lastUnusedOffers":[{"offer":{
      "id":"o","agentId":"a","hostname":"h","resources":[
        {"name":"cpus","scalar":2,"role":"*"},{"name":"cpus","scalar":{"value":1.5},"role":"r"},
        {"name":"mem","scalar":4096},{"name":"disk","scalar":10000},
        {"name":"ports","ranges":[{"begin":31000,"end":31099},{"begin":32000,"end":32000},{"begin":5,"end":1}]}]},
      "reason":["InsufficientPorts","UnfulfilledRole"]}]}]})");
  ASSERT_TRUE(queue) << queue.error().message;
  const auto& e = queue->at(0);
  EXPECT_EQ(e.app_id, "/p");
  const auto& r = e.last_unused_offers.at(0).resources;
  EXPECT_DOUBLE_EQ(r.cpus, 3.5);
  EXPECT_DOUBLE_EQ(r.mem, 4096);
  EXPECT_DOUBLE_EQ(r.disk, 10000);
  EXPECT_EQ(r.ports, 101);
  EXPECT_EQ(e.last_unused_offers.at(0).reasons.size(), 2u);
  EXPECT_FALSE(e.last_unused_offers.at(0).timestamp.has_value());
}

TEST(ParseQueue, EmptyQueue) {
  auto queue = parse_queue(R"({"queue":[]})");
  ASSERT_TRUE(queue);
  EXPECT_TRUE(queue->empty());
}

// Every parser must answer hostile bodies with an `invalid` error that names
// the problem, never crash or throw.
struct HostileCase {
  const char* name;
  std::string body;
  const char* expected_in_message;
};

void expect_invalid(const Result<std::map<std::string, reconciler::ObservedGroup>>& r, const HostileCase& c) {
  ASSERT_FALSE(r) << c.name;
  EXPECT_EQ(r.error().kind, ErrorKind::invalid) << c.name;
  EXPECT_NE(r.error().message.find(c.expected_in_message), std::string::npos)
      << c.name << ": " << r.error().message;
}

TEST(ParseHostile, GroupsWrongTypesAndBrokenJson) {
  const std::vector<HostileCase> cases = {
      {"empty", "", "not valid JSON"},
      {"html", "<html><body>502 Bad Gateway</body></html>", "not valid JSON"},
      {"truncated", R"({"id":"/r","groups":[{"id":"/r/a","apps":[{"id":"/r/a/0","instan)", "not valid JSON"},
      {"array root", "[]", "expected an object"},
      {"groups not array", R"({"id":"/r","groups":{"a":1}})", "expected an array"},
      {"group not object", R"({"id":"/r","groups":[42]})", "expected an object"},
      {"group without id", R"({"id":"/r","groups":[{"apps":[]}]})", "without an id"},
      {"instances string", R"({"id":"/r","groups":[{"id":"/r/a","apps":[{"id":"/r/a/0","instances":"3"}]}]})",
       "instances: expected a number, got a string"},
      {"labels value number", R"({"id":"/r","groups":[{"id":"/r/a","apps":[{"id":"/r/a/0","labels":{"x":1}}]}]})",
       "labels.x"},
      {"app without id", R"({"id":"/r","groups":[{"id":"/r/a","apps":[{"instances":1}]}]})", "app without an id"},
      {"deployments not array",
       R"({"id":"/r","groups":[{"id":"/r/a","apps":[{"id":"/r/a/0","deployments":"d"}]}]})", "deployments"},
      {"deep nesting", std::string(100000, '[') + std::string(100000, ']'), "not valid JSON"},
  };
  for (const auto& c : cases) expect_invalid(parse_groups(c.body, "/r"), c);
}

TEST(ParseHostile, DeploymentsAndQueue) {
  auto d1 = parse_deployments(R"({"id":"x"})");
  ASSERT_FALSE(d1);
  EXPECT_NE(d1.error().message.find("expected an array"), std::string::npos);
  auto d2 = parse_deployments(R"([{"id":"x","affectedApps":[1]}])");
  ASSERT_FALSE(d2);
  EXPECT_NE(d2.error().message.find("affectedApps[0]"), std::string::npos) << d2.error().message;
  auto d3 = parse_deployments("[{\"id\":\"x\"");
  ASSERT_FALSE(d3);
  EXPECT_EQ(d3.error().kind, ErrorKind::invalid);

  auto q1 = parse_queue("{}");
  ASSERT_FALSE(q1);
  EXPECT_NE(q1.error().message.find("queue"), std::string::npos);
  auto q2 = parse_queue(R"({"queue":[{"app":{"id":"/a"},"delay":{"overdue":"yes"}}]})");
  ASSERT_FALSE(q2);
  EXPECT_NE(q2.error().message.find("overdue: expected a boolean"), std::string::npos) << q2.error().message;
  auto q3 = parse_queue(R"({"queue":[{"count":1}]})");
  ASSERT_FALSE(q3);
  EXPECT_NE(q3.error().message.find("without app.id"), std::string::npos);
  auto q4 = parse_queue("not json at all");
  ASSERT_FALSE(q4);
  EXPECT_NE(q4.error().message.find("not valid JSON"), std::string::npos);
}

TEST(ParseHostile, HugeNumbersAreClampedNotOverflowed) {
  auto queue = parse_queue(R"({"queue":[{"app":{"id":"/a"},"count":1e300,"processedOffersSummary":
      {"processedOffersCount":-99999999999999999999}, "lastUnusedOffers":[{"offer":{"resources":[
      {"name":"ports","ranges":[{"begin":0,"end":18446744073709551615}]}]}}]}]})");
  ASSERT_TRUE(queue) << queue.error().message;
  EXPECT_EQ(queue->at(0).count, std::numeric_limits<int>::max());
  EXPECT_EQ(queue->at(0).processed_offers, std::numeric_limits<int>::min());
  EXPECT_EQ(queue->at(0).last_unused_offers.at(0).resources.ports, std::numeric_limits<int>::max());
}

TEST(ParseHostile, LargeValidDocumentParses) {
  std::string body = R"({"id":"/h","groups":[)";
  for (int g = 0; g < 2000; ++g) {
    if (g) body += ',';
    body += R"({"id":"/h/t)" + std::to_string(g) + R"(","apps":[)";
    for (int a = 0; a < 5; ++a) {
      if (a) body += ',';
      body += R"({"id":"/h/t)" + std::to_string(g) + "/" + std::to_string(a) +
              R"(","instances":1,"labels":{"k":")" + std::string(200, 'v') + R"("}})";
    }
    body += "]}";
  }
  body += "]}";
  auto groups = parse_groups(body, "/h");
  ASSERT_TRUE(groups) << groups.error().message;
  EXPECT_EQ(groups->size(), 2000u);
  EXPECT_EQ(groups->at("/h/t1999").apps.size(), 5u);
}

TEST(ErrorFromResponse, KindsFollowMarathonsStatusCodes) {
  using detail::error_from_response;
  const auto locked = error_from_response(
      "PUT /v2/groups/x", 409,
      R"({"message":"App is locked by one or more deployments.","deployments":[{"id":"d-1"},{"id":"d-2"}]})");
  EXPECT_EQ(locked.kind, ErrorKind::locked);
  EXPECT_EQ(locked.code, 409);
  EXPECT_NE(locked.message.find("d-1, d-2"), std::string::npos) << locked.message;
  EXPECT_TRUE(locked.is_retryable());

  const auto exists = error_from_response("POST /v2/groups", 409,
                                          R"({"message":"Group /x is already created. Use PUT to change this group."})");
  EXPECT_EQ(exists.kind, ErrorKind::conflict);
  EXPECT_NE(exists.message.find("already created"), std::string::npos);

  const auto missing = error_from_response("GET /v2/groups/x", 404, R"({"message":"Group '/x' does not exist"})");
  EXPECT_EQ(missing.kind, ErrorKind::not_found);

  const auto bad = error_from_response(
      "POST /v2/groups", 422,
      R"({"message":"Object is not valid","details":[{"path":"/apps(0)/id","errors":["must be lowercase"]}]})");
  EXPECT_EQ(bad.kind, ErrorKind::invalid);
  EXPECT_NE(bad.message.find("Object is not valid"), std::string::npos);
  EXPECT_NE(bad.message.find("/apps(0)/id: must be lowercase"), std::string::npos) << bad.message;
  EXPECT_EQ(error_from_response("x", 400, R"({"message":"Invalid JSON"})").kind, ErrorKind::invalid);

  EXPECT_EQ(error_from_response("x", 401, "").kind, ErrorKind::unauthorized);
  EXPECT_EQ(error_from_response("x", 403, R"({"message":"Not Authorized to perform this action!"})").kind,
            ErrorKind::unauthorized);
  // TooManyRunningDeploymentsException is a 403 too, but a busy Marathon, not a missing permission.
  const auto busy = error_from_response(
      "POST /v2/groups", 403,
      R"({"message":"Max number (100) of running deployments is achieved. Wait for existing deployments to complete or cancel oneusing force=true parameter. You can increase max deployment number by using --max_running_deployments parameter but be advised that this can have negative effects on the performance."})");
  EXPECT_EQ(busy.kind, ErrorKind::unavailable);
  EXPECT_EQ(busy.code, 403);
  EXPECT_NE(busy.message.find("POST /v2/groups: HTTP 403: Max number (100) of running deployments"), std::string::npos)
      << busy.message;
  const auto down = error_from_response("GET /v2/queue", 503, "<html>\r\nService Unavailable</html>");
  EXPECT_EQ(down.kind, ErrorKind::unavailable);
  EXPECT_NE(down.message.find("Service Unavailable"), std::string::npos);
  EXPECT_EQ(down.message.find('\r'), std::string::npos);
  EXPECT_EQ(error_from_response("x", 500, "").kind, ErrorKind::unavailable);
}

TEST(ChangeResult, FromBodyOrHeader) {
  auto r = detail::parse_change_result(R"({"deploymentId":"5ed4c0c5","version":"2015-09-29T15:59:51.164Z"})", "");
  EXPECT_EQ(r.deployment_id, "5ed4c0c5");
  EXPECT_EQ(r.version, "2015-09-29T15:59:51.164Z");
  EXPECT_EQ(detail::parse_change_result("", "from-header").deployment_id, "from-header");
  EXPECT_EQ(detail::parse_change_result("garbage", "").deployment_id, "");
}

TEST(BaseUrl, PathPrefixPortAndScheme) {
  auto dcos = detail::parse_base_url("https://dcos.example.com/service/marathon/");
  ASSERT_TRUE(dcos) << dcos.error().message;
  EXPECT_TRUE(dcos->https);
  EXPECT_EQ(dcos->host, "dcos.example.com");
  EXPECT_EQ(dcos->port, "443");
  EXPECT_EQ(dcos->path_prefix, "/service/marathon");

  auto plain = detail::parse_base_url("http://127.0.0.1:8080");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->https);
  EXPECT_EQ(plain->port, "8080");
  EXPECT_EQ(plain->path_prefix, "");

  for (const char* bad : {"ftp://x", "127.0.0.1:8080", "http://", "not a url", "http://h/?q=1",
                          "http://user:pw@h/"}) {
    auto r = detail::parse_base_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  }
}

TEST(MakeClient, RejectsBadOptions) {
  MarathonOptions options;
  options.base_url = "gopher://x";
  auto c = make_client(options);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("scheme"), std::string::npos);

  options.base_url = "https://127.0.0.1:1";
  options.ca_file = "/nonexistent/ca.pem";
  auto c2 = make_client(options);
  ASSERT_FALSE(c2);
  EXPECT_NE(c2.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST(Helpers, ScaleBodyEncodingAndIds) {
  EXPECT_EQ(*detail::scale_body(0), R"({"scaleBy":0})");
  EXPECT_EQ(*detail::scale_body(2), R"({"scaleBy":2})");
  EXPECT_EQ(*detail::scale_body(0.5), R"({"scaleBy":5E-1})");
  EXPECT_FALSE(detail::scale_body(-1));
  EXPECT_FALSE(detail::scale_body(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_EQ(detail::encode_path("/heron/topologies/wc"), "/heron/topologies/wc");
  EXPECT_EQ(detail::encode_path("/a b?c#d"), "/a%20b%3Fc%23d");
  EXPECT_EQ(detail::normalize_group_id("heron/topologies/"), "/heron/topologies");
  EXPECT_EQ(detail::normalize_group_id("/"), "/");
  EXPECT_EQ(detail::normalize_group_id(""), "/");
}

TEST(SseParser, FramesFromMarathonExampleSplitAnywhere) {
  const std::string stream = example("events.txt");
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, stream.size()}) {
    std::vector<std::pair<std::string, std::string>> events;
    detail::SseParser parser([&](const std::string& t, const std::string& d) { events.emplace_back(t, d); });
    for (std::size_t i = 0; i < stream.size(); i += step) parser.feed(std::string_view(stream).substr(i, step));
    ASSERT_EQ(events.size(), 3u) << "step " << step;
    EXPECT_EQ(events[0].first, "event_stream_attached");
    EXPECT_NE(events[0].second.find("\"remoteAddress\""), std::string::npos);
    EXPECT_EQ(events[1].first, "status_update_event");
    EXPECT_NE(events[2].second.find("TASK_RUNNING"), std::string::npos);
  }
}

TEST(SseParser, CrLfMultilineDataCommentsAndOversizedFrames) {
  std::vector<std::pair<std::string, std::string>> events;
  detail::SseParser parser([&](const std::string& t, const std::string& d) { events.emplace_back(t, d); }, 64);
  parser.feed(": keep-alive\r\n\r\nevent: a\r\ndata: 1\r\ndata: 2\r\n\r\n");
  parser.feed("data: " + std::string(1000, 'x') + "\n\n");
  parser.feed("data:plain\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], (std::pair<std::string, std::string>{"a", "1\n2"}));
  EXPECT_EQ(events[1], (std::pair<std::string, std::string>{"message", "plain"}));
}

}  // namespace
}  // namespace hmc::marathon
