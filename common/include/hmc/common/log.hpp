#pragma once
// Structured logs: one line per event, logfmt (key=value) or JSON, to stderr.
//   hmc::log::info("reconciled", {{"topology", name}, {"actions", "2"}});
// Every line about a topology carries topology=<name>. Values are quoted as
// needed. Never pass credentials: there is no redaction beyond keys named
// "token"/"password"/"authorization", which are always replaced by "<redacted>".

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hmc::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { logfmt, json };

using Field = std::pair<std::string_view, std::string>;
using Fields = std::vector<Field>;

// Thread-safe. Defaults: info, logfmt.
void set_level(Level l);
void set_format(Format f);
Level level();
bool parse_level(std::string_view s, Level& out);
bool parse_format(std::string_view s, Format& out);
bool enabled(Level l);

// Renders one line (no trailing newline) without writing it; for tests.
std::string render(Level l, std::string_view event, const Fields& fields);

void write(Level l, std::string_view event, const Fields& fields = {});
inline void debug(std::string_view e, const Fields& f = {}) { if (enabled(Level::debug)) write(Level::debug, e, f); }
inline void info(std::string_view e, const Fields& f = {}) { if (enabled(Level::info)) write(Level::info, e, f); }
inline void warn(std::string_view e, const Fields& f = {}) { write(Level::warn, e, f); }
inline void error(std::string_view e, const Fields& f = {}) { write(Level::error, e, f); }

}  // namespace hmc::log
