#include "hmc/common/log.hpp"

#include "hmc/common/clock.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace hmc::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<int> g_format{static_cast<int>(Format::logfmt)};
std::mutex g_write_mu;

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

bool is_secret_key(std::string_view k) {
  return k == "token" || k == "password" || k == "authorization" || k == "passphrase";
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_logfmt_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) { quote = true; break; }
  if (!quote) {
    out += v;
    return;
  }
  append_json_string(out, v);
}

}  // namespace

void set_level(Level l) { g_level = static_cast<int>(l); }
void set_format(Format f) { g_format = static_cast<int>(f); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(); }

bool parse_level(std::string_view s, Level& out) {
  if (s == "debug") out = Level::debug;
  else if (s == "info") out = Level::info;
  else if (s == "warn" || s == "warning") out = Level::warn;
  else if (s == "error") out = Level::error;
  else return false;
  return true;
}

bool parse_format(std::string_view s, Format& out) {
  if (s == "logfmt") out = Format::logfmt;
  else if (s == "json") out = Format::json;
  else return false;
  return true;
}

std::string render(Level l, std::string_view event, const Fields& fields) {
  const std::string ts = format_time(Clock::now());
  std::string out;
  out.reserve(128);
  if (static_cast<Format>(g_format.load()) == Format::json) {
    out += "{\"ts\":";
    append_json_string(out, ts);
    out += ",\"level\":";
    append_json_string(out, level_name(l));
    out += ",\"event\":";
    append_json_string(out, event);
    for (auto& [k, v] : fields) {
      out += ',';
      append_json_string(out, k);
      out += ':';
      append_json_string(out, is_secret_key(k) ? std::string_view("<redacted>") : std::string_view(v));
    }
    out += '}';
    return out;
  }
  out += "ts=";
  out += ts;
  out += " level=";
  out += level_name(l);
  out += " event=";
  append_logfmt_value(out, event);
  for (auto& [k, v] : fields) {
    out += ' ';
    out += k;
    out += '=';
    append_logfmt_value(out, is_secret_key(k) ? std::string_view("<redacted>") : std::string_view(v));
  }
  return out;
}

void write(Level l, std::string_view event, const Fields& fields) {
  if (!enabled(l)) return;
  std::string line = render(l, event, fields);
  line += '\n';
  std::lock_guard lock(g_write_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace hmc::log
