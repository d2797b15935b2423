// restart: raises a restart generation in the desired node.

#include "heron_topology.hpp"
#include "session.hpp"
#include "spec_loader.hpp"

#include <ostream>

namespace hmc::cli {

namespace rc = hmc::reconciler;

namespace {

constexpr int kRestartAttempts = 5;

}  // namespace

int cmd_restart(Session& s) {
  const std::string& name = s.opts.args.front();
  if (int rc = check_name_arg(s, name)) return rc;
  if (int rc = s.open()) return rc;
  const std::string path = s.desired_path(name);
  // Read, raise, write at the version read: a concurrent change is merged again.
  for (int attempt = 0; attempt < kRestartAttempts; ++attempt) {
    auto cur = s.zk->get(path);
    if (!cur) {
      if (cur.error().kind == ErrorKind::not_found)
        return s.fail(exit_failed, "topology '" + name + "' not found under " + s.topologies_path());
      return s.zk_fail(cur.error(), "reading " + path);
    }
    auto t = rc::parse_desired(cur->data);
    if (!t) return s.fail(exit_failed, "the desired node of '" + name + "' is invalid (" + t.error().to_string() +
                                           "); fix it with update before restarting");
    if (t->state != rc::DesiredState::running)
      return s.fail(exit_failed, "topology '" + name + "' is " + rc::to_string(t->state) +
                                     ": only a running topology can be restarted");
    std::string what;
    std::int64_t generation = 0;
    if (s.opts.container) {
      const long long index = *s.opts.container;
      // With a topologyDefn and no override, the containers are the plan's.
      int containers = t->containers;
      if (!t->topology_defn.empty() && !t->containers_set) {
        auto v = heron_view(t->topology_defn);
        if (const auto* bad = std::get_if<std::string>(&v))
          return s.fail(exit_failed, "topology '" + name + "': its topologyDefn has no packing plan to count the " +
                                         "containers by (" + *bad + "); fix it with update before restarting a " +
                                         "container");
        containers = static_cast<int>(std::get<HeronView>(v).plan.containers.size());
      }
      if (index > containers)
        return s.fail(exit_failed, "topology '" + name + "' has no container " + std::to_string(index) +
                                       ": its containers are 0 (the TManager) to " + std::to_string(containers));
      generation = ++t->restart.containers[static_cast<int>(index)];
      what = "container " + std::to_string(index);
    } else {
      generation = ++t->restart.generation;
      what = "every container";
    }
    const std::int64_t version = cur->stat.version;
    if (s.opts.dry_run) {
      s.ctx.out << "topology '" << name << "': a restart of " << what << " (restart generation " << generation
                << ") would be written (version " << version << " -> " << version + 1 << ", dry run)\n";
      return exit_ok;
    }
    auto st = s.zk->set(path, rc::to_json(*t), static_cast<std::int32_t>(version));
    if (!st) {
      if (st.error().kind == ErrorKind::conflict) continue;
      if (st.error().kind == ErrorKind::not_found)
        return s.fail(exit_failed, "topology '" + name + "' not found under " + s.topologies_path());
      return s.zk_fail(st.error(), "writing " + path);
    }
    s.ctx.out << "topology '" << name << "': restart of " << what << " requested (restart generation " << generation
              << ", version " << version << " -> " << st->version << ")\n"
              << std::flush;
    if (!s.opts.wait) return exit_ok;
    return wait_for(s, goal_for(name, rc::DesiredState::running, st->version, st->mzxid));
  }
  return s.fail(exit_failed, "the spec of '" + name + "' kept changing; gave up after " +
                                 std::to_string(kRestartAttempts) + " attempts, re-run the command");
}

}  // namespace hmc::cli
