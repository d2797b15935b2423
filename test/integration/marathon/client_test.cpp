// The Beast Marathon client against an in-process HTTP server: requests on
// the wire, error kinds, failures injected at every step of an observation,
// keep-alive reuse, TLS verification and the event stream.

#include "hmc/marathon/marathon_client.hpp"
#include "hmc/testing/process.hpp"
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace hmc::marathon {
namespace {

using testing::Fault;
using testing::RecordedRequest;
using testing::Reply;
using testing::TestServer;
using namespace std::chrono_literals;

const char* kGroups = R"({"id":"/heron/topologies","version":"v1","groups":[
  {"id":"/heron/topologies/wc","version":"v1","apps":[
    {"id":"/heron/topologies/wc/0","instances":1,"tasksRunning":1,"deployments":[{"id":"d-1"}]},
    {"id":"/heron/topologies/wc/1","instances":1,"tasksRunning":0}]}]})";
const char* kDeployments = R"([{"id":"d-1","version":"v1","affectedApps":["/heron/topologies/wc/0"],
  "currentActions":[{"action":"StartApplication","app":"/heron/topologies/wc/0"}],"currentStep":1,"totalSteps":1}])";
const char* kQueue = R"({"queue":[{"app":{"id":"/heron/topologies/wc/1"},"count":1,
  "delay":{"overdue":true,"timeLeftSeconds":0},"since":"2024-01-01T00:00:00.000Z",
  "processedOffersSummary":{"processedOffersCount":10,"unusedOffersCount":10,
  "rejectSummaryLastOffers":[{"reason":"InsufficientCpus","declined":10,"processed":10}]}}]})";

// Answers like Marathon for the routes the client uses; the prefix is the
// base path (DC/OS /service/marathon).
Reply marathon_like(const RecordedRequest& r, const std::string& prefix = "") {
  const std::string path = r.target.substr(0, r.target.find('?'));
  if (r.method == "GET" && path == prefix + "/v2/groups/heron/topologies") return {200, kGroups};
  if (r.method == "GET" && path == prefix + "/v2/deployments") return {200, kDeployments};
  if (r.method == "GET" && path == prefix + "/v2/queue") return {200, kQueue};
  if (r.method == "GET" && path == prefix + "/ping") return {200, "pong"};
  if (r.method == "GET" && path == prefix + "/v2/info") return {200, R"({"name":"marathon","version":"1.11.0"})"};
  if (r.method == "POST" && path == prefix + "/v2/groups") {
    return {201, R"({"version":"2024-01-01T00:00:00.000Z","deploymentId":"dep-create"})"};
  }
  if (r.method == "PUT" && path.starts_with(prefix + "/v2/groups/")) {
    return {200, R"({"version":"2024-01-01T00:00:01.000Z","deploymentId":"dep-put"})"};
  }
  if (r.method == "DELETE" && path.starts_with(prefix + "/v2/groups/")) {
    return {200, R"({"version":"2024-01-01T00:00:02.000Z","deploymentId":"dep-delete"})"};
  }
  if (r.method == "DELETE" && path.starts_with(prefix + "/v2/deployments/")) return {202, ""};
  return {404, R"({"message":"Unknown path"})"};
}

std::unique_ptr<MarathonClient> client_for(const std::string& url, MarathonOptions options = {}) {
  options.base_url = url;
  if (options.request_timeout == MarathonOptions{}.request_timeout) options.request_timeout = 2000ms;
  auto c = make_client(options);
  EXPECT_TRUE(c) << c.error().message;
  return std::move(*c);
}

