#include "hmc/cli/spec_input.hpp"

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

namespace hmc::cli {

namespace json = boost::json;

namespace {

constexpr int kMaxDepth = 32;

Error spec_error(std::string message) {
  return make_error(ErrorSource::spec, ErrorKind::invalid, std::move(message));
}

// Index of the first byte that is not valid UTF-8 text (or an unexpected
// control character), or npos.
std::size_t first_non_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return i;
      ++i;
      continue;
    }
    int len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return i;
    if (i + len > s.size()) return i;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += static_cast<std::size_t>(len);
  }
  return std::string_view::npos;
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::optional<json::value> parse_integer(std::string_view digits, int base, bool negative) {
  std::uint64_t v = 0;
  for (char c : digits) {
    const int d = is_digit(c) ? c - '0' : (c >= 'a' ? c - 'a' + 10 : c - 'A' + 10);
    if (v > (std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(d)) / static_cast<std::uint64_t>(base))
      return std::nullopt;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  if (negative) {
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return json::value(-static_cast<std::int64_t>(v));
  }
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return json::value(v);
  return json::value(static_cast<std::int64_t>(v));
}

bool is_float_text(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// A plain (unquoted) scalar, resolved like YAML 1.2's core schema. Infinity
// and NaN stay strings: JSON has no such numbers, so the schema refuses them.
json::value resolve_plain(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string_view body = s;
  bool negative = false;
  if (body.front() == '-' || body.front() == '+') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (all_of(body, is_digit)) {
    if (auto v = parse_integer(body, 10, negative)) return *v;
  }
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && all_of(s.substr(2), is_octal)) {
    if (auto v = parse_integer(s.substr(2), 8, false)) return *v;
  }
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && all_of(s.substr(2), is_hex)) {
    if (auto v = parse_integer(s.substr(2), 16, false)) return *v;
  }
  if (is_float_text(s)) {
    const std::string copy(s);
    errno = 0;
    const double d = std::strtod(copy.c_str(), nullptr);
    if (errno == 0 && std::isfinite(d)) return d;
  }
  return json::string(s.data(), s.size());
}

std::string where(std::string_view source, const YAML::Mark& m) {
  std::string out(source);
  if (!m.is_null()) out += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  return out;
}

class YamlConverter {
 public:
  explicit YamlConverter(std::string_view source) : source_(source) {}

  Result<json::value> convert(const YAML::Node& n, int depth) {
    if (depth > kMaxDepth)
      return spec_error(where(source_, n.Mark()) + ": nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (++nodes_ > kMaxSpecBytes / 4 || budget_ > kMaxSpecBytes)
      return spec_error(std::string(source_) + ": the document expands to more than 1 MiB (aliases?)");
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json::value(nullptr);
      case YAML::NodeType::Scalar: {
        const std::string& s = n.Scalar();
        budget_ += s.size();
        // "!" marks a quoted scalar; an explicit !!str tag also means a string.
        if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return json::value(json::string(s));
        return resolve_plain(s);
      }
      case YAML::NodeType::Sequence: {
        json::array a;
        for (const auto& item : n) {
          auto v = convert(item, depth + 1);
          if (!v) return v.error();
          a.push_back(std::move(*v));
        }
        return json::value(std::move(a));
      }
      case YAML::NodeType::Map: {
        json::object o;
        for (const auto& kv : n) {
          if (!kv.first.IsScalar())
            return spec_error(where(source_, kv.first.Mark()) + ": mapping keys must be plain strings");
          const std::string& key = kv.first.Scalar();
          budget_ += key.size();
          if (o.contains(key))
            return spec_error(where(source_, kv.first.Mark()) + ": duplicate key '" + key + "'");
          auto v = convert(kv.second, depth + 1);
          if (!v) return v.error();
          o.emplace(key, std::move(*v));
        }
        return json::value(std::move(o));
      }
    }
    return json::value(nullptr);
  }

 private:
  std::string_view source_;
  std::size_t nodes_ = 0;
  std::size_t budget_ = 0;
};

bool parses_as_json(std::string_view text) {
  json::parse_options opt;
  opt.max_depth = kMaxDepth;
  boost::system::error_code ec;
  (void)json::parse(json::string_view(text.data(), text.size()), ec, {}, opt);
  return !ec;
}

bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  return !resolve_plain(s).is_string();
}

void emit_yaml(YAML::Emitter& e, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        e << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      e << YAML::BeginMap;
      for (const auto& kv : o) {
        e << YAML::Key << std::string(kv.key());
        e << YAML::Value;
        emit_yaml(e, kv.value());
      }
      e << YAML::EndMap;
      return;
    }
    case json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        e << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      e << YAML::BeginSeq;
      for (const auto& item : a) emit_yaml(e, item);
      e << YAML::EndSeq;
      return;
    }
    case json::kind::string: {
      const std::string s(v.get_string());
      if (needs_quotes(s)) e << YAML::DoubleQuoted << s;
      else e << s;
      return;
    }
    case json::kind::null:
      e << YAML::Null;
      return;
    default:
      // Numbers and booleans: their JSON spelling is a valid plain YAML scalar.
      e << json::serialize(v);
      return;
  }
}

void pretty(std::string& out, const json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.get_object().empty()) {
    out += "{\n";
    const auto& o = v.get_object();
    std::size_t i = 0;
    for (const auto& kv : o) {
      out += inner + json::serialize(json::value(kv.key())) + ": ";
      pretty(out, kv.value(), indent + 1);
      out += (++i < o.size()) ? ",\n" : "\n";
    }
    out += pad + "}";
  } else if (v.is_array() && !v.get_array().empty()) {
    out += "[\n";
    const auto& a = v.get_array();
    std::size_t i = 0;
    for (const auto& item : a) {
      out += inner;
      pretty(out, item, indent + 1);
      out += (++i < a.size()) ? ",\n" : "\n";
    }
    out += pad + "]";
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

Result<std::string> read_spec_text(const std::string& path, std::istream& stdin_stream) {
  const std::string name = path == "-" ? std::string("<stdin>") : path;
  std::string text;
  text.resize(kMaxSpecBytes + 1);
  std::size_t got = 0;
  auto read_from = [&](std::istream& in) {
    while (got < text.size() && in) {
      in.read(text.data() + got, static_cast<std::streamsize>(text.size() - got));
      got += static_cast<std::size_t>(in.gcount());
    }
  };
  if (path == "-") {
    read_from(stdin_stream);
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) return spec_error(name + ": cannot read: " + std::strerror(errno));
    read_from(f);
    if (f.bad()) return spec_error(name + ": cannot read: " + std::strerror(errno));
  }
  if (got > kMaxSpecBytes) return spec_error(name + ": larger than 1 MiB; a topology spec is a small YAML or JSON file");
  text.resize(got);
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  if (const auto bad = first_non_text(text); bad != std::string_view::npos) {
    return spec_error(name + ": binary data at byte " + std::to_string(bad) +
                      "; a topology spec is UTF-8 text (YAML or JSON)");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return spec_error(name + ": empty");
  return text;
}

Result<std::string> spec_to_json(std::string_view text, std::string_view source_name) {
  if (parses_as_json(text)) return std::string(text);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return spec_error(where(source_name, e.mark) + ": not valid YAML or JSON: " + e.msg);
  }
  if (docs.empty() || docs.front().IsNull()) return spec_error(std::string(source_name) + ": empty");
  if (docs.size() > 1)
    return spec_error(std::string(source_name) + ": holds " + std::to_string(docs.size()) +
                      " YAML documents; a spec is exactly one");
  if (!docs.front().IsMap())
    return spec_error(where(source_name, docs.front().Mark()) + ": a spec must be a mapping of fields (name: ..., cluster: ...)");
  try {
    YamlConverter conv(source_name);
    auto v = conv.convert(docs.front(), 0);
    if (!v) return v.error();
    return json::serialize(*v);
  } catch (const YAML::Exception& e) {
    return spec_error(where(source_name, e.mark) + ": " + e.msg);
  }
}

std::string json_to_yaml(std::string_view text) {
  const json::value v = json::parse(json::string_view(text.data(), text.size()));
  YAML::Emitter e;
  e.SetIndent(2);
  emit_yaml(e, v);
  std::string out = e.c_str();
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

std::string pretty_json(std::string_view text) {
  const json::value v = json::parse(json::string_view(text.data(), text.size()));
  std::string out;
  pretty(out, v, 0);
  out += '\n';
  return out;
}

}  // namespace hmc::cli
