#pragma once
// Durations as operators write them: "500ms", "30s", "10m", "1h", "1m30s".

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace hmc {

// nullopt when malformed (empty, unknown unit, missing unit, negative, overflow).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);
// The shortest exact spelling: 90000ms -> "1m30s", 0 -> "0s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace hmc