TEST(MarathonClient, ObserveSendsThreeRequestsAndParsesTheSnapshot) {
  TestServer server([](const RecordedRequest& r) { return marathon_like(r, "/service/marathon"); });
  MarathonOptions options;
  options.token = "s3cret-token";
  options.user_agent_suffix = "replica-a";
  auto client = client_for(server.url() + "/service/marathon/", options);

  const auto before = Clock::now();
  auto snapshot = client->observe("/heron/topologies");
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  EXPECT_GE(snapshot->started_at, before);
  EXPECT_EQ(snapshot->generation, 0u);
  ASSERT_EQ(snapshot->groups.size(), 1u);
  const auto& wc = snapshot->groups.at("/heron/topologies/wc");
  ASSERT_EQ(wc.apps.size(), 2u);
  EXPECT_EQ(wc.apps[0].deployment_ids, (std::vector<std::string>{"d-1"}));
  ASSERT_EQ(snapshot->deployments.size(), 1u);
  EXPECT_EQ(snapshot->deployments[0].current_actions.at(0).action, "StartApplication");
  ASSERT_EQ(snapshot->queue.size(), 1u);
  EXPECT_TRUE(snapshot->queue[0].overdue);
  EXPECT_EQ(snapshot->queue[0].reject_summary_last_offers.at(0).reason, "InsufficientCpus");

  const auto requests = server.recorded();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target,
            "/service/marathon/v2/groups/heron/topologies?embed=group.groups&embed=group.apps"
            "&embed=group.apps.counts&embed=group.apps.deployments&embed=group.apps.lastTaskFailure");
  EXPECT_EQ(requests[1].target, "/service/marathon/v2/deployments");
  EXPECT_EQ(requests[2].target, "/service/marathon/v2/queue?embed=lastUnusedOffers");
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.header("authorization"), "token=s3cret-token");
    EXPECT_EQ(r.header("user-agent"), "heron-marathon-controller replica-a");
    EXPECT_EQ(r.header("accept"), "application/json");
    EXPECT_EQ(r.header("host"), "127.0.0.1:" + std::to_string(server.port()));
  }
}

TEST(MarathonClient, ListDeploymentsSendsOneRequest) {
  TestServer server([](const RecordedRequest& r) { return marathon_like(r, ""); });
  auto client = client_for(server.url());
  auto deployments = client->list_deployments();
  ASSERT_TRUE(deployments) << deployments.error().message;
  ASSERT_EQ(deployments->size(), 1u);
  EXPECT_EQ(deployments->front().id, "d-1");
  EXPECT_EQ(deployments->front().current_actions.at(0).action, "StartApplication");
  const auto requests = server.recorded();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/v2/deployments");
}

TEST(MarathonClient, MissingRootGroupIsNoTopologies) {
  TestServer server([](const RecordedRequest& r) {
    if (r.target.starts_with("/v2/groups")) return Reply{404, R"({"message":"Group '/heron/topologies' does not exist"})"};
    return marathon_like(r);
  });
  auto client = client_for(server.url());
  auto snapshot = client->observe("/heron/topologies");
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  EXPECT_TRUE(snapshot->groups.empty());
  EXPECT_EQ(snapshot->queue.size(), 1u);
}

TEST(MarathonClient, ChangesSendBodiesAndReturnDeploymentIds) {
  TestServer server([](const RecordedRequest& r) { return marathon_like(r); });
  auto client = client_for(server.url());
  const std::string body = R"({"id":"/heron/topologies/wc","apps":[]})";

  auto created = client->create_group(body);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->deployment_id, "dep-create");
  EXPECT_EQ(created->version, "2024-01-01T00:00:00.000Z");
  auto updated = client->update_group("/heron/topologies/wc", body, true);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->deployment_id, "dep-put");
  auto scaled = client->scale_group("/heron/topologies/wc", 0, false);
  ASSERT_TRUE(scaled) << scaled.error().message;
  auto deleted = client->delete_group("/heron/topologies/wc", false);
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(deleted->deployment_id, "dep-delete");
  auto cancelled = client->cancel_deployment("d-1");
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  auto info = client->info();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_NE(info->find("1.11.0"), std::string::npos);

  const auto r = server.recorded();
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0].method, "POST");
  EXPECT_EQ(r[0].target, "/v2/groups");
  EXPECT_EQ(r[0].body, body);
  EXPECT_EQ(r[0].header("content-type"), "application/json");
  EXPECT_EQ(r[1].method, "PUT");
  EXPECT_EQ(r[1].target, "/v2/groups/heron/topologies/wc?force=true");
  EXPECT_EQ(r[2].target, "/v2/groups/heron/topologies/wc?force=false");
  EXPECT_EQ(r[2].body, R"({"scaleBy":0})");
  EXPECT_EQ(r[3].method, "DELETE");
  EXPECT_EQ(r[3].target, "/v2/groups/heron/topologies/wc?force=false");
  EXPECT_EQ(r[4].target, "/v2/deployments/d-1?force=true");
  EXPECT_EQ(r[5].target, "/ping");
  EXPECT_EQ(r[6].target, "/v2/info");
  EXPECT_EQ(r[6].header("authorization"), "");  // no token configured, no header
}

