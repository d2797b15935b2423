#pragma once
// An in-memory Marathon for controller unit tests: holds groups, deployments
// and the launch queue, records every call, and fails on command. Behaves
// like Marathon where the controller can tell: 409 on creating an existing
// group, a deployment lock on changing a group with a running deployment
// (unless force), 404 for missing groups and deployments, scaleBy rounds up.
//
// Thread-safe. Event callbacks run on the thread that calls emit_event().

#include "hmc/common/clock.hpp"
#include "hmc/marathon/marathon_client.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hmc::testing {

class FakeMarathon final : public marathon::MarathonClient {
 public:
  // One recorded call. `method` is the interface method name ("observe",
  // "list_deployments", "create_group", "update_group", "scale_group", "delete_group",
  // "cancel_deployment", "restart_app", "reset_launch_delay", "info"); `id`
  // the group, app or deployment id.
  struct Call {
    std::string method;
    std::string id;
    std::string body;
    bool force = false;
    double factor = 0;
  };

  // time: for snapshot started_at; nullptr uses the system clock.
  explicit FakeMarathon(const TimeSource* time = nullptr) : time_(time) {}

  // ----- MarathonClient -----
  Result<reconciler::MarathonSnapshot> observe(const std::string& group_root) override;
  Result<std::vector<reconciler::ObservedDeployment>> list_deployments() override;
  Result<marathon::ChangeResult> create_group(const std::string& body) override;
  Result<marathon::ChangeResult> update_group(const std::string& group_id, const std::string& body,
                                              bool force) override;
  Result<marathon::ChangeResult> scale_group(const std::string& group_id, double factor, bool force) override;
  Result<marathon::ChangeResult> delete_group(const std::string& group_id, bool force) override;
  Result<void> cancel_deployment(const std::string& deployment_id) override;
  // A restart gives the app a new version (and config version), drops its
  // launch delay and lastTaskFailure's hold; tasks as for an update.
  Result<marathon::ChangeResult> restart_app(const std::string& app_id, bool force) override;
  // Sets the app's queue entry (if any) to overdue with no time left.
  Result<void> reset_launch_delay(const std::string& app_id) override;
  Result<std::string> info() override;
  void subscribe_events(std::vector<std::string> event_types,
                        std::function<void(const std::string&, const std::string&)> on_event) override;
  void pause_events(bool paused) override;
  void set_request_observer(marathon::RequestObserver observer) override;

  // ----- State -----
  // When true (the default) changes complete at once: apps run
  // `instances` tasks and no deployment stays behind. When false each change
  // leaves a deployment (listed in /v2/deployments and on the apps) until
  // complete_deployments().
  void set_auto_complete(bool on);
  // Finishes every pending deployment: tasks_running = instances.
  void complete_deployments();
  // Each list_deployments() first finishes the `n` oldest pending deployments,
  // as a Marathon working through a burst would between two reads. 0: none.
  void complete_deployments_per_list(int n);
  void put_group(reconciler::ObservedGroup group);
  void remove_group(const std::string& group_id);
  std::optional<reconciler::ObservedGroup> group(const std::string& group_id) const;
  std::map<std::string, reconciler::ObservedGroup> groups() const;
  void set_deployments(std::vector<reconciler::ObservedDeployment> deployments);
  std::vector<reconciler::ObservedDeployment> deployments() const;
  void set_queue(std::vector<reconciler::QueueEntry> queue);
  void set_info(std::string body);

  // Each create_group takes this long (outside the lock), as a busy Marathon would.
  void set_create_delay(std::chrono::milliseconds delay);

  // ----- Failures -----
  // The next `times` calls of `method` (names as in Call) fail with `error`.
  void fail_next(const std::string& method, Error error, int times = 1);
  // Every call of `method` fails until clear_failures().
  void fail_always(const std::string& method, Error error);
  void clear_failures();

  // ----- Calls -----
  std::vector<Call> calls() const;
  int count(const std::string& method) const;
  void clear_calls();

  // ----- Events -----
  // Delivers an event to every subscriber whose filter lets it through.
  void emit_event(const std::string& type, const std::string& data);
  int subscriber_count() const;
  // Whether the client's event streams are paused (emit_event then reaches no one),
  // and how many times they were paused.
  bool events_paused() const;
  int event_pauses() const;

 private:
  std::atomic<std::int64_t> create_delay_ms_{0};
  struct Failure {
    Error error;
    int remaining = 0;  // < 0: always
  };
  struct Subscriber {
    std::vector<std::string> types;
    std::function<void(const std::string&, const std::string&)> on_event;
  };

  // Both with mutex_ held.
  std::optional<Error> take_failure(const std::string& method);
  void record(const std::string& method, const std::string& route, const std::string& http_method,
              const Call& call, int code);
  std::string start_deployment(const std::vector<std::string>& apps, const std::string& action);
  // These apps (null: every app) run all their instances; their deployment ids are dropped.
  void complete_apps(const std::vector<std::string>* app_ids);
  Result<reconciler::ObservedGroup> group_from_body(const std::string& body, const std::string& id_hint) const;
  std::optional<Error> lock_of(const reconciler::ObservedGroup& group, bool force);
  std::string next_version();

  const TimeSource* time_;
  mutable std::mutex mutex_;
  bool auto_complete_ = true;
  int complete_per_list_ = 0;
  std::map<std::string, reconciler::ObservedGroup> groups_;
  std::vector<reconciler::ObservedDeployment> deployments_;
  std::vector<reconciler::QueueEntry> queue_;
  std::string info_ = R"({"name":"marathon","version":"1.11.0","frameworkId":"fake"})";
  std::map<std::string, Failure> failures_;
  std::vector<Call> calls_;
  std::vector<Subscriber> subscribers_;
  bool events_paused_ = false;
  int event_pauses_ = 0;
  marathon::RequestObserver observer_;
  std::uint64_t counter_ = 0;
};

}  // namespace hmc::testing
