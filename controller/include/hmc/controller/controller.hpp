#pragma once
// The controller runtime: watches desired topologies in ZooKeeper, observes
// Marathon in bulk, runs the pure reconciler per topology on a work queue and
// applies its plans through the adapters, then writes status back.
//
// Threads: `workers` reconcile threads, one observer thread (bulk Marathon
// reads, resync timer), and the ZooKeeper client's dispatcher thread for
// watch callbacks. All shared state is behind `mu_`.

#include "hmc/common/clock.hpp"
#include "hmc/controller/leader_election.hpp"
#include "hmc/controller/work_queue.hpp"
#include "hmc/reconciler/reconcile.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>


namespace hmc::marathon { class MarathonClient; }

namespace hmc::controller {

using namespace std::chrono_literals;

struct ControllerOptions {
  std::string root = "/heron-marathon";  // desired: <root>/topologies, status: <root>/status
  reconciler::ReconcilerConfig reconciler;
  int workers = 4;
  std::chrono::milliseconds resync_period = 5min;
  std::chrono::milliseconds min_observe_interval = 200ms;  // between two bulk observations
  std::chrono::milliseconds observe_retry = 1s;            // after a failed observation
  std::chrono::milliseconds max_observe_deferral = 30s;    // an observation waits this long at most for queued writes
  std::chrono::milliseconds offer_window = 10min;          // largest-offer history
  // A status waits this long at most for others to share its ZooKeeper
  // multi (one transaction, one disk sync); a full batch goes at once.
  std::chrono::milliseconds status_write_delay = 50ms;
  // Statuses wait this long at most while topologies are queued for a worker:
  // a mass submit reaches Marathon first (reads of desired nodes queue behind
  // this session's writes on the server, and each write is a disk sync).
  std::chrono::milliseconds max_status_deferral = 10s;
  // Marathon's event stream only hints that an observation is due, and while
  // topologies are queued for a worker observations wait anyway. From this
  // many queued topologies the stream is closed until the queue is empty:
  // Marathon then serializes no events for the controller during a mass
  // submit (a few per write), once workers made pause_events_after_writes
  // Marathon writes since the queue was last empty (the keys one observation
  // wakes are cleared in milliseconds without writing, and keep it open).
  // 0: never closed.
  std::size_t pause_events_depth = 100;
  std::size_t pause_events_after_writes = 20;
  // After a burst of at least this many Marathon writes, the bulk observation
  // first lets Marathon finish deploying them: it reads /v2/deployments alone
  // (cheap) every min_observe_interval, and fetches the group tree once no
  // deployment under the group root is left, once their number stopped
  // falling (stuck or slow: observe now), or after max_observe_deferral.
  // The group tree of a large root is Marathon's most expensive read; fetched
  // while Marathon still places the burst's tasks it holds them up, and shows
  // them in flight anyway. 0: never waits.
  std::size_t settle_after_writes = 100;
  // Marathon's deployment limit (--max_running_deployments, 100 by default).
  // Once Marathon refused a change for it (403 "Max number (N) of running
  // deployments is achieved"), changes that would start a deployment are
  // held, without a request, in arrival order. The refused topology retries
  // after this long. An observation with fewer than N deployments lets that
  // many held ones go, and each change Marathon accepts lets two more go.
  // There is no error backoff: the limit is a queue, not a failure.
  std::chrono::milliseconds deployment_limit_hold = 200ms;  // docs/benchmarks.md: 200ms converged fastest
  WorkQueueOptions queue;
  std::string identity;  // this replica's name, written into status
  bool leader_election = true;  // only the elected replica acts (<root>/election)
};

// What the runtime reports to metrics; every hook is optional.
struct ControllerHooks {
  std::function<void(const std::string& result, double seconds)> reconcile_done;  // success|error|requeue_after
  std::function<void()> reconcile_error;
  std::function<void(int)> active_workers;
  std::function<void(const std::map<std::string, int>&)> topologies_by_phase;
  std::function<void(const std::string& topology, const reconciler::TopologyStatus*)> topology_status;  // null: gone
  std::function<void()> drift_repaired;
  // Task failures newly counted for a topology (its Failing condition).
  std::function<void(const std::string& topology, int failures)> container_failures;
  std::function<void()> orphan_cleaned;
  std::function<void(int session_state)> zk_session;
  std::function<void(bool leading)> leader;        // hmc::zk::SessionState as int
  // Every couple of seconds from the observer loop: in-flight work ages.
  std::function<void(double longest_seconds, double unfinished_seconds)> tick;
  WorkQueueHooks queue;
};

class Controller {
 public:
  Controller(zk::ZkClient& zk, marathon::MarathonClient& marathon, const TimeSource& time,
             ControllerOptions options, ControllerHooks hooks = {});
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Loads desired and status nodes, arms watches, takes the first observation
  // and starts the workers. Errors: ZooKeeper unreachable at start.
  Result<void> start();
  // Stops taking work, waits up to `deadline` for in-flight reconciles, joins threads.
  void stop(std::chrono::milliseconds deadline = 5s);