TEST(MarathonClient, HttpErrorsMapToKinds) {
  TestServer server([](const RecordedRequest& r) {
    const std::string id = r.target.substr(0, r.target.find('?'));
    if (id.ends_with("/locked")) {
      return Reply{409, R"({"message":"App is locked by one or more deployments.","deployments":[{"id":"dep-9"}]})"};
    }
    if (id.ends_with("/exists")) return Reply{409, R"({"message":"Group /exists is already created."})"};
    if (id.ends_with("/bad")) {
      return Reply{422, R"({"message":"Object is not valid","details":[{"path":"/id","errors":["error.path.invalid"]}]})"};
    }
    if (id.ends_with("/auth")) return Reply{401, R"({"message":"Not Authorized to perform this action!"})"};
    if (id.ends_with("/forbidden")) return Reply{403, ""};
    if (id.ends_with("/down")) return Reply{502, "<html>Bad Gateway</html>"};
    return Reply{404, R"({"message":"Group '/missing' does not exist"})"};
  });
  auto client = client_for(server.url());
  struct Case {
    std::string id;
    ErrorKind kind;
    int code;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"/locked", ErrorKind::locked, 409, "dep-9"},
      {"/exists", ErrorKind::conflict, 409, "already created"},
      {"/bad", ErrorKind::invalid, 422, "/id: error.path.invalid"},
      {"/auth", ErrorKind::unauthorized, 401, "Not Authorized"},
      {"/forbidden", ErrorKind::unauthorized, 403, "403"},
      {"/down", ErrorKind::unavailable, 502, "Bad Gateway"},
      {"/missing", ErrorKind::not_found, 404, "does not exist"},
  };
  for (const auto& c : cases) {
    auto r = client->update_group(c.id, "{}", false);
    ASSERT_FALSE(r) << c.id;
    EXPECT_EQ(r.error().kind, c.kind) << c.id << ": " << r.error().message;
    EXPECT_EQ(r.error().code, c.code) << c.id;
    EXPECT_EQ(r.error().source, ErrorSource::marathon);
    EXPECT_NE(r.error().message.find(c.text), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("PUT /v2/groups" + c.id), std::string::npos) << r.error().message;
  }
  // A body that is not JSON where JSON is expected is invalid, and says so.
  TestServer html([](const RecordedRequest&) { return Reply{200, "<html>login</html>"}; });
  auto bad = client_for(html.url())->observe("/heron/topologies");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid);
  EXPECT_NE(bad.error().message.find("not valid JSON"), std::string::npos) << bad.error().message;
}

TEST(MarathonClient, KeepAliveConnectionsAreReused) {
  TestServer server([](const RecordedRequest& r) { return marathon_like(r); });
  auto client = client_for(server.url());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->observe("/heron/topologies"));
  EXPECT_EQ(server.requests(), 15);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(MarathonClient, ConcurrentCallersShareAtMostMaxConnections) {
  TestServer server([](const RecordedRequest& r) { return marathon_like(r); });
  MarathonOptions options;
  options.max_connections = 2;
  auto client = client_for(server.url(), options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (client->observe("/heron/topologies")) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 30);
  EXPECT_LE(server.accepted(), 2);
}

