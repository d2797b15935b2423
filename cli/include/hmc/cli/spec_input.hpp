#pragma once
// Reading a topology spec file (YAML or JSON) into the JSON text of a desired
// node. Both formats go through the same schema: YAML is converted node by node
// (plain scalars resolved like YAML 1.2's core schema, quoted scalars stay
// strings) and the result is validated by reconciler::parse_desired.

#include "hmc/common/error.hpp"

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>

namespace hmc::cli {

// Specs are small; anything larger is refused before parsing.
inline constexpr std::size_t kMaxSpecBytes = 1024 * 1024;

// Reads `path` ("-" is `stdin_stream`). Errors (source spec, kind invalid):
// unreadable, larger than kMaxSpecBytes, empty, or binary (NUL bytes, control
// characters or invalid UTF-8). Each message starts with the source name.
Result<std::string> read_spec_text(const std::string& path, std::istream& stdin_stream);

// JSON text (returned as is when it parses as JSON) or a single YAML document
// (converted). Errors name the source and, for YAML, the line and column.
// Refuses duplicate keys, non-scalar keys, nesting deeper than 32 levels and
// documents that expand (through aliases) beyond kMaxSpecBytes.
Result<std::string> spec_to_json(std::string_view text, std::string_view source_name);

// The same value as YAML (block style), strings quoted where a plain scalar
// would read back as another type. `json` must be valid JSON.
std::string json_to_yaml(std::string_view json);

// The same value as indented JSON, one field or array element per line, keys in
// their original order (stable input for diffs).
std::string pretty_json(std::string_view json);

}  // namespace hmc::cli
