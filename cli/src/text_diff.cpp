#include "hmc/cli/text_diff.hpp"

#include <algorithm>
#include <vector>

namespace hmc::cli {

namespace {

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  while (!s.empty()) {
    const auto nl = s.find('\n');
    if (nl == std::string_view::npos) {
      lines.push_back(s);
      break;
    }
    lines.push_back(s.substr(0, nl));
    s.remove_prefix(nl + 1);
  }
  return lines;
}

enum class Op { keep, remove, add };
struct Edit {
  Op op;
  std::size_t a;  // index in `before` (keep, remove)
  std::size_t b;  // index in `after` (keep, add)
};

// Common prefix and suffix first, then a longest-common-subsequence table on
// the middle. Above a size limit the middle is shown as replaced wholesale:
// specs are small, so that only happens for inputs nobody reads line by line.
std::vector<Edit> edit_script(const std::vector<std::string_view>& a,
                              const std::vector<std::string_view>& b) {
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  const std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<Edit> edits;
  for (std::size_t i = 0; i < pre; ++i) edits.push_back({Op::keep, i, i});
  if (n * m <= 4'000'000) {
    std::vector<std::vector<std::uint32_t>> lcs(n + 1, std::vector<std::uint32_t>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;)
      for (std::size_t j = m; j-- > 0;)
        lcs[i][j] = a[pre + i] == b[pre + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        edits.push_back({Op::keep, pre + i++, pre + j++});
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        edits.push_back({Op::remove, pre + i++, pre + j});
      } else {
        edits.push_back({Op::add, pre + i, pre + j++});
      }
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) edits.push_back({Op::remove, pre + i, pre});
    for (std::size_t j = 0; j < m; ++j) edits.push_back({Op::add, pre + n, pre + j});
  }
  for (std::size_t k = 0; k < suf; ++k) edits.push_back({Op::keep, pre + n + k, pre + m + k});
  return edits;
}

std::string range(std::size_t start, std::size_t count) {
  // Unified diff numbers lines from 1; an empty range names the line before it.
  const std::size_t first = count == 0 ? start : start + 1;
  return std::to_string(first) + (count == 1 ? "" : "," + std::to_string(count));
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after,
                         std::string_view before_label, std::string_view after_label, int context) {
  if (before == after) return {};
  const auto a = split_lines(before);
  const auto b = split_lines(after);
  const auto edits = edit_script(a, b);
  const std::size_t ctx = static_cast<std::size_t>(std::max(context, 0));

  std::string out = "--- " + std::string(before_label) + "\n+++ " + std::string(after_label) + "\n";
  std::size_t k = 0;
  while (k < edits.size()) {
    while (k < edits.size() && edits[k].op == Op::keep) ++k;
    if (k == edits.size()) break;
    // A hunk: from ctx lines before this change to ctx lines after the last
    // change that is at most 2*ctx unchanged lines away from the previous one.
    std::size_t start = k >= ctx ? k - ctx : 0;
    std::size_t end = k;
    std::size_t last_change = k;
    while (end < edits.size()) {
      if (edits[end].op != Op::keep) last_change = end;
      else if (end - last_change > 2 * ctx) break;
      ++end;
    }
    end = std::min(edits.size(), last_change + 1 + ctx);
    std::size_t a_start = edits[start].a, b_start = edits[start].b, a_count = 0, b_count = 0;
    std::string body;
    for (std::size_t i = start; i < end; ++i) {
      const auto& e = edits[i];
      switch (e.op) {
        case Op::keep:
          body += " " + std::string(a[e.a]) + "\n";
          ++a_count, ++b_count;
          break;
        case Op::remove:
          body += "-" + std::string(a[e.a]) + "\n";
          ++a_count;
          break;
        case Op::add:
          body += "+" + std::string(b[e.b]) + "\n";
          ++b_count;
          break;
      }
    }
    out += "@@ -" + range(a_start, a_count) + " +" + range(b_start, b_count) + " @@\n" + body;
    k = end;
  }
  return out;
}

}  // namespace hmc::cli
