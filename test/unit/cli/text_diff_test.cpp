#include "hmc/cli/text_diff.hpp"

#include <gtest/gtest.h>

namespace {

using hmc::cli::unified_diff;

TEST(UnifiedDiff, EqualTextsHaveNoDiff) { EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "x", "y"), ""); }

TEST(UnifiedDiff, OneChangedLineWithContext) {
  EXPECT_EQ(unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nfive\n6\n7\n8\n", "old", "new"),
            "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiff, DistantChangesMakeSeparateHunks) {
  std::string a, b;
  for (int i = 1; i <= 20; ++i) {
    a += std::to_string(i) + "\n";
    b += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
  }
  EXPECT_EQ(unified_diff(a, b, "a", "b"),
            "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+x\n 3\n 4\n 5\n"
            "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+x\n 19\n 20\n");
}

TEST(UnifiedDiff, AgainstNothingEverythingIsAdded) {
  EXPECT_EQ(unified_diff("", "a\nb\n", "/dev/null", "spec"), "--- /dev/null\n+++ spec\n@@ -0,0 +1,2 @@\n+a\n+b\n");
}

TEST(UnifiedDiff, InsertionsKeepTheCommonLines) {
  EXPECT_EQ(unified_diff("a\nc\n", "a\nb\nc\n", "x", "y"), "--- x\n+++ y\n@@ -1,2 +1,3 @@\n a\n+b\n c\n");
}

}  // namespace
