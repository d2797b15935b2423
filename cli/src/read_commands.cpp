// status, list, describe, diff.

#include "session.hpp"
#include "spec_loader.hpp"
#include "heron_topology.hpp"
#include "topology_input.hpp"

#include "hmc/cli/spec_input.hpp"
#include "hmc/cli/text_diff.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <ostream>
#include <set>

namespace hmc::cli {

namespace json = boost::json;
namespace rc = hmc::reconciler;

namespace {

struct Entry {
  std::string name;
  std::optional<zk::Node> desired;
  std::optional<zk::Node> status;
};

// Reads one node; a missing node is not an error.
Result<std::optional<zk::Node>> get_optional(zk::ZkClient& zk, const std::string& path) {
  auto n = zk.get(path);
  if (n) return std::optional<zk::Node>(std::move(*n));
  if (n.error().kind == ErrorKind::not_found) return std::optional<zk::Node>{};
  return n.error();
}

Result<std::vector<std::string>> children_or_none(zk::ZkClient& zk, const std::string& path) {
  auto c = zk.children(path);
  if (c) return c;
  if (c.error().kind == ErrorKind::not_found) return std::vector<std::string>{};
  return c.error();
}

// The node's value for JSON/YAML output: its JSON, or a note when it is not
// JSON (its bytes may be anything, so they are not copied).
json::value node_value(const std::optional<zk::Node>& n) {
  if (!n) return nullptr;
  boost::system::error_code ec;
  auto v = json::parse(json::string_view(n->data.data(), n->data.size()), ec);
  if (ec) return json::string("<not JSON: " + std::to_string(n->data.size()) + " bytes>");
  return v;
}

json::value entry_value(const Entry& e) {
  json::object o;
  o["name"] = e.name;
  o["version"] = e.desired ? json::value(e.desired->stat.version) : json::value(nullptr);
  o["spec"] = node_value(e.desired);
  o["status"] = node_value(e.status);
  return o;
}

int print_structured(Session& s, const json::value& v, const std::string& format) {
  const std::string text = json::serialize(v);
  if (format == "json") s.ctx.out << pretty_json(text);
  else s.ctx.out << json_to_yaml(text);
  return exit_ok;
}

std::string one_line(std::string s, std::size_t max = 100) {
  // Control characters (newlines, terminal escapes) become spaces.
  std::replace_if(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, ' ');
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

std::string age(std::chrono::system_clock::time_point now, TimePoint then) {
  if (then == TimePoint{}) return "-";
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - then).count();
  if (secs < 0) return "0s";
  if (secs < 120) return std::to_string(secs) + "s";
  if (secs < 120 * 60) return std::to_string(secs / 60) + "m";
  if (secs < 48 * 3600) return std::to_string(secs / 3600) + "h";
  return std::to_string(secs / 86400) + "d";
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

// MESSAGE of the status table: the most useful single line.
std::string status_message(const Entry& e, const std::optional<rc::TopologyStatus>& st) {
  if (!e.desired) return st ? "no desired node (killed or removed)" : "";
  if (!st) return "no status yet: the controller has not acted on it";
  if (st->observed_generation < e.desired->stat.version)
    return "spec version " + std::to_string(e.desired->stat.version) + " not yet acted on (status is of version " +
           std::to_string(st->observed_generation) + ")";
  if (const auto* c = rc::find_condition(st->conditions, rc::kCondFailing);
      c && c->status == rc::ConditionStatus::True)
    return "Failing: " + c->message;
  if (st->phase == rc::Phase::Waiting && st->waiting && !st->waiting->summary.empty()) return st->waiting->summary;
  if (!st->last_error.empty()) return st->last_error;
  if (const auto* c = rc::find_condition(st->conditions, rc::kCondSpecValid);
      c && c->status == rc::ConditionStatus::False)
    return c->message;
  return "";
}

Result<std::vector<Entry>> read_entries(Session& s, const std::vector<std::string>& names) {
  std::vector<Entry> out;
  for (const auto& n : names) {
    Entry e{n, {}, {}};
    auto d = get_optional(*s.zk, s.desired_path(n));
    if (!d) return d.error();
    e.desired = std::move(*d);
    auto st = get_optional(*s.zk, s.status_path(n));
    if (!st) return st.error();
    e.status = std::move(*st);
    out.push_back(std::move(e));
  }
  return out;
}

bool valid_output(Session& s, const std::string& format, std::initializer_list<std::string_view> allowed, int& rc) {
  for (auto a : allowed)
    if (format == a) return true;
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  rc = s.fail(exit_usage, "--output '" + format + "': expected one of " + list);
  return false;
}

void describe_text(Session& s, const Entry& e) {
  auto& out = s.ctx.out;
  const auto now = s.ctx.now();
  out << "Name:           " << e.name << "\n";
  std::optional<rc::DesiredTopology> spec;
  if (e.desired) {
    auto t = rc::parse_desired(e.desired->data);
    out << "Desired node:   " << s.desired_path(e.name) << " (version " << e.desired->stat.version << ")\n";
    if (t) {
      spec = *t;
      std::optional<std::variant<HeronView, std::string>> heron;
      if (!t->topology_defn.empty()) {
        heron = heron_view(t->topology_defn);
        if (const auto* v = std::get_if<HeronView>(&*heron)) size_from_plan(*t, *v);
      }
      out << "State:          " << rc::to_string(t->state) << "\n"
          << "Cluster:        " << t->cluster << "/" << t->role << "/" << t->environ << "\n"
          << "Containers:     " << t->containers << " (+1 TManager), each cpus " << t->resources.cpus << ", mem "
          << t->resources.mem << " MB, disk " << t->resources.disk << " MB\n";
      if (!t->image.empty()) out << "Image:          " << t->image << "\n";
      out << "Package:        " << t->package << "\n";
      if (!t->topology_id.empty()) out << "Topology id:    " << t->topology_id << "\n";
      if (!t->submission_user.empty()) out << "Submitted by:   " << t->submission_user << "\n";
      if (heron) describe_heron(out, *heron);
    } else {
      out << "Spec problems:  " << t.error().to_string() << "\n";
    }
  } else {
    out << "Desired node:   none (killed or removed)\n";
  }
  const auto st = e.status ? rc::parse_status(e.status->data) : std::nullopt;
  if (!st) {
    out << "Status:         " << (e.status ? "unreadable status node" : "none yet: the controller has not acted") << "\n";
  } else {
    out << "Phase:          " << rc::to_string(st->phase) << " (observed version " << st->observed_generation << ")\n"
        << "Health:         " << rc::to_string(st->health) << "\n"
        << "Containers:     " << st->running_containers << "/" << st->total_containers << " running\n"
        << "Updated:        " << format_time(st->updated_at) << " (" << age(now, st->updated_at) << " ago)"
        << (st->leader.empty() ? "" : " by " + st->leader) << "\n";
    if (!st->group_id.empty()) out << "Marathon group: " << st->group_id << "\n";
    if (!st->apps.empty()) {
      out << "Marathon apps:\n";
      std::vector<std::vector<std::string>> rows{{"  ID", "INSTANCES", "RUNNING", "STAGED"}};
      for (const auto& a : st->apps)
        rows.push_back({"  " + a.id, std::to_string(a.instances), std::to_string(a.tasks_running),
                        std::to_string(a.tasks_staged)});
      print_table(out, rows);
    }
    if (!st->deployment_ids.empty()) {
      out << "Deployments:   ";
      for (const auto& d : st->deployment_ids) out << " " << d;
      out << "\n";
    }
    if (st->waiting) {
      out << "Waiting:        " << st->waiting->kind << ": " << st->waiting->summary;
      if (st->waiting->since) out << " (since " << age(now, *st->waiting->since) << " ago)";
      out << "\n";
      for (const auto& r : st->waiting->reasons)
        out << "  " << r.reason << ": declined " << r.declined << " of " << r.processed << " offers\n";
    }
    if (const auto* c = rc::find_condition(st->conditions, rc::kCondFailing);
        c && c->status == rc::ConditionStatus::True)
      out << "Failing:        " << one_line(c->message, 1000) << " (since " << age(now, c->last_transition_time)
          << " ago)\n";
    if (!st->last_error.empty()) out << "Last error:     " << one_line(st->last_error, 500) << "\n";
    if (st->retry_count > 0) {
      out << "Retries:        " << st->retry_count;
      if (st->next_retry_time) out << ", next at " << format_time(*st->next_retry_time);
      out << "\n";
    }
    if (!st->conditions.empty()) {
      out << "Conditions:\n";
      std::vector<std::vector<std::string>> rows{{"  TYPE", "STATUS", "REASON", "AGE", "MESSAGE"}};
      for (const auto& c : st->conditions)
        rows.push_back({"  " + c.type, rc::to_string(c.status), c.reason.empty() ? "-" : c.reason,
                        age(now, c.last_transition_time), one_line(c.message)});
      print_table(out, rows);
    }
  }
  if (e.desired) {
    out << "Spec:\n";
    if (spec && !spec->topology_defn.empty())  // bytes, shown above as components and plan
      spec->topology_defn = "<" + std::to_string(spec->topology_defn.size()) + " characters of base64>";
    const std::string text = spec ? rc::to_json(*spec) : e.desired->data;
    std::string body;
    try {
      body = json_to_yaml(text);
    } catch (const std::exception&) {
      body = "<not JSON: " + std::to_string(text.size()) + " bytes>\n";
    }
    std::size_t start = 0;
    while (start < body.size()) {
      const auto nl = body.find('\n', start);
      out << "  " << body.substr(start, nl - start) << "\n";
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
}

}  // namespace

int cmd_status(Session& s) {
  const std::string format = s.opts.output.value_or("table");
  int rc = 0;
  if (!valid_output(s, format, {"table", "json", "yaml"}, rc)) return rc;
  std::vector<std::string> names;
  const bool one = !s.opts.args.empty();
  if (one) {
    if (int r = check_name_arg(s, s.opts.args.front())) return r;
    names.push_back(s.opts.args.front());
  }
  if (int r = s.open()) return r;
  if (!one) {
    auto d = children_or_none(*s.zk, s.topologies_path());
    if (!d) return s.zk_fail(d.error(), "listing " + s.topologies_path());
    auto st = children_or_none(*s.zk, s.status_dir());
    if (!st) return s.zk_fail(st.error(), "listing " + s.status_dir());
    std::set<std::string> all(d->begin(), d->end());
    all.insert(st->begin(), st->end());
    names.assign(all.begin(), all.end());
  }
  auto entries = read_entries(s, names);
  if (!entries) return s.zk_fail(entries.error(), "reading topologies");
  if (one && !entries->front().desired && !entries->front().status)
    return s.fail(exit_failed, "topology '" + names.front() + "' not found under " + s.topologies_path());
  if (format != "table") {
    if (one) return print_structured(s, entry_value(entries->front()), format);
    json::array a;
    for (const auto& e : *entries) a.push_back(entry_value(e));
    return print_structured(s, a, format);
  }
  if (entries->empty()) {
    s.ctx.err << "no topologies under " << s.root << "\n";
    return exit_ok;
  }
  const auto now = s.ctx.now();
  std::vector<std::vector<std::string>> rows{{"NAME", "PHASE", "HEALTH", "CONTAINERS", "UPDATED", "MESSAGE"}};
  for (const auto& e : *entries) {
    const auto st = e.status ? rc::parse_status(e.status->data) : std::nullopt;
    if (st)
      rows.push_back({e.name, rc::to_string(st->phase), rc::to_string(st->health),
                      std::to_string(st->running_containers) + "/" + std::to_string(st->total_containers),
                      age(now, st->updated_at), one_line(status_message(e, st))});
    else
      rows.push_back({e.name, "-", "-", "-", "-", one_line(status_message(e, st))});
  }
  print_table(s.ctx.out, rows);
  return exit_ok;
}

int cmd_list(Session& s) {
  const std::string format = s.opts.output.value_or("table");
  int rc = 0;
  if (!valid_output(s, format, {"table", "json", "yaml", "name"}, rc)) return rc;
  if (int r = s.open()) return r;
  auto names = children_or_none(*s.zk, s.topologies_path());
  if (!names) return s.zk_fail(names.error(), "listing " + s.topologies_path());
  std::sort(names->begin(), names->end());
  if (format == "name") {
    for (const auto& n : *names) s.ctx.out << n << "\n";
    return exit_ok;
  }
  json::array all;
  std::vector<std::vector<std::string>> rows{{"NAME", "STATE", "CONTAINERS", "VERSION"}};
  for (const auto& n : *names) {
    auto d = get_optional(*s.zk, s.desired_path(n));
    if (!d) return s.zk_fail(d.error(), "reading " + s.desired_path(n));
    if (!*d) continue;  // deleted since it was listed
    const auto& node = **d;
    if (format != "table") {
      json::object o;
      o["name"] = n;
      o["version"] = node.stat.version;
      o["spec"] = node_value(*d);
      all.push_back(std::move(o));
      continue;
    }
    auto t = rc::parse_desired(node.data);
    if (t && !t->topology_defn.empty()) {  // containers from Heron's packing plan, as the controller sizes them
      const auto heron = heron_view(t->topology_defn);
      if (const auto* v = std::get_if<HeronView>(&heron)) size_from_plan(*t, *v);
    }
    rows.push_back({n, t ? rc::to_string(t->state) : "invalid", t ? std::to_string(t->containers) : "-",
                    std::to_string(node.stat.version)});
  }
  if (format != "table") return print_structured(s, all, format);
  if (rows.size() == 1) {
    s.ctx.err << "no topologies under " << s.root << "\n";
    return exit_ok;
  }
  print_table(s.ctx.out, rows);
  return exit_ok;
}

int cmd_describe(Session& s) {
  const std::string format = s.opts.output.value_or("text");
  int rc = 0;
  if (!valid_output(s, format, {"text", "json", "yaml"}, rc)) return rc;
  const std::string& name = s.opts.args.front();
  if (int r = check_name_arg(s, name)) return r;
  if (int r = s.open()) return r;
  auto entries = read_entries(s, {name});
  if (!entries) return s.zk_fail(entries.error(), "reading '" + name + "'");
  const auto& e = entries->front();
  if (!e.desired && !e.status)
    return s.fail(exit_failed, "topology '" + name + "' not found under " + s.topologies_path());
  if (format != "text") {
    auto v = entry_value(e);
    if (e.desired)
      if (auto t = rc::parse_desired(e.desired->data); t && !t->topology_defn.empty())
        v.as_object()["heron"] = heron_value(heron_view(t->topology_defn));
    return print_structured(s, v, format);
  }
  describe_text(s, e);
  return exit_ok;
}

int cmd_diff(Session& s) {
  LoadedSpec spec;
  if (int rc = load_spec(s, s.opts.args.front(), spec)) return rc;
  if (int rc = read_topology_flags(s, spec)) return rc;
  auto& t = spec.topology;
  if (int rc = s.open()) return rc;
  const std::string path = s.desired_path(t.name);
  auto cur = get_optional(*s.zk, path);
  if (!cur) return s.zk_fail(cur.error(), "reading " + path);
  std::string before, before_label = "/dev/null (no topology '" + t.name + "')";
  if (*cur) {
    keep_heron_fields(spec, (*cur)->data, path + " (version " + std::to_string((*cur)->stat.version) + ")");
    keep_topology_id(t, (*cur)->data);
    before = pretty_or_raw(canonical_desired((*cur)->data));
    before_label = path + " (version " + std::to_string((*cur)->stat.version) + ")";
  }
  if (int rc = check_topology_defn(s, spec, false)) return rc;
  const std::string d = unified_diff(before, pretty_json(rc::to_json(t)), before_label, spec.source);
  if (d.empty()) return exit_ok;
  s.ctx.out << d;
  return exit_failed;
}

}  // namespace hmc::cli