  // Whether this replica may act (leader). Without election it always is.
  void set_acting(bool acting);
  bool acting() const { return acting_.load(); }

  // A hint (Marathon event, SIGHUP): observe again soon.
  void request_observation();
  // Requeue every known topology now (as the periodic resync does).
  void resync_all();

  // Health: the observer loop ran recently and no reconcile is wedged.
  bool healthy(std::string* why) const;
  // Ready: ZooKeeper connected and the first full sync is done.
  bool ready(std::string* why) const;

  std::uint64_t observations() const { return observations_.load(); }
  // The identity of the current leader as seen by this replica ("" unknown).
  std::string leader_identity() const;

 private:
  struct DesiredEntry {
    std::string raw;
    std::int32_t version = -1;
    std::int64_t czxid = 0;     // tells a node recreated at the same version apart
    std::int64_t ctime_ms = 0;  // when it was created: Heron's submission time
  };
  struct KeyState {
    std::uint64_t need_generation = 0;   // snapshot needed before reconciling again
    std::optional<reconciler::TopologyStatus> status;  // last written (or being written)
    bool status_exists = false;
    bool status_dirty = false;           // the last write failed: write again even if unchanged
    std::uint64_t status_seq = 0;        // status writes sent, to match their answers
    std::string last_error;
    bool armed = false;                  // data watch on the desired node
  };

  // The queue's hooks, with the event stream paused and resumed by depth.
  WorkQueueHooks queue_hooks();
  void pause_events_by_depth();

  void worker_loop();
  void observer_loop();
  // See ControllerOptions::settle_after_writes.
  void wait_for_deployments_to_settle();
  bool observe_once();
  void process(const std::string& name);
  Result<void> apply(const std::string& name, const reconciler::Action& action, bool& forgotten);
  void write_status(const std::string& name, reconciler::TopologyStatus status);
  // A ZooKeeper write that only succeeds while this replica's election node
  // exists (a zoo_multi check op). Without election, a plain multi.
  Result<void> fenced_multi(std::vector<zk::Op> ops);
  // The same without waiting: `done` runs on the ZooKeeper dispatcher.
  void fenced_multi_async(std::vector<zk::Op> ops, std::function<void(Result<void>)> done);

  void watch_children();
  void watch_desired(const std::string& name);
  void watch_desired(const std::vector<std::string>& names);  // reads in one pipelined batch
  void on_session_state(int state);
  void reload_all();
  // Replaces the cached status of one key and keeps phase_counts_ in step.
  void set_cached_status_locked(KeyState& ks, std::optional<reconciler::TopologyStatus> status, bool exists);
  void publish_phase_counts();
  void enqueue_all_locked(std::vector<std::string>& out);

  // Heron's own state for desired nodes with a topologyDefn (controller/src/heron_state.cpp).
  // The prepared nodes for this version of the desired node, made once per
  // version (null: the node has no topologyDefn or does not parse). `d`
  // gives the version and identity of the node whose bytes are `raw`.
  std::shared_ptr<const reconciler::HeronDesired> heron_desired(const std::string& name, const std::string& raw,
                                                                const DesiredEntry& d);
  // What Heron's nodes hold now, into out.digests: read once, then cached
  // until a data watch says the node changed.
  Result<void> read_heron_nodes(const std::string& name, const reconciler::HeronDesired& h,
                                reconciler::HeronStateNodes& out);
  // One fenced multi: creates the missing nodes (their directories first), sets the others.
  Result<void> write_heron_state(const reconciler::WriteHeronState& w);
  // Drops what is known of these nodes' contents (written or deleted).
  void forget_heron_nodes(const std::vector<std::string>& paths);
  struct HeronPrepared {
    std::int64_t czxid = 0;
    std::int32_t version = -1;
    std::shared_ptr<const reconciler::HeronDesired> heron;
  };
  struct HeronNodeSeen {
    std::uint64_t epoch = 0;  // bumped by the data watch; a read started before it is stale
    bool armed = false;       // a data watch is set and `digest` is current
    std::uint64_t digest = 0;
  };
  std::unordered_map<std::string, HeronPrepared> heron_prepared_;  // by topology, under mu_
  std::unordered_map<std::string, HeronNodeSeen> heron_seen_;      // by path, under mu_
  std::set<std::string> heron_dirs_made_;                          // under mu_

  std::string desired_path(const std::string& name) const;
  std::string status_path(const std::string& name) const;

