#pragma once
// The command line of heron-marathon: commands, flags, help texts.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hmc::cli {

struct CommandInfo {
  std::string_view name;
  std::string_view args;      // "SPEC", "[NAME]"
  std::string_view summary;   // one line
  std::string_view details;   // paragraphs and examples for --help
  int min_args = 0;
  int max_args = 0;
  bool changing = false;      // takes --wait, --timeout, --dry-run
  std::vector<std::string_view> flags;  // command-specific flags beyond those
};

struct Options {
  const CommandInfo* command = nullptr;  // null: no command given
  std::vector<std::string> args;
  std::optional<std::string> zk, config, root, auth_file, zk_timeout, output, timeout;
  std::optional<std::string> zk_acl;  // --zk-acl: identities granted access to created nodes
  std::optional<long long> expect_version;
  // --topology-package FILE / --topology-defn FILE: the topology's Heron definition.
  std::optional<std::string> topology_package, topology_defn;
  std::optional<long long> container;  // restart --container N
  bool wait = false;
  bool dry_run = false;
  bool help = false;
  bool version = false;
  bool verbose = false;  // show the ZooKeeper library's log lines
};

const std::vector<CommandInfo>& command_table();
const CommandInfo* find_command(std::string_view name);

// Parses `args`; on a usage error returns nullopt and sets `error`.
std::optional<Options> parse_options(const std::vector<std::string>& args, std::string& error);

std::string general_help();
std::string command_help(const CommandInfo& c);

}  // namespace hmc::cli
