#include "restart_codec.hpp"

#include "json_util.hpp"

#include <cmath>
#include <limits>

namespace hmc::reconciler::detail {

namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxGeneration = std::numeric_limits<std::int32_t>::max();

// An integral JSON number, or nullopt.
std::optional<std::int64_t> integral(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return v.get_uint64() > static_cast<std::uint64_t>(kMaxGeneration) * 2
                                ? std::optional<std::int64_t>(kMaxGeneration * 2)
                                : static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double()) {
    const double d = v.get_double();
    if (!std::isfinite(d) || d != std::floor(d)) return std::nullopt;
    if (std::fabs(d) > 4e9) return d > 0 ? kMaxGeneration * 2 : -kMaxGeneration * 2;
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

// "0".."99999" -> index; anything else (signs, spaces, leading zeros) -> -1.
int index_of(std::string_view k) {
  if (k.empty() || k.size() > 5 || (k.size() > 1 && k[0] == '0')) return -1;
  int n = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

void parse_restart(const json::value& v, RestartGenerations& out, std::vector<FieldError>& errs) {
  if (!v.is_object()) {
    errs.push_back({"/restart", "must be an object with generation and/or containers"});
    return;
  }
  for (const auto& kv : v.get_object()) {
    const std::string key(sv(kv.key()));
    if (key == "generation") {
      auto n = integral(kv.value());
      if (!n) errs.push_back({"/restart/generation", "must be an integer"});
      else out.generation = *n;
    } else if (key == "containers") {
      if (!kv.value().is_object()) {
        errs.push_back({"/restart/containers", "must be an object of container index -> generation"});
        continue;
      }
      for (const auto& c : kv.value().get_object()) {
        const std::string ck(sv(c.key()));
        const std::string path = "/restart/containers/" + ck;
        const int index = index_of(ck);
        auto n = integral(c.value());
        if (index < 0) errs.push_back({path, "the key must be a container index (0 for the TManager, 1..containers)"});
        else if (!n) errs.push_back({path, "must be an integer"});
        else out.containers[index] = *n;
      }
    } else {
      errs.push_back({"/restart/" + key, "unknown field"});
    }
  }
}

void validate_restart(const RestartGenerations& r, int containers, std::vector<FieldError>& errs) {
  if (r.generation < 0 || r.generation > kMaxGeneration)
    errs.push_back({"/restart/generation", "must be between 0 and " + std::to_string(kMaxGeneration)});
  for (const auto& [index, gen] : r.containers) {
    const std::string path = "/restart/containers/" + std::to_string(index);
    if (index < 0 || index > containers)
      errs.push_back({path, "no such container: the topology has containers 0.." + std::to_string(containers)});
    else if (gen < 0 || gen > kMaxGeneration)
      errs.push_back({path, "must be between 0 and " + std::to_string(kMaxGeneration)});
  }
}

RestartGenerations read_restart(const json::value& v) {
  RestartGenerations r;
  if (!v.is_object()) return r;
  const auto& o = v.get_object();
  if (const auto* g = o.if_contains("generation")) r.generation = integral(*g).value_or(0);
  if (const auto* c = o.if_contains("containers"); c && c->is_object())
    for (const auto& kv : c->get_object()) {
      const int index = index_of(sv(kv.key()));
      auto n = integral(kv.value());
      if (index >= 0 && n) r.containers[index] = *n;
    }
  return r;
}

json::value restart_json(const RestartGenerations& r) {
  json::object o;
  if (r.generation != 0) o["generation"] = r.generation;
  if (!r.containers.empty()) {
    json::object c;
    for (const auto& [index, gen] : r.containers) c[std::to_string(index)] = gen;
    o["containers"] = std::move(c);
  }
  return o;
}

}  // namespace hmc::reconciler::detail
