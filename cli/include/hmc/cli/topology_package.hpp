#pragma once
// Reading a Heron topology definition (`<name>.defn`, a serialized
// heron.proto.api.Topology) from a topology package or a file, for
// `heron-marathon submit --topology-package / --topology-defn`. The archive
// library stays in the implementation.

#include "hmc/common/error.hpp"

#include <cstddef>
#include <string>

namespace hmc::cli {

struct PackageDefn {
  std::string entry;  // the archive member it came from, e.g. "word-count.defn"
  std::string bytes;
};

// Reads the top-level member `wanted` of the package at `path` (a tar archive,
// plain or compressed with gzip, bzip2 or xz, as `heron submit` and the Mesos
// fetcher handle it; "./" prefixes are ignored). When `wanted` is missing and
// `take_only_defn` is set, the only top-level `*.defn` is taken instead.
// Errors (source spec, kind invalid), each naming the package: unreadable or
// not such an archive (libarchive's message), no such member (the message
// lists what the package has), the member is larger than `max_bytes` or empty.
Result<PackageDefn> read_package_defn(const std::string& path, const std::string& wanted, bool take_only_defn,
                                      std::size_t max_bytes);

// The bytes of a .defn file. Errors (source spec, kind invalid), naming the
// file: unreadable, not a regular file, empty or larger than `max_bytes`.
Result<std::string> read_defn_file(const std::string& path, std::size_t max_bytes);

}  // namespace hmc::cli