  zk::ZkClient& zk_;
  marathon::MarathonClient& marathon_;
  const TimeSource& time_;
  ControllerOptions options_;
  ControllerHooks hooks_;
  std::mutex events_mu_;        // orders pause/resume calls
  bool events_paused_ = false;  // as last asked of the Marathon client
  std::optional<std::uint64_t> backlog_writes_;  // marathon_writes_ when the queue was last empty
  std::atomic<std::uint64_t> marathon_writes_{0};  // Marathon writes made by workers
  std::atomic<bool> observe_after_resume_{false};
  WorkQueue queue_;

  mutable std::mutex mu_;
  std::condition_variable observe_cv_;
  bool observe_requested_ = false;
  bool resync_requested_ = false;
  std::shared_ptr<const reconciler::MarathonSnapshot> snapshot_;
  std::map<std::string, std::set<std::string>> heron_state_;  // topology -> paths
  std::map<std::string, DesiredEntry> desired_;
  std::unordered_map<std::string, KeyState> keys_;
  std::unordered_set<std::string> parked_;
  std::map<std::string, int> phase_counts_;  // cached statuses that exist, by phase
  std::unordered_map<std::string, std::uint64_t> group_fingerprint_;  // topology -> digest of its observed group
  struct SeenOffer { TimePoint at; reconciler::OfferResources res; };
  std::map<std::string, SeenOffer> offers_seen_;  // offer id -> resources
  std::uint64_t cycles_started_ = 0;
  std::size_t writes_since_observe_ = 0;  // Marathon writes since the last observation started
  // Marathon's deployment limit, once it refused a change (under mu_).
  std::chrono::steady_clock::time_point deployment_gate_until_{};
  std::size_t deployment_limit_ = 0;      // N of its message, 0 if unknown
  std::string deployment_limit_message_;  // what held topologies show as lastError
  std::deque<std::string> held_;          // topologies held at the limit, oldest first
  std::unordered_set<std::string> held_set_;
  bool children_armed_ = false;

  std::atomic<bool> acting_{true};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  std::atomic<int> active_workers_{0};
  std::atomic<std::uint64_t> observations_{0};
  // Status writes leave in batches: one ZooKeeper multi carries every status
  // written since the previous multi was sent (up to kStatusBatch), one multi
  // in flight at a time. A mass rollout then costs ZooKeeper a few hundred
  // transactions instead of one per status change.
  struct PendingStatus {
    std::string json;
    bool exists = false;      // set (true) or create (false)
    std::uint64_t seq = 0;
    bool solo = false;        // its batch failed: sent alone to find the culprit
  };
  void status_writer_loop();
  void status_batch_done(std::uint64_t id, std::vector<std::pair<std::string, PendingStatus>> batch,
                         Result<void> r);
  void status_batch_lost();  // status_mu_ held
  // Queues up to n topologies held at Marathon's deployment limit, oldest first.
  void release_held(std::size_t n);
  // Lists Marathon's deployments, then release_for_room.
  void release_at_room();
  // With `deployments` running, releases as many held topologies as the
  // limit leaves room for, and opens the hold if there is room.
  void release_for_room(std::size_t deployments);
  // Takes up to n held topologies, oldest first (mu_ held).
  std::vector<std::string> take_held_locked(std::size_t n);
  // Drops a status write not sent yet; while held, nothing is sent, so a
  // delete of the status node issued under it comes after every write sent.
  std::unique_lock<std::mutex> hold_status_writes(const std::string& name);
  std::mutex send_mu_;    // sending a batch; deleting a status node
  std::mutex status_mu_;  // pending_status_, status_batch_in_flight_
  std::condition_variable status_cv_;
  std::map<std::string, PendingStatus> pending_status_;
  std::chrono::steady_clock::time_point pending_since_{};  // the oldest pending status
  bool status_batch_in_flight_ = false;
  // The multi in flight: its id, when it left and whose statuses it carries.
  // An answer lost with a closed session handle would otherwise stop the
  // writer for good: after kStatusAnswerTimeout the batch counts as failed.
  std::uint64_t status_batch_id_ = 0;
  std::chrono::steady_clock::time_point status_batch_sent_{};
  std::vector<std::pair<std::string, std::uint64_t>> status_batch_keys_;  // name, seq
  std::thread status_writer_;
  std::atomic<int> status_writes_in_flight_{0};
  // Answers to asynchronous writes may come after this object is gone (a
  // ZooKeeper that stopped answering): they run only while it is alive.
  struct Lifeline {
    std::mutex mu;
    bool alive = true;
  };
  std::shared_ptr<Lifeline> lifeline_ = std::make_shared<Lifeline>();
  std::atomic<std::int64_t> last_loop_ms_{0};  // observer heartbeat (steady clock)
  std::vector<std::thread> workers_;
  std::thread observer_;
  std::unique_ptr<LeaderElection> election_;
  bool session_lost_ = false;  // an expiry was seen since the last connect
};

}  // namespace hmc::controller
