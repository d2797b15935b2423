// Reading a topology definition from packages written here with libarchive's
// writer, in the tar dialects and compressions `heron submit` (Python's
// tarfile: pax by default) and tar(1) produce.

#include "hmc/cli/topology_package.hpp"
#include "hmc/testing/process.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace {

using hmc::cli::read_defn_file;
using hmc::cli::read_package_defn;

constexpr std::size_t kMax = 512 * 1024;

struct Member {
  std::string name;
  std::string data;
  bool directory = false;
};

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

class TopologyPackage : public ::testing::Test {
 protected:
  // Writes an archive of `members` (format and filter as libarchive names them).
  std::string package(const std::vector<Member>& members, const std::string& file = "wc.tar.gz",
                      int (*format)(archive*) = archive_write_set_format_pax_restricted,
                      int (*filter)(archive*) = archive_write_add_filter_gzip) {
    const std::string path = dir_.path() + "/" + file;
    archive* a = archive_write_new();
    EXPECT_EQ(format(a), ARCHIVE_OK);
    EXPECT_EQ(filter(a), ARCHIVE_OK);
    EXPECT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
    for (const auto& m : members) {
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, m.name.c_str());
      archive_entry_set_filetype(e, m.directory ? AE_IFDIR : AE_IFREG);
      archive_entry_set_perm(e, m.directory ? 0755 : 0644);
      archive_entry_set_size(e, m.directory ? 0 : static_cast<la_int64_t>(m.data.size()));
      EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
      if (!m.directory && !m.data.empty()) {
        EXPECT_EQ(archive_write_data(a, m.data.data(), m.data.size()), static_cast<la_ssize_t>(m.data.size()));
      }
      archive_entry_free(e);
    }
    EXPECT_EQ(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return path;
  }

  hmc::testing::TempDir dir_;
};

TEST_F(TopologyPackage, ReadsTheNamedTopLevelMemberInEveryDialectAndCompression) {
  const std::vector<Member> members = {{"./", "", true},
                                       {"./word-count.jar", "PK jar bytes"},
                                       {"./word-count.defn", std::string("\x0a\x04wc-1\x12\x02wc", 10)},
                                       {"./heron-conf/scheduler.yaml", "x: 1\n"}};
  struct Case {
    const char* file;
    int (*format)(archive*);
    int (*filter)(archive*);
  } cases[] = {
      {"pax.tar.gz", archive_write_set_format_pax_restricted, archive_write_add_filter_gzip},
      {"gnu.tar.gz", archive_write_set_format_gnutar, archive_write_add_filter_gzip},
      {"ustar.tar", archive_write_set_format_ustar, archive_write_add_filter_none},
      {"pax.tar.xz", archive_write_set_format_pax_restricted, archive_write_add_filter_xz},
      {"pax.tar.bz2", archive_write_set_format_pax_restricted, archive_write_add_filter_bzip2},
  };
  for (const auto& c : cases) {
    const auto path = package(members, c.file, c.format, c.filter);
    auto d = read_package_defn(path, "word-count.defn", true, kMax);
    ASSERT_TRUE(d) << c.file << ": " << d.error().message;
    EXPECT_EQ(d->entry, "word-count.defn") << c.file;
    EXPECT_EQ(d->bytes, std::string("\x0a\x04wc-1\x12\x02wc", 10)) << c.file;
  }
}

TEST_F(TopologyPackage, LongNamesThroughPaxHeaders) {
  const std::string name = std::string(150, 'l') + ".defn";  // beyond ustar's 100-byte name field
  const auto path = package({{name, "defn"}});
  auto d = read_package_defn(path, name, false, kMax);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->bytes, "defn");
}

TEST_F(TopologyPackage, AMissingDefinitionListsWhatThePackageHas) {
  const auto path = package({{"word-count.jar", "jar"}, {"lib/word-count.defn", "nested"}, {"conf", "", true}});
  auto d = read_package_defn(path, "word-count.defn", true, kMax);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "no word-count.defn in " + path + " (it has: word-count.jar, lib/word-count.defn)");
}