// Requests block on their callers' threads; a late answer is cut off at each
// request's own deadline, whatever the others are doing, and the pool's
// connections come back for the next requests.
TEST(MarathonClient, ConcurrentRequestsTimeOutOnTheirOwnDeadlines) {
  TestServer server([](const RecordedRequest& r) { return marathon_like(r); });
  server.set_slow_delay(3000ms);
  MarathonOptions options;
  options.request_timeout = 300ms;
  options.max_connections = 3;
  auto client = client_for(server.url(), options);
  server.fail_all(Fault::slow_response);
  std::vector<std::thread> threads;
  std::atomic<int> timed_out{0};
  std::atomic<long long> slowest_ms{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      const auto start = std::chrono::steady_clock::now();
      auto r = client->create_group(R"({"id":"/heron/topologies/wc"})");
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      long long seen = slowest_ms.load();
      while (took.count() > seen && !slowest_ms.compare_exchange_weak(seen, took.count())) {
      }
      if (!r && r.error().kind == ErrorKind::unavailable &&
          (r.error().message.find("timed out") != std::string::npos ||
           r.error().message.find("no free connection before the deadline") != std::string::npos))
        ++timed_out;
    });
  }
  for (auto& t : threads) t.join();
  // Three at a time on three connections: three time out; the other three
  // wait for a connection and give up at the same deadline (or get one
  // released just then and time out right after).
  EXPECT_EQ(timed_out.load(), 6);
  EXPECT_LT(slowest_ms.load(), 2500) << "a request outlived its deadline";
  server.clear_faults();
  for (int i = 0; i < 6; ++i) {
    auto r = client->observe("/heron/topologies");
    EXPECT_TRUE(r) << r.error().message;
  }
}

TEST(MarathonClient, ConnectionRefusedIsUnavailable) {
  const int port = hmc::testing::free_port();
  auto client = client_for("http://127.0.0.1:" + std::to_string(port));
  auto r = client->observe("/heron/topologies");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
  EXPECT_TRUE(r.error().is_retryable());
  EXPECT_NE(r.error().message.find("connecting"), std::string::npos) << r.error().message;
}

// A failure injected at each request of an observation (three requests on
// one keep-alive connection). The first request runs on a fresh connection;
// the later ones on a reused one, where a dead connection (closed or reset
// before any answer) is retried once on a fresh connection.
TEST(MarathonClient, FailureAtEveryStepOfAnObservation) {
  const std::vector<Fault> faults = {Fault::close_after_request, Fault::reset_after_request,
                                     Fault::partial_response,    Fault::slow_response,
                                     Fault::server_error,        Fault::garbage};
  TestServer server([](const RecordedRequest& r) { return marathon_like(r); });
  server.set_slow_delay(1500ms);
  MarathonOptions options;
  options.request_timeout = 300ms;
  for (Fault fault : faults) {
    for (int step = 1; step <= 3; ++step) {
      SCOPED_TRACE(std::string(testing::to_string(fault)) + " at request " + std::to_string(step));
      auto client = client_for(server.url(), options);
      const int accepted_before = server.accepted();
      server.fail_at(step, fault);
      auto r = client->observe("/heron/topologies");
      const bool dead_reused_connection =
          step > 1 && (fault == Fault::close_after_request || fault == Fault::reset_after_request);
      if (dead_reused_connection) {
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(server.accepted() - accepted_before, 2) << "retried on a fresh connection";
      } else {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().kind, ErrorKind::unavailable) << r.error().message;
        EXPECT_TRUE(r.error().is_retryable());
        if (fault == Fault::server_error) {
          EXPECT_EQ(r.error().code, 503);
        }
        if (fault == Fault::slow_response) {
          EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
        }
      }
      server.clear_faults();
      // The same client recovers once the server behaves.
      auto again = client->observe("/heron/topologies");
      EXPECT_TRUE(again) << again.error().message;
    }
  }
}

