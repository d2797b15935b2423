#include "fuzz_target.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>

namespace hmc::fuzz {

#ifdef HMC_FUZZ_LIBFUZZER

void fail(const std::string& message) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", message.c_str());
  std::abort();
}

#else

void fail(const std::string& message) { throw std::logic_error(message); }

namespace {
std::map<std::string, Entry, std::less<>>& registry() {
  static std::map<std::string, Entry, std::less<>> targets;
  return targets;
}
}  // namespace

Registration::Registration(const char* name, Entry entry) { registry()[name] = entry; }

Entry find_target(std::string_view name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second;
}

std::vector<std::string> target_names() {
  std::vector<std::string> names;
  for (const auto& [name, entry] : registry()) names.push_back(name);
  return names;
}

#endif

}  // namespace hmc::fuzz
