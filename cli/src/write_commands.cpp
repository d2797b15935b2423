// submit, update, kill, suspend, resume and --wait.

#include "session.hpp"
#include "spec_loader.hpp"
#include "topology_input.hpp"

#include "hmc/cli/spec_input.hpp"
#include "hmc/cli/text_diff.hpp"
#include "hmc/common/duration.hpp"

#include <ostream>
#include <thread>

namespace hmc::cli {

namespace rc = hmc::reconciler;

namespace {

constexpr std::chrono::minutes kDefaultWaitTimeout{5};
constexpr int kStateFlipAttempts = 5;

std::string versions(std::int64_t from, std::int64_t to) {
  return "version " + std::to_string(from) + " -> " + std::to_string(to);
}

// Ensures the parent exists, then creates the node. The created node's stat.
Result<zk::Stat> create_desired(Session& s, const std::string& path, const std::string& data) {
  if (auto r = s.zk->ensure_path(s.topologies_path()); !r) return r.error();
  if (auto r = s.zk->create(path, data); !r) return r.error();
  auto ex = s.zk->exists(path);
  if (!ex) return ex.error();
  if (!*ex) return make_error(ErrorSource::zookeeper, ErrorKind::not_found, "deleted right after it was created");
  return **ex;
}

std::string progress_line(const std::string& name, const rc::TopologyStatus& st) {
  std::string line = name + ": " + rc::to_string(st.phase) + " " + std::to_string(st.running_containers) + "/" +
                     std::to_string(st.total_containers) + " containers";
  if (st.phase == rc::Phase::Waiting && st.waiting && !st.waiting->summary.empty())
    line += " (" + st.waiting->summary + ")";
  return line;
}

void print_failure(Session& s, const rc::TopologyStatus& st) {
  auto& e = s.ctx.err;
  e << "error: topology '" << st.name << "' failed";
  if (!st.last_error.empty()) e << ": " << st.last_error;
  e << "\n";
  for (const auto& c : st.conditions) {
    if (c.status == rc::ConditionStatus::True && c.type != rc::kCondWaiting) continue;
    e << "  " << c.type << "=" << rc::to_string(c.status);
    if (!c.reason.empty()) e << " " << c.reason;
    if (!c.message.empty()) e << ": " << c.message;
    e << "\n";
  }
  e.flush();
}

}  // namespace

WaitGoal goal_for(const std::string& name, rc::DesiredState state, std::int64_t generation,
                  std::int64_t after_zxid) {
  WaitGoal g;
  g.name = name;
  g.generation = generation;
  g.after_zxid = after_zxid;
  g.until_gone = state == rc::DesiredState::killed;
  g.phase = state == rc::DesiredState::suspended ? rc::Phase::Suspended : rc::Phase::Running;
  return g;
}

int wait_for(Session& s, const WaitGoal& g) {
  const auto timeout = s.opts.timeout ? *parse_duration(*s.opts.timeout)
                                      : std::chrono::milliseconds{kDefaultWaitTimeout};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string target = g.until_gone ? "be killed" : std::string("be ") + rc::to_string(g.phase);
  std::string last_line;
  bool announced = false;
  for (;;) {
    if (g.until_gone) {
      auto ex = s.zk->exists(s.desired_path(g.name));
      if (!ex) return s.zk_fail(ex.error(), "waiting for '" + g.name + "'");
      if (!*ex) {
        s.ctx.out << g.name << ": killed\n" << std::flush;
        return exit_ok;
      }
    }
    auto node = s.zk->get(s.status_path(g.name));
    if (!node && node.error().kind != ErrorKind::not_found)
      return s.zk_fail(node.error(), "waiting for '" + g.name + "'");
    std::optional<rc::TopologyStatus> st;
    if (node && node->stat.mzxid > g.after_zxid) st = rc::parse_status(node->data);
    if (st && st->observed_generation >= g.generation) {
      const std::string line = progress_line(g.name, *st);
      if (line != last_line) {
        s.ctx.out << line << "\n" << std::flush;
        last_line = line;
      }
      if (st->phase == rc::Phase::Failed) {
        print_failure(s, *st);
        return exit_failed;
      }
      if (!g.until_gone && st->phase == g.phase) return exit_ok;
    } else if (!announced) {
      s.ctx.out << g.name << ": waiting for the controller to act on version " << g.generation << "\n" << std::flush;
      announced = true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return s.fail(exit_failed, "timed out after " + format_duration(timeout) + " waiting for '" + g.name + "' to " +
                                     target + (last_line.empty() ? std::string(" (no status from the controller)")
                                                                 : " (last: " + last_line + ")"));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    s.ctx.sleep(std::min(s.ctx.poll_interval, left + std::chrono::milliseconds{1}));
  }
}

int cmd_submit(Session& s) {
  LoadedSpec spec;
  if (int rc = load_spec(s, s.opts.args.front(), spec)) return rc;
  if (int rc = read_topology_flags(s, spec)) return rc;
  set_submission_user(s, spec.topology);
  if (int rc = check_topology_defn(s, spec, true)) return rc;
  const auto& t = spec.topology;
  if (int rc = s.open()) return rc;
  const std::string path = s.desired_path(t.name);
  const std::string data = rc::to_json(t);
  auto cur = s.zk->get(path);
  zk::Stat written;
  if (cur) {
    if (node_state(cur->data) != "killed")
      return s.fail(exit_failed, "topology '" + t.name + "' already exists (version " +
                                     std::to_string(cur->stat.version) + "); use update");
    if (s.opts.dry_run) {
      s.ctx.out << "topology '" << t.name << "' is being killed; its spec would be replaced (dry run)\n";
      return exit_ok;
    }
    auto st = s.zk->set(path, data, cur->stat.version);
    if (!st) {
      if (st.error().kind == ErrorKind::conflict || st.error().kind == ErrorKind::not_found)
        return s.fail(exit_failed, "topology '" + t.name + "' changed while it was being submitted; re-run submit");
      return s.zk_fail(st.error(), "writing " + path);
    }
    written = *st;
    s.ctx.out << "topology '" << t.name << "' resubmitted; it was being killed (" << versions(cur->stat.version, written.version) << ")\n";
  } else if (cur.error().kind == ErrorKind::not_found) {
    if (s.opts.dry_run) {
      s.ctx.out << "topology '" << t.name << "' would be created at " << path << " (dry run)\n";
      return exit_ok;
    }
    auto st = create_desired(s, path, data);
    if (!st) {
      if (st.error().kind == ErrorKind::conflict)
        return s.fail(exit_failed, "topology '" + t.name + "' already exists; use update");
      return s.zk_fail(st.error(), "creating " + path);
    }
    written = *st;
    s.ctx.out << "topology '" << t.name << "' submitted (" << path << ", version " << written.version << ")\n";
  } else {
    return s.zk_fail(cur.error(), "reading " + path);
  }
  s.ctx.out.flush();
  if (!s.opts.wait) return exit_ok;
  return wait_for(s, goal_for(t.name, t.state, written.version, written.mzxid));
}

int cmd_update(Session& s) {
  LoadedSpec spec;
  if (int rc = load_spec(s, s.opts.args.front(), spec)) return rc;
  if (int rc = read_topology_flags(s, spec)) return rc;
  auto& t = spec.topology;
  if (int rc = s.open()) return rc;
  const std::string path = s.desired_path(t.name);
  auto cur = s.zk->get(path);
  if (!cur) {
    if (cur.error().kind == ErrorKind::not_found)
      return s.fail(exit_failed, "topology '" + t.name + "' does not exist; use submit");
    return s.zk_fail(cur.error(), "reading " + path);
  }
  keep_heron_fields(spec, cur->data, path + " (version " + std::to_string(cur->stat.version) + ")");
  keep_topology_id(t, cur->data);
  if (int rc = check_topology_defn(s, spec, s.opts.topology_package || s.opts.topology_defn)) return rc;
  const std::int64_t now_version = cur->stat.version;
  const std::int64_t expected = s.opts.expect_version.value_or(now_version);
  const auto changed_meanwhile = [&](std::int64_t now) {
    return s.fail(exit_failed, "the spec of '" + t.name + "' changed since it was read (version " +
                                   std::to_string(expected) + ", now " + std::to_string(now) + "); re-run update");
  };
  if (expected != now_version) return changed_meanwhile(now_version);
  const std::string data = rc::to_json(t);
  if (data == cur->data) {
    s.ctx.out << "topology '" << t.name << "' unchanged (version " << now_version << ")\n" << std::flush;
    if (!s.opts.wait || s.opts.dry_run) return exit_ok;
    return wait_for(s, goal_for(t.name, t.state, now_version, 0));
  }
  if (s.opts.dry_run) {
    s.ctx.out << "topology '" << t.name << "' would be updated (" << versions(now_version, now_version + 1)
              << ", dry run)\n"
              << unified_diff(pretty_or_raw(canonical_desired(cur->data)), pretty_json(data),
                              path + " (version " + std::to_string(now_version) + ")", spec.source);
    return exit_ok;
  }
  auto st = s.zk->set(path, data, static_cast<std::int32_t>(expected));
  if (!st) {
    if (st.error().kind == ErrorKind::conflict) {
      auto again = s.zk->exists(path);
      if (again && *again) return changed_meanwhile((*again)->version);
      return s.fail(exit_failed, "topology '" + t.name + "' was deleted while it was being updated");
    }
    if (st.error().kind == ErrorKind::not_found)
      return s.fail(exit_failed, "topology '" + t.name + "' was deleted while it was being updated");
    return s.zk_fail(st.error(), "writing " + path);
  }
  s.ctx.out << "topology '" << t.name << "' updated (" << versions(expected, st->version) << ")\n" << std::flush;
  if (!s.opts.wait) return exit_ok;
  return wait_for(s, goal_for(t.name, t.state, st->version, st->mzxid));
}

int cmd_set_state(Session& s, rc::DesiredState target) {
  const std::string& name = s.opts.args.front();
  if (int rc = check_name_arg(s, name)) return rc;
  if (int rc = s.open()) return rc;
  const std::string path = s.desired_path(name);
  const char* done = target == rc::DesiredState::killed      ? "kill requested"
                     : target == rc::DesiredState::suspended ? "suspended"
                                                             : "resumed";
  const char* already = target == rc::DesiredState::killed      ? "already being killed"
                        : target == rc::DesiredState::suspended ? "already suspended"
                                                                : "already running";
  for (int attempt = 0; attempt < kStateFlipAttempts; ++attempt) {
    auto cur = s.zk->get(path);
    if (!cur) {
      if (cur.error().kind == ErrorKind::not_found)
        return s.fail(exit_failed, "topology '" + name + "' not found under " + s.topologies_path());
      return s.zk_fail(cur.error(), "reading " + path);
    }
    const std::int64_t version = cur->stat.version;
    auto flipped = with_state(cur->data, target);
    if (!flipped) return s.fail(exit_failed, "the desired node of '" + name + "' " + flipped.error());
    if (flipped->previous == "killed" && target != rc::DesiredState::killed)
      return s.fail(exit_failed, "topology '" + name + "' is being killed; submit it again once it is gone");
    if (flipped->previous == rc::to_string(target)) {
      s.ctx.out << "topology '" << name << "' is " << already << " (version " << version << ")\n" << std::flush;
      if (!s.opts.wait || s.opts.dry_run) return exit_ok;
      return wait_for(s, goal_for(name, target, version, 0));
    }
    if (s.opts.dry_run) {
      s.ctx.out << "topology '" << name << "': state " << flipped->previous << " -> " << rc::to_string(target)
                << " would be written (" << versions(version, version + 1) << ", dry run)\n";
      return exit_ok;
    }
    auto st = s.zk->set(path, flipped->data, static_cast<std::int32_t>(version));
    if (!st) {
      if (st.error().kind == ErrorKind::conflict) continue;  // changed meanwhile: merge again
      if (st.error().kind == ErrorKind::not_found)
        return s.fail(exit_failed, "topology '" + name + "' not found under " + s.topologies_path());
      return s.zk_fail(st.error(), "writing " + path);
    }
    s.ctx.out << "topology '" << name << "' " << done << " (" << versions(version, st->version) << ")\n" << std::flush;
    if (!s.opts.wait) return exit_ok;
    return wait_for(s, goal_for(name, target, st->version, st->mzxid));
  }
  return s.fail(exit_failed, "the spec of '" + name + "' kept changing; gave up after " +
                                 std::to_string(kStateFlipAttempts) + " attempts, re-run the command");
}

}  // namespace hmc::cli
