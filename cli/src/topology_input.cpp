#include "topology_input.hpp"

#include "heron_topology.hpp"

#include "hmc/cli/topology_package.hpp"
#include "hmc/common/base64.hpp"

#include <ostream>
#include <pwd.h>
#include <unistd.h>

namespace hmc::cli {

namespace rc = hmc::reconciler;

int read_topology_flags(Session& s, LoadedSpec& spec) {
  const auto& pkg = s.opts.topology_package;
  const auto& defn = s.opts.topology_defn;
  if (!pkg && !defn) return exit_ok;
  if (pkg && defn) return s.fail(exit_usage, "--topology-package and --topology-defn exclude each other");
  auto& t = spec.topology;
  if (!t.topology_defn.empty())
    return s.fail(exit_usage, spec.source + " already has a topologyDefn; give the definition either there or by " +
                                  (pkg ? "--topology-package" : "--topology-defn") + ", not both");
  std::string bytes;
  if (pkg) {
    const std::string wanted = t.topology_defn_file.empty() ? t.name + ".defn" : t.topology_defn_file;
    auto d = read_package_defn(*pkg, wanted, t.topology_defn_file.empty(), rc::kMaxTopologyDefnBytes);
    if (!d) return s.fail(exit_usage, d.error().message);
    // The executors read the same file from the package they fetch.
    if (d->entry != wanted) t.topology_defn_file = d->entry;
    spec.defn_source = d->entry + " in " + *pkg;
    bytes = std::move(d->bytes);
  } else {
    auto d = read_defn_file(*defn, rc::kMaxTopologyDefnBytes);
    if (!d) return s.fail(exit_usage, d.error().message);
    spec.defn_source = *defn;
    bytes = std::move(*d);
  }
  t.topology_defn = base64_encode(bytes);
  t.containers_set = spec.gave_containers;
  t.resources_set = spec.gave_resources;
  if (t.topology_id.empty()) {
    // Heron's id of this submission; a definition that does not decode is
    // reported by check_topology_defn.
    auto h = heron_state::decode_topology(bytes);
    if (auto* ht = std::get_if<heron_state::HeronTopology>(&h)) t.topology_id = ht->id;
  }
  return exit_ok;
}

void keep_heron_fields(LoadedSpec& spec, const std::string& current_data, const std::string& current_label) {
  auto cur = rc::parse_desired(current_data);
  if (!cur) return;
  auto& t = spec.topology;
  if (t.topology_defn.empty() && !cur->topology_defn.empty()) {
    t.topology_defn = cur->topology_defn;
    t.containers_set = spec.gave_containers;
    t.resources_set = spec.gave_resources;
    if (t.topology_defn_file.empty()) t.topology_defn_file = cur->topology_defn_file;
    spec.defn_source = "the topologyDefn of " + current_label;
  }
  if (t.submission_user.empty()) t.submission_user = cur->submission_user;
}

void set_submission_user(Session& s, rc::DesiredTopology& t) {
  if (!t.submission_user.empty()) return;
  std::string user;
  for (const char* k : {"LOGNAME", "USER", "LNAME", "USERNAME"}) {
    if (auto v = s.ctx.getenv(k); v && !v->empty()) {
      user = *v;
      break;
    }
  }
  if (user.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) user = pw->pw_name;
  }
  if (user.empty()) return;
  rc::DesiredTopology probe = t;
  probe.submission_user = user;
  for (const auto& e : rc::validate(probe)) {
    if (e.path != "/submissionUser") continue;
    s.ctx.err << "note: the submitting user '" << user << "' is left out of submissionUser (it " << e.message
              << ")\n";
    return;
  }
  t.submission_user = user;
}

int check_topology_defn(Session& s, const LoadedSpec& spec, bool announce) {
  const auto& t = spec.topology;
  if (t.topology_defn.empty()) return exit_ok;
  const std::string source = spec.defn_source.empty() ? "the topologyDefn" : spec.defn_source;
  auto view = heron_view(t.topology_defn);
  if (auto* e = std::get_if<std::string>(&view)) return s.fail(exit_usage, source + ": " + *e);
  const auto& v = std::get<HeronView>(view);
  const auto problems = rc::heron_override_problems(t, heron_definition(v), {spec.source, source});
  if (!problems.empty()) {
    for (const auto& p : problems) s.ctx.err << "error: " << p.message << "\n";
    s.ctx.err.flush();
    return exit_usage;
  }
  if (announce) s.ctx.out << "topology definition " << source << ": " << heron_summary(t, v) << "\n";
  return exit_ok;
}

}  // namespace hmc::cli
