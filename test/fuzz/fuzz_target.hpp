#pragma once
// One fuzz target per parser. HMC_FUZZ_TARGET(name) defines the body once;
// it becomes libFuzzer's LLVMFuzzerTestOneInput in the fuzz build (HMC_FUZZ)
// and a named entry of a registry in the normal build, where the replay test
// (replay_test.cpp) runs every target over its seed corpus and regressions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::fuzz {

using Entry = int (*)(const std::uint8_t* data, std::size_t size);

// A broken invariant found by a target (a round trip that does not hold):
// aborts under libFuzzer, so the input is kept as a crash; throws
// std::logic_error in the replay test, so the test names the input.
[[noreturn]] void fail(const std::string& message);

inline void check(bool ok, const std::string& message) {
  if (!ok) fail(message);
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

#ifndef HMC_FUZZ_LIBFUZZER
struct Registration {
  Registration(const char* name, Entry entry);
};
// The entry registered under `name`, or nullptr.
Entry find_target(std::string_view name);
// Every registered name, sorted.
std::vector<std::string> target_names();
#endif

}  // namespace hmc::fuzz

#ifdef HMC_FUZZ_LIBFUZZER
#define HMC_FUZZ_TARGET(name)                                                            \
  static int hmc_fuzz_##name(const std::uint8_t* data, std::size_t size);                \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {    \
    return hmc_fuzz_##name(data, size);                                                  \
  }                                                                                      \
  static int hmc_fuzz_##name(const std::uint8_t* data, std::size_t size)
#else
#define HMC_FUZZ_TARGET(name)                                                            \
  static int hmc_fuzz_##name(const std::uint8_t* data, std::size_t size);                \
  static const ::hmc::fuzz::Registration hmc_fuzz_registration_##name(#name, &hmc_fuzz_##name); \
  static int hmc_fuzz_##name(const std::uint8_t* data, std::size_t size)
#endif
