// Diagnosis of topologies whose containers wait in Marathon's launch queue:
// tells "no agent could ever fit this container" from "no agent has room now".

#include "hmc/reconciler/reconcile.hpp"

#include <algorithm>
#include <cstdio>

namespace hmc::reconciler {

namespace {

constexpr int kPortsPerContainer = 9;

std::string fmt(double d) {
  char buf[64];
  if (d == static_cast<double>(static_cast<long long>(d)) && d < 1e15 && d > -1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.3f", d);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string fmt_window(std::chrono::milliseconds w) {
  using namespace std::chrono;
  auto plural = [](long long n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  if (w.count() > 0 && w % hours(1) == milliseconds(0)) return plural(w / hours(1), "hour");
  if (w.count() > 0 && w % minutes(1) == milliseconds(0)) return plural(w / minutes(1), "minute");
  return plural(duration_cast<seconds>(w).count(), "second");
}

// Per reason, the row of the app that saw the most offers: every app of a
// topology is sized the same, so summing would count the same offers twice.
std::vector<WaitingReason> merge_reasons(const std::vector<const QueueEntry*>& entries) {
  std::vector<WaitingReason> out;
  for (const auto* e : entries)
    for (const auto& r : e->reject_summary_last_offers) {
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const WaitingReason& x) { return x.reason == r.reason; });
      if (it == out.end()) out.push_back({r.reason, r.declined, r.processed});
      else if (r.processed > it->processed ||
               (r.processed == it->processed && r.declined > it->declined)) {
        it->declined = r.declined;
        it->processed = r.processed;
      }
    }
  std::erase_if(out, [](const WaitingReason& r) { return r.declined <= 0; });
  return out;
}

}  // namespace

std::string format_reasons(const std::vector<WaitingReason>& reasons) {
  std::string out;
  for (const auto& r : reasons) {
    if (r.declined <= 0) continue;
    if (!out.empty()) out += ", ";
    out += r.reason + ": " + std::to_string(r.declined) + " of " + std::to_string(r.processed) +
           " offers";
  }
  return out;
}

std::optional<WaitingDiagnosis> diagnose_waiting(const ReconcilerConfig& cfg,
                                                 const DesiredTopology& t,
                                                 const MarathonSnapshot& snapshot,
                                                 const OfferHistory& offers, TimePoint now) {
  const std::string prefix = group_id_for(cfg, t.name) + "/";
  std::vector<const QueueEntry*> entries;
  std::optional<TimePoint> since;
  for (const auto& e : snapshot.queue) {
    if (e.app_id.rfind(prefix, 0) != 0 || !e.overdue) continue;
    entries.push_back(&e);
    if (e.since && (!since || *e.since < *since)) since = e.since;
  }
  if (entries.empty() || !since || now - *since < cfg.waiting_threshold) return std::nullopt;

  WaitingDiagnosis d;
  d.since = since;
  for (const auto* e : entries) d.apps.push_back(e->app_id);
  std::sort(d.apps.begin(), d.apps.end());
  d.apps.erase(std::unique(d.apps.begin(), d.apps.end()), d.apps.end());
  d.reasons = merge_reasons(entries);

  std::optional<OfferResources> largest = offers.largest;
  for (const auto* e : entries)
    for (const auto& o : e->last_unused_offers) {
      if (!largest) largest = OfferResources{};
      largest->cpus = std::max(largest->cpus, o.resources.cpus);
      largest->mem = std::max(largest->mem, o.resources.mem);
      largest->disk = std::max(largest->disk, o.resources.disk);
      largest->ports = std::max(largest->ports, o.resources.ports);
    }

  // What Marathon is trying to launch: the queued app's size, which differs
  // from the desired one while a change waits behind a stuck deployment.
  Resources want = t.resources;
  if (auto g = snapshot.groups.find(group_id_for(cfg, t.name)); g != snapshot.groups.end())
    for (const auto& a : g->second.apps)
      if (a.id == d.apps.front() && a.cpus > 0 && a.mem > 0) {
        want = {a.cpus, a.mem, a.disk};
        break;
      }
  const std::string window = fmt_window(offers.window);
  if (!largest) {
    d.kind = "Unknown";
    d.summary = "each container asks cpus=" + fmt(want.cpus) + " mem=" + fmt(want.mem) +
                "; no offer was seen in the last " + window +
                ", so it cannot be told whether a container fits an agent. Check that agents are "
                "registered and offer resources to the topology's role.";
    return d;
  }
  const bool ports_refused = std::any_of(d.reasons.begin(), d.reasons.end(), [](const auto& r) {
    return r.reason == "InsufficientPorts";
  });
  const bool cpus_bad = want.cpus > largest->cpus;
  const bool mem_bad = want.mem > largest->mem;
  const bool disk_bad = want.disk > largest->disk;
  const bool ports_bad = largest->ports < kPortsPerContainer && (largest->ports > 0 || ports_refused);
  // cpus and mem always, for context; disk and ports only when they do not fit.
  std::string asks = "cpus=" + fmt(want.cpus) + " mem=" + fmt(want.mem);
  std::string had = "cpus=" + fmt(largest->cpus) + " mem=" + fmt(largest->mem);
  if (disk_bad) {
    asks += " disk=" + fmt(want.disk);
    had += " disk=" + fmt(largest->disk);
  }
  if (ports_bad) {
    asks += " ports=" + std::to_string(kPortsPerContainer);
    had += " ports=" + std::to_string(largest->ports);
  }
  // Heron sizes every container the same: when one of them runs, an agent
  // took that size, so the others wait for room, whatever the unused offers
  // (which are what is left after placements) say.
  int running_same_size = 0, containers = 0;
  if (auto g = snapshot.groups.find(group_id_for(cfg, t.name)); g != snapshot.groups.end())
    for (const auto& a : g->second.apps) {
      ++containers;
      if (a.tasks_running > 0 && a.cpus >= want.cpus && a.mem >= want.mem && a.disk >= want.disk)
        ++running_same_size;
    }
  if (running_same_size > 0) {
    d.kind = "InsufficientCapacity";
    d.summary = "the container fits an agent (" + std::to_string(running_same_size) + " of " +
                std::to_string(containers) + " containers of this size run; largest unused offer " + had +
                "), but no agent has room now; it starts when running tasks free resources, or add agents.";
  } else if (cpus_bad || mem_bad || disk_bad || ports_bad) {
    d.kind = "Unschedulable";
    d.summary = "each container asks " + asks + "; the largest offer in the last " + window +
                " had " + had + ". Use smaller containers (more of them) or add larger agents.";
  } else {
    d.kind = "InsufficientCapacity";
    d.summary = "the container fits an agent (largest offer " + had +
                "), but no agent has room now; it starts when running tasks free resources, or "
                "add agents.";
  }
  return d;
}

}  // namespace hmc::reconciler
