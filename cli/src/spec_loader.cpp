#include "spec_loader.hpp"

#include "hmc/cli/spec_input.hpp"

#include <boost/json.hpp>

#include <ostream>

namespace hmc::cli {

namespace json = boost::json;
namespace rc = hmc::reconciler;

namespace {

std::optional<json::object> as_object(const std::string& data) {
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 32;
  auto v = json::parse(json::string_view(data.data(), data.size()), ec, {}, opt);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

int load_spec(Session& s, const std::string& path, LoadedSpec& out) {
  out.source = path == "-" ? "<stdin>" : path;
  auto text = read_spec_text(path, s.ctx.in);
  if (!text) return s.fail(exit_usage, text.error().message);
  auto js = spec_to_json(*text, out.source);
  if (!js) return s.fail(exit_usage, js.error().message);
  auto t = rc::parse_desired(*js);
  if (!t) {
    s.ctx.err << "error: " << out.source << " is not a valid topology spec:\n";
    for (const auto& e : t.error().errors)
      s.ctx.err << "  " << (e.path.empty() ? "/" : e.path) << ": " << e.message << "\n";
    s.ctx.err.flush();
    return exit_usage;
  }
  out.topology = std::move(*t);
  if (auto o = as_object(*js)) {
    out.gave_containers = o->contains("containers");
    out.gave_resources = o->contains("resources");
  }
  if (!out.topology.topology_defn.empty()) out.defn_source = "the topologyDefn of " + out.source;
  return exit_ok;
}

int check_name_arg(Session& s, const std::string& name) {
  if (auto why = rc::check_name(name); !why.empty())
    return s.fail(exit_usage, "'" + name + "' is not a topology name: " + why);
  return exit_ok;
}

std::string node_state(const std::string& data) {
  auto o = as_object(data);
  if (!o) return {};
  if (auto* v = o->if_contains("state"); v && v->is_string()) return std::string(v->get_string());
  return {};
}

void keep_topology_id(rc::DesiredTopology& t, const std::string& current_data) {
  if (!t.topology_id.empty()) return;
  auto o = as_object(current_data);
  if (!o) return;
  if (auto* v = o->if_contains("topologyId"); v && v->is_string()) t.topology_id = std::string(v->get_string());
  if (!rc::validate(t).empty()) t.topology_id.clear();
}

std::string canonical_desired(const std::string& data) {
  if (auto t = rc::parse_desired(data)) return rc::to_json(*t);
  return data;
}

std::string pretty_or_raw(const std::string& text) {
  if (!as_object(text)) return text.empty() || text.back() == '\n' ? text : text + "\n";
  return pretty_json(text);
}

boost::system::result<StateFlip, std::string> with_state(const std::string& data, rc::DesiredState target) {
  StateFlip f;
  if (auto t = rc::parse_desired(data)) {
    f.previous = rc::to_string(t->state);
    t->state = target;
    f.data = rc::to_json(*t);
    return f;
  } else if (target != rc::DesiredState::killed) {
    return {boost::system::in_place_error, "is not a valid spec (" + t.error().to_string() + "); fix it with update first"};
  }
  auto o = as_object(data);
  if (!o) return {boost::system::in_place_error, "is not a JSON object; fix it with update first"};
  f.previous = node_state(data);
  (*o)["state"] = rc::to_string(target);
  f.data = json::serialize(*o);
  return f;
}

}  // namespace hmc::cli
