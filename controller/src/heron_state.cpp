// Heron's own state nodes for desired topologies with a topologyDefn: the
// controller prepares them once per desired version (decode, pack, encode),
// knows what the nodes hold through data watches, and writes them in one
// fenced multi before the group that reads them (docs/heron-state.md).

#include "hmc/controller/controller.hpp"

#include "hmc/common/log.hpp"
#include "hmc/heron_state/prepare.hpp"

#include <string_view>

#ifndef HMC_VERSION
#define HMC_VERSION "unknown"
#endif

namespace hmc::controller {

namespace rc = hmc::reconciler;

std::shared_ptr<const rc::HeronDesired> Controller::heron_desired(const std::string& name, const std::string& raw,
                                                                 const DesiredEntry& d) {
  // Most desired nodes have no definition: no parse, no lock, no cache entry for them.
  if (raw.find("\"topologyDefn\"") == std::string::npos) return nullptr;
  {
    std::lock_guard lock(mu_);
    if (auto it = heron_prepared_.find(name);
        it != heron_prepared_.end() && it->second.czxid == d.czxid && it->second.version == d.version)
      return it->second.heron;
  }
  std::shared_ptr<const rc::HeronDesired> heron;
  auto parsed = rc::parse_desired(raw);
  if (parsed && !parsed->topology_defn.empty()) {
    // Heron's submitter records its own release (release.yaml); the
    // controller, which does the submit, records its own.
    const heron_state::ReleaseInfo release{"heron-marathon-controller", "", HMC_VERSION};
    heron = std::make_shared<const rc::HeronDesired>(
        heron_state::prepare_heron_state(options_.reconciler, *parsed, d.ctime_ms / 1000, release));
    if (!heron->error.empty())
      log::warn("topology definition refused", {{"topology", name}, {"error", heron->error}});
  }
  std::lock_guard lock(mu_);
  heron_prepared_[name] = HeronPrepared{d.czxid, d.version, heron};
  return heron;
}

Result<void> Controller::read_heron_nodes(const std::string& name, const rc::HeronDesired& h,
                                          rc::HeronStateNodes& out) {
  std::vector<std::string> to_read;
  std::vector<std::uint64_t> epochs;
  {
    std::lock_guard lock(mu_);
    for (const auto& n : h.nodes) {
      const auto& seen = heron_seen_[n.path];
      if (seen.armed) out.digests[n.path] = seen.digest;
      else {
        to_read.push_back(n.path);
        epochs.push_back(seen.epoch);
      }
    }
  }
  if (to_read.empty()) return {};
  auto watch_for = [this, name](const std::string& path) -> zk::Watcher {
    return [this, name, path](zk::WatchEventType, const std::string&) {
      {
        std::lock_guard lock(mu_);
        auto& seen = heron_seen_[path];
        ++seen.epoch;
        seen.armed = false;
      }
      queue_.add(name);
    };
  };
  auto nodes = zk_.get_many(to_read, watch_for);
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < to_read.size(); ++i) {
    auto& r = nodes[i];
    if (!r) {
      if (r.error().kind == ErrorKind::not_found) continue;  // no node (and no watch)
      return r.error();
    }
    const std::uint64_t digest = rc::text_digest(r->data);
    out.digests[to_read[i]] = digest;
    auto& seen = heron_seen_[to_read[i]];
    // A watch that fired since the read began: keep it unarmed, read again next time.
    if (seen.epoch == epochs[i]) {
      seen.armed = true;
      seen.digest = digest;
    }
  }
  return {};
}

Result<void> Controller::write_heron_state(const rc::WriteHeronState& w) {
  std::vector<std::string> paths;
  std::vector<zk::Op> ops;
  for (const auto& n : w.nodes) {
    paths.push_back(n.path);
    if (!n.create) {
      ops.push_back(zk::SetOp{n.path, n.bytes, -1});
      continue;
    }
    // Heron's directories (topologies, packingplans, executionstate) may not exist yet.
    const std::string dir = n.path.substr(0, n.path.rfind('/'));
    bool made;
    {
      std::lock_guard lock(mu_);
      made = heron_dirs_made_.count(dir) > 0;
    }
    if (!made && !dir.empty()) {
      if (auto r = zk_.ensure_path(dir); !r) return r.error();
      std::lock_guard lock(mu_);
      heron_dirs_made_.insert(dir);
    }
    ops.push_back(zk::CreateOp{n.path, n.bytes, zk::CreateMode::persistent});
  }
  auto r = fenced_multi(std::move(ops));
  // Written or not, what the nodes hold is read again by the next reconcile
  // (a failed create or set means what was known of them was wrong).
  forget_heron_nodes(paths);
  if (!r) {
    // A directory removed since it was made: make it again next time.
    if (r.error().kind == ErrorKind::not_found) {
      std::lock_guard lock(mu_);
      heron_dirs_made_.clear();
    }
    return r.error();
  }
  log::info("heron state written", {{"nodes", std::to_string(w.nodes.size())}});
  return {};
}

void Controller::forget_heron_nodes(const std::vector<std::string>& paths) {
  std::lock_guard lock(mu_);
  for (const auto& p : paths) {
    auto& seen = heron_seen_[p];
    ++seen.epoch;
    seen.armed = false;
  }
}

}  // namespace hmc::controller
