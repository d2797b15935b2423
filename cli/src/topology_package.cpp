// Topology packages through libarchive: tar has several header dialects
// (ustar, GNU long names, pax extended headers, which Python's tarfile and so
// `heron submit` write by default) and the compression needs its own codec and
// checks; libarchive reads all of them, streaming, in bounded memory.

#include "hmc/cli/topology_package.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <memory>
#include <sys/stat.h>
#include <vector>

namespace hmc::cli {

namespace {

constexpr std::size_t kListedNames = 20;

Error package_error(std::string message) {
  return make_error(ErrorSource::spec, ErrorKind::invalid, std::move(message));
}

// "./a/b" and "a/b" are the same member.
std::string member_name(const char* raw) {
  std::string n = raw ? raw : "";
  while (n.rfind("./", 0) == 0) n.erase(0, 2);
  while (!n.empty() && n.front() == '/') n.erase(0, 1);
  return n;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string listing(const std::vector<std::string>& names) {
  if (names.empty()) return "it has no files";
  std::string out = "it has: ";
  for (std::size_t i = 0; i < names.size() && i < kListedNames; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kListedNames) out += " and " + std::to_string(names.size() - kListedNames) + " more";
  return out;
}

std::string too_large(const std::string& what, std::size_t max_bytes) {
  return what + " is larger than " + std::to_string(max_bytes) +
         " bytes, the most a desired node can carry as topologyDefn";
}

}  // namespace

Result<PackageDefn> read_package_defn(const std::string& path, const std::string& wanted, bool take_only_defn,
                                      std::size_t max_bytes) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  if (!a) return package_error(path + ": cannot allocate an archive reader");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  auto why = [&] {
    const char* m = archive_error_string(a.get());
    return std::string(m ? m : "unknown error");
  };
  if (archive_read_open_filename(a.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK)
    return package_error(path + " is not a readable topology package (a tar or tar.gz archive): " + why());

  std::vector<std::string> files;
  std::vector<std::string> defns;  // top-level *.defn members
  PackageDefn only;                // the first of them, read in case it is the only one
  bool only_complete = false;
  std::string only_problem;

  // Reads the current member's data; an error message or empty.
  auto read_member = [&](archive_entry* e, const std::string& name, std::string& bytes) -> std::string {
    const std::string what = name + " in " + path;
    if (archive_entry_size_is_set(e) && archive_entry_size(e) > static_cast<la_int64_t>(max_bytes))
      return too_large(what, max_bytes);
    bytes.clear();
    char buf[16 * 1024];
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n < 0) return what + " cannot be read: " + why();
      if (n == 0) break;
      if (bytes.size() + static_cast<std::size_t>(n) > max_bytes) return too_large(what, max_bytes);
      bytes.append(buf, static_cast<std::size_t>(n));
    }
    if (bytes.empty()) return what + " is empty";
    return {};
  };

  for (;;) {
    archive_entry* e = nullptr;
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return package_error(path + " is not a readable topology package (a tar or tar.gz archive): " + why());
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    const std::string name = member_name(archive_entry_pathname(e));
    if (name.empty()) continue;
    files.push_back(name);
    const bool top_level = name.find('/') == std::string::npos;
    if (top_level && name == wanted) {
      PackageDefn d{name, {}};
      if (auto problem = read_member(e, name, d.bytes); !problem.empty()) return package_error(problem);
      return d;
    }
    if (top_level && ends_with(name, ".defn")) {
      defns.push_back(name);
      if (defns.size() == 1) {
        only.entry = name;
        only_problem = read_member(e, name, only.bytes);
        only_complete = only_problem.empty();
      }
    }
  }
  if (take_only_defn && defns.size() == 1) {
    if (!only_complete) return package_error(only_problem);
    return only;
  }
  std::string msg = "no " + wanted + " in " + path + " (" + listing(files) + ")";
  if (defns.size() > 1) msg += "; set topologyDefnFile to the definition to use";
  else if (defns.size() == 1) msg += "; set topologyDefnFile to " + defns.front() + " to use it";
  return package_error(msg);
}

Result<std::string> read_defn_file(const std::string& path, std::size_t max_bytes) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return package_error(path + ": cannot read it (no such file)");
  if (!S_ISREG(st.st_mode)) return package_error(path + ": not a regular file");
  std::ifstream f(path, std::ios::binary);
  if (!f) return package_error(path + ": cannot read it");
  std::string bytes(max_bytes + 1, '\0');
  f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(f.gcount()));
  if (bytes.size() > max_bytes) return package_error(too_large(path, max_bytes));
  if (bytes.empty()) return package_error(path + " is empty");
  return bytes;
}

}  // namespace hmc::cli
