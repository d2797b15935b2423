#include "hmc/controller/leader_election.hpp"

#include "hmc/common/log.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <algorithm>

namespace hmc::controller {

namespace {
// "n_0000000042" -> 42; names of other forms sort last.
long long sequence_of(const std::string& child) {
  auto pos = child.rfind('_');
  if (pos == std::string::npos) return -1;
  try {
    return std::stoll(child.substr(pos + 1));
  } catch (...) {
    return -1;
  }
}
}  // namespace

LeaderElection::LeaderElection(zk::ZkClient& zk, std::string election_path, std::string identity,
                               OnChange on_change)
    : zk_(zk), path_(std::move(election_path)), identity_(std::move(identity)),
      on_change_(std::move(on_change)) {}

LeaderElection::~LeaderElection() { resign(); }

std::string LeaderElection::node() const {
  std::lock_guard lock(mu_);
  return node_;
}

std::string LeaderElection::leader_identity() const {
  std::lock_guard lock(mu_);
  return leader_identity_;
}

Result<void> LeaderElection::join() {
  if (resigned_) return {};
  if (auto r = zk_.ensure_path(path_); !r) return r.error();
  auto created = zk_.create(path_ + "/n_", identity_, zk::CreateMode::ephemeral_sequential);
  if (!created) return created.error();
  {
    std::lock_guard lock(mu_);
    node_ = *created;
  }
  log::info("joined leader election", {{"node", *created}, {"identity", identity_}});
  evaluate();
  return {};
}

void LeaderElection::evaluate() {
  if (resigned_) return;
  std::string mine;
  {
    std::lock_guard lock(mu_);
    mine = node_;
  }
  if (mine.empty()) return;
  auto kids = zk_.children(path_);
  if (!kids) {
    log::warn("leader election: cannot list candidates", {{"error", kids.error().message}});
    return;
  }
  std::vector<std::pair<long long, std::string>> seq;
  for (auto& k : *kids)
    if (sequence_of(k) >= 0) seq.emplace_back(sequence_of(k), k);
  std::sort(seq.begin(), seq.end());
  const std::string my_name = mine.substr(mine.rfind('/') + 1);
  auto it = std::find_if(seq.begin(), seq.end(), [&](auto& p) { return p.second == my_name; });
  if (it == seq.end()) {
    // Our node is gone (session expired under us): rejoin.
    set_leading(false);
    {
      std::lock_guard lock(mu_);
      node_.clear();
    }
    (void)join();
    return;
  }
  if (it == seq.begin()) {
    {
      std::lock_guard lock(mu_);
      leader_identity_ = identity_;
    }
    set_leading(!suspect_);
    return;
  }
  set_leading(false);
  if (auto leader = zk_.get(path_ + "/" + seq.front().second)) {
    std::lock_guard lock(mu_);
    leader_identity_ = leader->data;
  }
  // Watch only the predecessor; when it goes, evaluate again.
  const std::string pred = path_ + "/" + std::prev(it)->second;
  auto st = zk_.exists(pred, [this](zk::WatchEventType, const std::string&) { evaluate(); });
  if (st && !st->has_value()) evaluate();  // it went away between the list and the watch
}

void LeaderElection::set_leading(bool leading) {
  const bool was = leading_.exchange(leading);
  if (was != leading) {
    log::info(leading ? "became leader" : "not leader", {{"identity", identity_}});
    if (on_change_) on_change_(leading);
  }
}

void LeaderElection::session_suspect() {
  suspect_ = true;
  set_leading(false);
}

void LeaderElection::session_connected(bool new_session) {
  suspect_ = false;
  if (resigned_) return;
  if (new_session) {
    {
      std::lock_guard lock(mu_);
      node_.clear();
    }
    (void)join();
  } else {
    evaluate();
  }
}

void LeaderElection::resign() {
  if (resigned_.exchange(true)) return;
  std::string mine;
  {
    std::lock_guard lock(mu_);
    mine = node_;
    node_.clear();
  }
  set_leading(false);
  if (!mine.empty()) {
    (void)zk_.remove(mine);
    log::info("resigned leadership", {{"node", mine}, {"identity", identity_}});
  }
}

}  // namespace hmc::controller
