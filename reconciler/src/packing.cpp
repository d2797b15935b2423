#include "hmc/reconciler/packing.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

namespace hmc::reconciler {
namespace {

// Heron's constants (RoundRobinPacking.java).
constexpr std::int64_t kDaemonRamPadding = kGigabyte;        // stmgr, metricsmgr, ckptmgr
constexpr double kCpuPaddingPerContainer = 1.0;
constexpr std::int64_t kDiskPaddingPerContainer = 12 * kGigabyte;
constexpr std::int64_t kMinRamPerInstance = 16 * kMegabyte;

struct Bad {
  std::string message;
};

// Sums and products of config values are checked: a definition is untrusted
// input, and a rammap entry near 2^63 or a parallelism near 2^31 must be a
// refusal, not signed overflow.
std::int64_t add(std::int64_t a, std::int64_t b, const std::string& what) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) throw Bad{what + " is more than 2^63 bytes"};
  return out;
}

double add(double a, double b, const std::string& what) {
  const double out = a + b;
  if (!std::isfinite(out)) throw Bad{what + " is not a finite number"};
  return out;
}

std::int64_t multiply(std::int64_t a, std::int64_t b, const std::string& what) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) throw Bad{what + " is more than 2^63 bytes"};
  return out;
}

std::optional<std::string> find(const std::map<std::string, std::string>& c, const char* key) {
  auto it = c.find(key);
  if (it == c.end()) return std::nullopt;
  return it->second;
}

std::int64_t parse_bytes(const std::string& key, const std::string& v) {
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec == std::errc::result_out_of_range) throw Bad{key + ": '" + v + "' is out of range"};
  if (ec != std::errc{} || p != v.data() + v.size())
    throw Bad{key + ": '" + v + "' is not a byte count"};
  if (out < 0) throw Bad{key + ": '" + v + "' is negative"};
  return out;
}

double parse_double(const std::string& key, const std::string& v) {
  std::size_t used = 0;
  double out = 0;
  try {
    out = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty()) throw Bad{key + ": '" + v + "' is not a number"};
  // stod takes "nan" and "inf"; Heron's Double.parseDouble does too, but no
  // container can be sized by them.
  if (!std::isfinite(out)) throw Bad{key + ": '" + v + "' is not a finite number"};
  if (out < 0) throw Bad{key + ": '" + v + "' is negative"};
  return out;
}

std::int64_t bytes_or(const PackingInput& in, const char* key, std::int64_t dflt) {
  auto v = find(in.config, key);
  return v ? parse_bytes(key, *v) : dflt;
}

// "spout:1073741824,bolt:2147483648" (TopologyUtils.getComponentRamMapConfig).
template <class T, class Parse>
std::map<std::string, T> component_map(const PackingInput& in, const char* key, Parse parse) {
  std::map<std::string, T> out;
  auto v = find(in.config, key);
  if (!v) return out;
  std::string_view s = *v;
  while (!s.empty()) {
    auto comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    auto colon = item.find(':');
    if (colon == std::string_view::npos)
      throw Bad{std::string(key) + ": '" + std::string(item) + "' is not component:value"};
    out[std::string(item.substr(0, colon))] = parse(key, std::string(item.substr(colon + 1)));
  }
  return out;
}

std::int64_t divide_round(std::int64_t v, std::size_t n) {
  return std::llround(static_cast<double>(v) / static_cast<double>(n));
}

struct Slot {
  std::string component;
  int task_id;
  int index;
};

// calculateInstancesResourceMapInContainer for one resource of one container
// (Heron runs it for RAM, then CPU): instances of mapped components get their
// map entry, the others split what the container has left evenly. `divide`
// rounds as Heron's type does (ByteAmount.divide rounds; CPU divides plainly).
template <class T, class Divide>
std::vector<T> share_in_container(const std::vector<Slot>& slots, const std::map<std::string, T>& map,
                                  T hint, T not_specified, T container_default, T padding,
                                  const char* what, const char* hint_key, int cid, Divide divide) {
  std::vector<T> out(slots.size(), T{});
  const std::string total = std::string("the total instance ") + what + " in container#" + std::to_string(cid);
  T used{};
  std::vector<std::size_t> unspecified;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto it = map.find(slots[i].component);
    if (it != map.end()) {
      out[i] = it->second;
      used = add(used, it->second, total);
    } else {
      unspecified.push_back(i);
    }
  }
  bool throttled = false;
  if (hint != not_specified && used > hint - padding) {
    if (used > hint)
      throw Bad{total + " exceeds " + hint_key};
    throttled = true;
  }
  // Every value is >= 0 (parse_bytes, parse_double) and used <= hint when
  // throttled, so the differences below cannot overflow.
  const T container = hint == not_specified ? container_default : hint;
  if (!unspecified.empty()) {
    const T remaining = throttled ? container - used : container - add(padding, used, total + " with its padding");
    if (remaining <= 0)
      throw Bad{std::string("not enough ") + what + " to allocate for unspecified instances"};
    for (auto i : unspecified) out[i] = divide(remaining, unspecified.size());
  }
  return out;
}

