#pragma once
// The config readers take file names: targets write their input into a
// private directory (made once per process, under TMPDIR or /tmp) and read
// it back from there.

#include <string>
#include <string_view>

namespace hmc::fuzz {

// The directory, created on first use. Throws std::runtime_error if it cannot be made.
const std::string& scratch_dir();

// Writes `content` to scratch_dir()/name and returns the path.
std::string write_scratch_file(const std::string& name, std::string_view content);

}  // namespace hmc::fuzz
