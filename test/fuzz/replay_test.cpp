// Runs every fuzz target's entry over its seed corpus and its regressions
// (test/fuzz/corpus.txt), without libFuzzer: the targets keep building with
// the normal compiler and every input found so far keeps passing.

#include "fuzz_target.hpp"

#include <gtest/gtest.h>

#include <glob.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>

namespace {

const std::string kSourceDir = HMC_FUZZ_SOURCE_DIR;

// corpus.txt: "<target> <glob relative to the repository root>" per line;
// '#' starts a comment.
std::map<std::string, std::vector<std::string>> manifest() {
  std::map<std::string, std::vector<std::string>> out;
  std::ifstream in(kSourceDir + "/test/fuzz/corpus.txt");
  if (!in) throw std::runtime_error("cannot read test/fuzz/corpus.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::string target, pattern;
    if (fields >> target >> pattern) out[target].push_back(pattern);
  }
  return out;
}

std::vector<std::string> expand(const std::string& pattern) {
  std::vector<std::string> files;
  glob_t g{};
  if (glob((kSourceDir + "/" + pattern).c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return files;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `entry` on each file; a false invariant (thrown) fails the test with the file's name.
void replay(const std::string& target, hmc::fuzz::Entry entry, const std::vector<std::string>& files) {
  for (const auto& file : files) {
    const std::string bytes = read_file(file);
    try {
      EXPECT_EQ(entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0) << file;
    } catch (const std::exception& e) {
      ADD_FAILURE() << target << " on " << file << ": " << e.what();
    }
  }
}

class FuzzReplay : public testing::TestWithParam<std::string> {};

TEST_P(FuzzReplay, SeedsAndRegressionsPass) {
  const std::string& target = GetParam();
  const hmc::fuzz::Entry entry = hmc::fuzz::find_target(target);
  ASSERT_NE(entry, nullptr) << "corpus.txt names " << target << ", which no target registers";
  const auto listed = manifest();
  for (const auto& pattern : listed.at(target)) {
    const auto files = expand(pattern);
    EXPECT_FALSE(files.empty()) << target << ": " << pattern << " matches no file";
    replay(target, entry, files);
  }
  // Inputs that once broke this target (the folder may not exist).
  replay(target, entry, expand("test/fuzz/regressions/" + target + "/*"));
}

std::vector<std::string> manifest_targets() {
  std::vector<std::string> names;
  for (const auto& [name, patterns] : manifest()) names.push_back(name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, testing::ValuesIn(manifest_targets()),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(FuzzReplay, EveryTargetHasASeedCorpus) {
  const auto listed = manifest();
  for (const auto& name : hmc::fuzz::target_names())
    EXPECT_TRUE(listed.count(name)) << name << " has no line in test/fuzz/corpus.txt";
}

}  // namespace