TEST_F(TopologyPackage, TheOnlyDefinitionIsTakenWhenAllowed) {
  const auto path = package({{"a.jar", "jar"}, {"b.defn", "bytes of b"}});
  auto d = read_package_defn(path, "word-count.defn", true, kMax);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->entry, "b.defn");
  EXPECT_EQ(d->bytes, "bytes of b");

  auto named = read_package_defn(path, "word-count.defn", false, kMax);  // topologyDefnFile names another
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().message,
            "no word-count.defn in " + path + " (it has: a.jar, b.defn); set topologyDefnFile to b.defn to use it");

  const auto two = package({{"a.defn", "a"}, {"b.defn", "b"}}, "two.tar.gz");
  auto d2 = read_package_defn(two, "word-count.defn", true, kMax);
  ASSERT_FALSE(d2);
  EXPECT_TRUE(contains(d2.error().message, "(it has: a.defn, b.defn); set topologyDefnFile to the definition to use"))
      << d2.error().message;
}

TEST_F(TopologyPackage, LongListingsAreCut) {
  std::vector<Member> many;
  for (int i = 0; i < 25; ++i) many.push_back({"f" + std::to_string(i) + ".class", "x"});
  auto d = read_package_defn(package(many), "word-count.defn", true, kMax);
  ASSERT_FALSE(d);
  EXPECT_TRUE(contains(d.error().message, "f19.class and 5 more)")) << d.error().message;
  EXPECT_FALSE(contains(d.error().message, "f20.class")) << d.error().message;
}

TEST_F(TopologyPackage, OversizedAndEmptyDefinitionsAreRefused) {
  const auto big = package({{"word-count.defn", std::string(kMax + 1, 'x')}}, "big.tar.gz");
  auto d = read_package_defn(big, "word-count.defn", true, kMax);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "word-count.defn in " + big +
                                   " is larger than 524288 bytes, the most a desired node can carry as topologyDefn");
  EXPECT_TRUE(read_package_defn(big, "word-count.defn", true, kMax + 1)) << "exactly the limit is fine";

  const auto empty = package({{"word-count.defn", ""}}, "empty.tar.gz");
  auto e = read_package_defn(empty, "word-count.defn", true, kMax);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "word-count.defn in " + empty + " is empty");
}

TEST_F(TopologyPackage, WhatIsNoPackageSaysSo) {
  const std::string text = dir_.path() + "/notes.tar.gz";
  hmc::testing::write_file(text, "this is not an archive\n");
  auto d = read_package_defn(text, "word-count.defn", true, kMax);
  ASSERT_FALSE(d);
  EXPECT_TRUE(contains(d.error().message, text + " is not a readable topology package (a tar or tar.gz archive): "))
      << d.error().message;

  // A package cut short in the middle of its data.
  const auto whole = package({{"word-count.jar", std::string(200000, 'j')}, {"word-count.defn", "d"}}, "cut.tar");
  std::string bytes = hmc::testing::read_file(whole);
  hmc::testing::write_file(whole, bytes.substr(0, bytes.size() / 2));
  auto cut = read_package_defn(whole, "word-count.defn", true, kMax);
  ASSERT_FALSE(cut);
  EXPECT_TRUE(contains(cut.error().message, whole)) << cut.error().message;

  auto missing = read_package_defn(dir_.path() + "/none.tar.gz", "word-count.defn", true, kMax);
  ASSERT_FALSE(missing);
  EXPECT_TRUE(contains(missing.error().message, dir_.path() + "/none.tar.gz is not a readable topology package"))
      << missing.error().message;
}

TEST_F(TopologyPackage, DefnFiles) {
  const std::string f = dir_.path() + "/word-count.defn";
  hmc::testing::write_file(f, "defn bytes");
  auto d = read_defn_file(f, kMax);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, "defn bytes");

  EXPECT_EQ(read_defn_file(dir_.path(), kMax).error().message, dir_.path() + ": not a regular file");
  EXPECT_EQ(read_defn_file(dir_.path() + "/x.defn", kMax).error().message,
            dir_.path() + "/x.defn: cannot read it (no such file)");
  hmc::testing::write_file(f, "");
  EXPECT_EQ(read_defn_file(f, kMax).error().message, f + " is empty");
  hmc::testing::write_file(f, std::string(kMax + 1, 'x'));
  EXPECT_EQ(read_defn_file(f, kMax).error().message,
            f + " is larger than 524288 bytes, the most a desired node can carry as topologyDefn");
}

}  // namespace
