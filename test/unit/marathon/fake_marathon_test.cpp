// The in-memory Marathon used by controller unit tests behaves like Marathon
// where the controller can tell.

#include "hmc/testing/fake_marathon.hpp"

#include <gtest/gtest.h>

namespace hmc::testing {
namespace {

const char* kBody = R"({"id":"/heron/topologies/wc","apps":[
  {"id":"/heron/topologies/wc/0","instances":1,"cpus":1,"mem":1024},
  {"id":"1","instances":2,"cpus":1,"mem":1024}]})";

TEST(FakeMarathon, CreateObserveScaleDelete) {
  FakeMarathon fake;
  ASSERT_TRUE(fake.create_group(kBody));
  auto again = fake.create_group(kBody);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::conflict);

  auto s = fake.observe("/heron/topologies");
  ASSERT_TRUE(s);
  const auto& apps = s->groups.at("/heron/topologies/wc").apps;
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[1].id, "/heron/topologies/wc/1");  // relative ids resolved
  EXPECT_EQ(apps[1].tasks_running, 2);
  EXPECT_TRUE(fake.observe("/other")->groups.empty());

  ASSERT_TRUE(fake.scale_group("/heron/topologies/wc", 0, false));
  EXPECT_EQ(fake.group("/heron/topologies/wc")->apps[1].instances, 0);
  ASSERT_TRUE(fake.delete_group("/heron/topologies/wc", false));
  EXPECT_EQ(fake.delete_group("/heron/topologies/wc", false).error().kind, ErrorKind::not_found);
  EXPECT_EQ(fake.count("delete_group"), 2);
  EXPECT_EQ(fake.calls().front().method, "create_group");
}

TEST(FakeMarathon, PendingDeploymentsLockUntilForcedOrCompleted) {
  FakeMarathon fake;
  fake.set_auto_complete(false);
  auto created = fake.create_group(kBody);
  ASSERT_TRUE(created);
  ASSERT_FALSE(created->deployment_id.empty());
  auto s = fake.observe("/heron/topologies");
  ASSERT_EQ(s->deployments.size(), 1u);
  EXPECT_EQ(s->groups.at("/heron/topologies/wc").apps[0].deployment_ids.at(0), created->deployment_id);
  EXPECT_EQ(s->groups.at("/heron/topologies/wc").apps[0].tasks_running, 0);

  auto locked = fake.update_group("/heron/topologies/wc", kBody, false);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().kind, ErrorKind::locked);
  EXPECT_NE(locked.error().message.find(created->deployment_id), std::string::npos);
  ASSERT_TRUE(fake.update_group("/heron/topologies/wc", kBody, true));  // cancels the old one
  ASSERT_EQ(fake.deployments().size(), 1u);
  fake.complete_deployments();
  EXPECT_TRUE(fake.deployments().empty());
  EXPECT_EQ(fake.group("/heron/topologies/wc")->apps[1].tasks_running, 2);
}

TEST(FakeMarathon, ProgrammedFailuresObserverAndEvents) {
  FakeMarathon fake;
  fake.fail_next("observe", make_error(ErrorSource::marathon, ErrorKind::unavailable, "down", 503), 2);
  EXPECT_FALSE(fake.observe("/"));
  EXPECT_FALSE(fake.observe("/"));
  EXPECT_TRUE(fake.observe("/"));
  fake.fail_always("info", make_error(ErrorSource::marathon, ErrorKind::unauthorized, "no", 401));
  EXPECT_EQ(fake.info().error().kind, ErrorKind::unauthorized);
  fake.clear_failures();
  EXPECT_TRUE(fake.info());

  std::vector<marathon::RequestRecord> records;
  fake.set_request_observer([&](const marathon::RequestRecord& r) { records.push_back(r); });
  ASSERT_TRUE(fake.observe("/heron/topologies"));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].route, "/v2/groups/{id}");

  std::vector<std::string> seen;
  fake.subscribe_events({"deployment_success"}, [&](const std::string& t, const std::string&) { seen.push_back(t); });
  fake.emit_event("status_update_event", "{}");
  fake.emit_event("deployment_success", "{}");
  EXPECT_EQ(seen, (std::vector<std::string>{"deployment_success"}));
}

TEST(FakeMarathon, BadBodiesAreInvalid) {
  FakeMarathon fake;
  EXPECT_EQ(fake.create_group("not json").error().kind, ErrorKind::invalid);
  EXPECT_EQ(fake.create_group(R"({"apps":[]})").error().kind, ErrorKind::invalid);
  EXPECT_EQ(fake.scale_group("/x", -1, false).error().kind, ErrorKind::invalid);
}

}  // namespace
}  // namespace hmc::testing