TEST(MarathonClient, PostIsNotRetriedOnADeadConnection) {
  TestServer server([](const RecordedRequest& r) { return marathon_like(r); });
  auto client = client_for(server.url());
  ASSERT_TRUE(client->info());  // two requests, leaves a pooled connection
  server.fail_at(1, Fault::close_after_request);
  auto r = client->create_group(R"({"id":"/heron/topologies/wc"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
  int posts = 0;
  for (const auto& req : server.recorded()) posts += req.method == "POST";
  EXPECT_EQ(posts, 1);

  // PUT is idempotent: the same failure is retried once and succeeds.
  ASSERT_TRUE(client->info());
  server.fail_at(1, Fault::close_after_request);
  auto put = client->update_group("/heron/topologies/wc", "{}", false);
  EXPECT_TRUE(put) << put.error().message;
}

TEST(MarathonClient, RequestObserverSeesRouteTemplates) {
  TestServer server([](const RecordedRequest& r) { return marathon_like(r); });
  auto client = client_for(server.url());
  std::mutex mutex;
  std::vector<RequestRecord> records;
  client->set_request_observer([&](const RequestRecord& r) {
    std::lock_guard lock(mutex);
    records.push_back(r);
  });
  ASSERT_TRUE(client->observe("/heron/topologies"));
  ASSERT_TRUE(client->update_group("/heron/topologies/wc", "{}", false));
  ASSERT_TRUE(client->cancel_deployment("abc"));
  auto missing = client->delete_group("/nope", false);
  ASSERT_TRUE(missing);  // marathon_like answers DELETE of any group

  std::lock_guard lock(mutex);
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].route, "/v2/groups/{id}");
  EXPECT_EQ(records[0].method, "GET");
  EXPECT_EQ(records[0].code, 200);
  EXPECT_EQ(records[1].route, "/v2/deployments");
  EXPECT_EQ(records[2].route, "/v2/queue");
  EXPECT_EQ(records[3].route, "/v2/groups/{id}");
  EXPECT_EQ(records[3].method, "PUT");
  EXPECT_EQ(records[4].route, "/v2/deployments/{id}");
  EXPECT_EQ(records[4].code, 202);
  EXPECT_EQ(records[5].method, "DELETE");
  for (const auto& r : records) EXPECT_GT(r.duration.count(), 0);
}

TEST(MarathonClient, TlsVerifiesTheCertificate) {
  hmc::testing::TempDir dir;
  const auto files = testing::make_self_signed_certificate(dir.path());
  TestServer server([](const RecordedRequest& r) { return marathon_like(r); }, files);

  MarathonOptions trusted;
  trusted.ca_file = files.cert_file;
  trusted.token = "tls-token";
  auto ok = client_for(server.url(), trusted)->observe("/heron/topologies");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->groups.size(), 1u);
  EXPECT_EQ(server.recorded().back().header("authorization"), "token=tls-token");

  auto untrusted = client_for(server.url())->observe("/heron/topologies");
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.error().kind, ErrorKind::unavailable);
  EXPECT_NE(untrusted.error().message.find("TLS handshake"), std::string::npos) << untrusted.error().message;

  // The certificate names 127.0.0.1 and localhost; another name fails.
  MarathonOptions wrong_name = trusted;
  auto mismatch =
      client_for("https://127.0.0.2:" + std::to_string(server.port()), wrong_name)->observe("/heron/topologies");
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().kind, ErrorKind::unavailable);

  MarathonOptions unverified;
  unverified.verify_tls = false;
  EXPECT_TRUE(client_for(server.url(), unverified)->observe("/heron/topologies"));
}

