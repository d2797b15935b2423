#pragma once
// Private helpers shared by the reconciler's JSON codecs (Boost.JSON stays
// out of the public headers).

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>
#include <string_view>

namespace hmc::reconciler::detail {

// Integral doubles are written as integers ("cpus": 2, not 2E0), so the
// canonical form reads like what a person would write.
inline boost::json::value number(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
    return boost::json::value(static_cast<std::int64_t>(d));
  return boost::json::value(d);
}

// Parses with a bounded depth; returns null value and sets `err` on failure.
inline boost::json::value parse_bounded(std::string_view text, std::string& err) {
  boost::json::parse_options opt;
  opt.max_depth = 16;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec,
                                            {}, opt);
  if (ec) {
    err = ec.message();
    return nullptr;
  }
  return v;
}

inline std::string serialize(const boost::json::value& v) { return boost::json::serialize(v); }

inline std::string_view sv(const boost::json::string& s) { return {s.data(), s.size()}; }
inline std::string_view sv(boost::json::string_view s) { return {s.data(), s.size()}; }

inline boost::json::array string_array(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

inline boost::json::object string_map(const std::map<std::string, std::string>& m) {
  boost::json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// Marathon constraints: an array of [field, operator, value?] arrays.
inline boost::json::array constraints_json(const std::vector<std::vector<std::string>>& cs) {
  boost::json::array a;
  for (const auto& c : cs) a.emplace_back(string_array(c));
  return a;
}

}  // namespace hmc::reconciler::detail
