#pragma once
// Line diffs in unified format, for `heron-marathon diff`.

#include <string>
#include <string_view>

namespace hmc::cli {

// A unified diff (---/+++ headers, @@ hunks with `context` lines around each
// change) from `before` to `after`; empty when the texts are equal.
std::string unified_diff(std::string_view before, std::string_view after,
                         std::string_view before_label, std::string_view after_label,
                         int context = 3);

}  // namespace hmc::cli