TEST(MarathonClient, EventStreamDeliversFramesAndReconnects) {
  TestServer server([](const RecordedRequest& r) {
    if (r.target.starts_with("/v2/events")) {
      Reply reply;
      reply.event_stream = true;
      return reply;
    }
    return marathon_like(r);
  });
  MarathonOptions options;
  options.token = "event-token";
  options.event_backoff_initial = 20ms;
  auto client = client_for(server.url(), options);

  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> events;
  auto count = [&](const std::string& type) {
    std::lock_guard lock(mutex);
    return std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.first == type; });
  };
  client->subscribe_events({"deployment_success", "group_change_success"},
                           [&](const std::string& type, const std::string& data) {
                             std::lock_guard lock(mutex);
                             events.emplace_back(type, data);
                           });
  ASSERT_TRUE(hmc::testing::wait_until([&] { return server.open_streams() == 1; }, 10s));
  server.push_event("event: deployment_success\ndata: {\"id\":\"d-1\"}\n\n");
  ASSERT_TRUE(hmc::testing::wait_until([&] { return count("deployment_success") == 1; }, 10s));
  EXPECT_EQ(count("event_stream_attached"), 1);

  const auto first = server.recorded().back();
  EXPECT_EQ(first.target, "/v2/events?event_type=deployment_success&event_type=group_change_success");
  EXPECT_EQ(first.header("accept"), "text/event-stream");
  EXPECT_EQ(first.header("authorization"), "token=event-token");

  // The server drops the stream: the client comes back on its own.
  server.close_streams();
  ASSERT_TRUE(hmc::testing::wait_until([&] { return count("event_stream_attached") == 2; }, 10s));
  ASSERT_TRUE(hmc::testing::wait_until([&] { return server.open_streams() == 1; }, 10s));
  server.push_event("event: group_change_success\ndata: {\"groupId\":\"/heron/topologies/wc\"}\n\n");
  ASSERT_TRUE(hmc::testing::wait_until([&] { return count("group_change_success") == 1; }, 10s));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(events.back().second, R"({"groupId":"/heron/topologies/wc"})");
  }
  // Plain requests still work beside the stream, and the destructor ends the
  // stream (the test would hang otherwise).
  EXPECT_TRUE(client->observe("/heron/topologies"));
  client.reset();
  EXPECT_TRUE(hmc::testing::wait_until([&] { return server.open_streams() == 0; }, 10s));
}

// Paused, the stream is closed (the server serializes nothing for it);
// resumed, it reconnects at once, without waiting for a backoff.
TEST(MarathonClient, PausedEventStreamIsClosedAndReopensOnResume) {
  TestServer server([](const RecordedRequest&) {
    Reply reply;
    reply.event_stream = true;
    return reply;
  });
  MarathonOptions options;
  options.event_backoff_initial = 10s;  // a reconnect after resume must not wait for it
  auto client = client_for(server.url(), options);
  std::atomic<int> attached{0}, deployments{0};
  client->subscribe_events({}, [&](const std::string& type, const std::string&) {
    if (type == "event_stream_attached") ++attached;
    if (type == "deployment_success") ++deployments;
  });
  ASSERT_TRUE(hmc::testing::wait_until([&] { return server.open_streams() == 1; }, 10s));
  client->pause_events(true);
  ASSERT_TRUE(hmc::testing::wait_until([&] { return server.open_streams() == 0; }, 10s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(server.open_streams(), 0);  // stays closed
  EXPECT_EQ(attached.load(), 1);
  client->pause_events(false);
  ASSERT_TRUE(hmc::testing::wait_until([&] { return server.open_streams() == 1; }, 5s));
  ASSERT_TRUE(hmc::testing::wait_until([&] { return attached.load() == 2; }, 5s));
  server.push_event("event: deployment_success\ndata: {\"id\":\"d-1\"}\n\n");
  ASSERT_TRUE(hmc::testing::wait_until([&] { return deployments.load() == 1; }, 5s));
  client.reset();
}

TEST(MarathonClient, EventStreamConnectsOnceTheServerComesUp) {
  const int port = hmc::testing::free_port();
  MarathonOptions options;
  options.event_backoff_initial = 10ms;
  options.event_backoff_max = 100ms;
  auto client = client_for("http://127.0.0.1:" + std::to_string(port), options);
  std::atomic<int> attached{0};
  client->subscribe_events({}, [&](const std::string& type, const std::string&) {
    if (type == "event_stream_attached") ++attached;
  });
  std::this_thread::sleep_for(300ms);  // several refused attempts, backing off
  EXPECT_EQ(attached.load(), 0);
  TestServer server(
      [](const RecordedRequest&) {
        Reply reply;
        reply.event_stream = true;
        return reply;
      },
      std::nullopt, port);
  ASSERT_TRUE(hmc::testing::wait_until([&] { return attached.load() == 1; }, 10s));
  client.reset();
}

}  // namespace
}  // namespace hmc::marathon