PackedPlan pack(const PackingInput& in) {
  std::int64_t total = 0;
  for (const auto& [name, p] : in.components) {
    if (p < 1) throw Bad{"component " + name + ": parallelism must be >= 1"};
    total += p;
    if (total > kMaxPackedInstances)
      throw Bad{"more than " + std::to_string(kMaxPackedInstances) + " instances (component " + name +
                " has parallelism " + std::to_string(p) + ")"};
  }
  std::int64_t n = 1;
  if (auto v = find(in.config, "topology.stmgrs")) n = parse_bytes("topology.stmgrs", *v);
  if (n < 1) throw Bad{"topology.stmgrs: invalid number of containers " + std::to_string(n)};
  if (n > total)
    throw Bad{"more containers (" + std::to_string(n) + ") allocated than instances (" +
              std::to_string(total) + ")"};

  auto ram_map = component_map<std::int64_t>(in, "topology.component.rammap", parse_bytes);
  auto cpu_map = component_map<double>(in, "topology.component.cpumap", parse_double);

  // Container RAM padding (getContainerRamPadding).
  bool stateful = find(in.config, "topology.reliability.mode").value_or("") == "EFFECTIVELY_ONCE";
  const std::string daemon_ram = "the container RAM padding (stmgr, metricsmgr, ckptmgr RAM)";
  const std::int64_t daemons =
      add(add(bytes_or(in, "topology.stmgr.ram", kDaemonRamPadding),
              bytes_or(in, "topology.metricsmgr.ram", kDaemonRamPadding), daemon_ram),
          bytes_or(in, "topology.stateful.ckptmgr.ram", stateful ? kDaemonRamPadding : 0), daemon_ram);
  const std::int64_t ram_padding = bytes_or(in, "topology.container.ram.padding", daemons);
  const double cpu_padding = kCpuPaddingPerContainer;

  const std::int64_t ram_hint = bytes_or(in, "topology.container.ram", -1);
  const std::int64_t disk_hint = bytes_or(in, "topology.container.disk", -1);
  double cpu_hint = -1.0;
  if (auto v = find(in.config, "topology.container.cpu")) cpu_hint = parse_double("topology.container.cpu", *v);

  // Round-robin allocation; components with more RAM first (ties by name, so
  // the plan is deterministic where Heron iterates a hash set).
  std::vector<std::pair<std::string, int>> sorted = in.components;
  std::stable_sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
    auto ra = ram_map.count(a.first) ? ram_map.at(a.first) : 0;
    auto rb = ram_map.count(b.first) ? ram_map.at(b.first) : 0;
    if (ra != rb) return ra > rb;
    return a.first < b.first;
  });
  std::vector<std::vector<Slot>> alloc(static_cast<std::size_t>(n));
  std::size_t c = 0;
  int task = 1;
  for (const auto& [name, p] : sorted) {
    for (int i = 0; i < p; ++i) {
      alloc[c].push_back({name, task++, i});
      c = (c + 1) % alloc.size();
    }
  }
  std::size_t largest = 0;
  for (const auto& a : alloc) largest = std::max(largest, a.size());

  const std::string default_ram = "the default container RAM (instance RAM x instances + padding)";
  const std::int64_t container_ram_default =
      add(multiply(in.instance_ram, static_cast<std::int64_t>(largest), default_ram), ram_padding, default_ram);
  const double container_cpu_default =
      static_cast<double>(std::lround(in.instance_cpu * static_cast<double>(largest) + cpu_padding));

  PackedPlan plan;
  plan.id = in.topology_id;
  for (std::size_t ci = 0; ci < alloc.size(); ++ci) {
    const auto& slots = alloc[ci];
    const int cid = static_cast<int>(ci) + 1;
    const std::vector<std::int64_t> ram =
        share_in_container(slots, ram_map, ram_hint, std::int64_t{-1}, container_ram_default, ram_padding,
                           "RAM", "topology.container.ram", cid, divide_round);
    const std::vector<double> cpu = share_in_container(
        slots, cpu_map, cpu_hint, -1.0, container_cpu_default, cpu_padding, "CPU",
        "topology.container.cpu", cid, [](double v, std::size_t k) { return v / static_cast<double>(k); });
    PackedContainer pc;
    pc.id = cid;
    std::int64_t cram = 0;
    double ccpu = 0;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (ram[i] < kMinRamPerInstance)
        throw Bad{"component " + slots[i].component + " gets " + std::to_string(ram[i]) +
                  " bytes of RAM per instance; Heron requires at least 16 MB"};
      pc.instances.push_back({slots[i].component, slots[i].task_id, slots[i].index,
                              {cpu[i], ram[i], in.instance_disk}});
      cram = add(cram, ram[i], "the container's RAM");
      ccpu = add(ccpu, cpu[i], "the container's CPU");
    }
    ccpu += cpu_padding;
    if (cpu_hint != -1.0) ccpu = std::min(ccpu, cpu_hint);
    cram = add(cram, ram_padding, "the container's RAM");
    if (ram_hint != -1) cram = std::min(cram, ram_hint);
    const std::string disk = "the container's disk";
    const std::int64_t cdisk =
        disk_hint != -1 ? disk_hint
                        : add(multiply(in.instance_disk, static_cast<std::int64_t>(largest), disk),
                              kDiskPaddingPerContainer, disk);
    pc.required = {std::max(ccpu, cpu_hint), cram, cdisk};
    plan.containers.push_back(std::move(pc));
  }
  return plan;
}

}  // namespace

PackedResource PackedPlan::largest() const {
  PackedResource r;
  for (const auto& c : containers) {
    r.cpu = std::max(r.cpu, c.required.cpu);
    r.ram = std::max(r.ram, c.required.ram);
    r.disk = std::max(r.disk, c.required.disk);
  }
  return r;
}

std::variant<PackedPlan, std::string> round_robin_pack(const PackingInput& in) {
  try {
    return pack(in);
  } catch (const Bad& b) {
    return b.message;
  }
}

}  // namespace hmc::reconciler
