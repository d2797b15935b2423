#pragma once
// Marathon's published API examples (test/vectors/marathon-api/examples), read
// by the parser tests.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace hmc::marathon {

// The example file's text; a missing file fails the test and gives "".
inline std::string example(const std::string& name) {
  std::ifstream in(std::string(HMC_MARATHON_EXAMPLES) + "/" + name);
  EXPECT_TRUE(in.good()) << "missing example " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace hmc::marathon
