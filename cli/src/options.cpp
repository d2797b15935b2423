#include "options.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <sstream>

namespace hmc::cli {

namespace po = boost::program_options;

namespace {

constexpr std::string_view kConnectionHelp =
    "Connection (every command that reads or writes ZooKeeper):\n"
    "  --zk HOST:PORT[,HOST:PORT...][/CHROOT]\n"
    "                        ZooKeeper ensemble (env HERON_MARATHON_ZK)\n"
    "  --config DIR          a Heron cluster conf dir; its statemgr.yaml names the\n"
    "                        ensemble (env HERON_MARATHON_CONFIG)\n"
    "  --root PATH           the controller's root node (default /heron-marathon,\n"
    "                        env HERON_MARATHON_ROOT)\n"
    "  --zk-auth-file FILE   digest credentials, one line \"user:password\"\n"
    "                        (env HERON_MARATHON_ZK_AUTH_FILE); never on the command line\n"
    "  --zk-acl LIST         with --zk-auth-file: also grant these identities access\n"
    "                        to the nodes written, e.g. the controller's\n"
    "                        digest:USER:BASE64SHA1:rwcda,... (env HERON_MARATHON_ZK_ACL)\n"
    "  --zk-timeout DUR      how long to try to reach ZooKeeper (default 10s)\n"
    "  -v, --verbose         show the ZooKeeper client library's own warnings\n";

constexpr std::string_view kChangingHelp =
    "Flags of commands that change desired state:\n"
    "  --dry-run             validate and show what would be written; write nothing\n"
    "  --wait                then follow the controller's progress until the topology\n"
    "                        converged (exit 0), failed (exit 1) or --timeout (exit 1)\n"
    "  --timeout DUR         how long --wait waits (default 5m; 500ms, 30s, 10m, 1h)\n";

constexpr std::string_view kExitCodes =
    "Exit codes: 0 done, 1 failed, refused or timed out, 2 usage or validation error,\n"
    "3 ZooKeeper unreachable or credentials refused.\n";

const std::vector<CommandInfo> kCommands = {
    {"submit", "SPEC", "create a topology from a YAML or JSON spec ('-' reads stdin)",
     "Validates SPEC and creates <root>/topologies/<name>. Refused when the topology\n"
     "already exists (use update), unless it is being killed: then the new spec\n"
     "replaces it.\n"
     "\nExamples:\n"
     "  heron-marathon submit word-count.yaml --zk zk1:2181\n"
     "  heron-marathon submit word-count.yaml --wait --timeout 10m\n"
     "  cat word-count.json | heron-marathon submit - --dry-run\n"
     "  heron-marathon submit word-count.yaml --topology-package word-count.tar.gz\n"
     "\n"
     "With a topology package (the .tar.gz `heron submit` builds: the topology jar\n"
     "or pex and <name>.defn) or a .defn file, the desired node carries Heron's\n"
     "topology definition: the controller writes Heron's state from it and sizes\n"
     "the containers from Heron's packing plan. SPEC's `package` stays the URI the\n"
     "containers fetch the package from.\n"
     "\n  --topology-package FILE  read topologyDefnFile (default <name>.defn) from\n"
     "                        this package, or its only top-level *.defn\n"
     "  --topology-defn FILE  read the definition from this .defn file\n"
     "Both are checked before anything is written: the definition must decode,\n"
     "define the topology SPEC names and pack (RoundRobinPacking); containers and\n"
     "resources given in SPEC must agree with the plan.\n",
     1, 1, true, {"topology-package", "topology-defn"}},
    {"update", "SPEC", "replace the spec of an existing topology",
     "Reads the topology's desired node and its version, then writes SPEC only if the\n"
     "node still has that version: a spec changed by someone else meanwhile is never\n"
     "overwritten. --expect-version N writes only if the node is at version N (as\n"
     "shown by list or describe). A spec without topologyId keeps the current one;\n"
     "one without topologyDefn (and neither flag below) keeps the current definition.\n"
     "\n  --expect-version N    refuse unless the desired node is at version N\n"
     "  --topology-package FILE, --topology-defn FILE\n"
     "                        replace the definition (see submit --help)\n"
     "\nExamples:\n"
     "  heron-marathon update word-count.yaml --wait\n"
     "  heron-marathon update word-count.yaml --expect-version 3\n"
     "  heron-marathon diff word-count.yaml && echo unchanged\n",
     1, 1, true, {"expect-version", "topology-package", "topology-defn"}},
    {"kill", "NAME", "kill a topology (the controller removes it, then its desired node)",
     "Sets state: killed. The controller destroys the Marathon group and Heron's\n"
     "state, then deletes the desired node; --wait returns when that node is gone.\n"
     "\nExamples:\n"
     "  heron-marathon kill word-count\n"
     "  heron-marathon kill word-count --wait --timeout 2m\n",
     1, 1, true, {}},
    {"suspend", "NAME", "scale every container of a topology to zero, keeping it",
     "Sets state: suspended. --wait returns when the phase is Suspended.\n"
     "\nExamples:\n"
     "  heron-marathon suspend word-count --wait\n",
     1, 1, true, {}},
    {"resume", "NAME", "bring a suspended topology back",
     "Sets state: running. --wait returns when the phase is Running.\n"
     "\nExamples:\n"
     "  heron-marathon resume word-count --wait\n",
     1, 1, true, {}},
    {"restart", "NAME", "restart every container of a topology, or one with --container N",
     "Raises the topology's restart generation in its desired node (or that of one\n"
     "container: 0 is the TManager, 1..N the workers); the spec is unchanged. The\n"
     "controller clears Marathon's launch backoff of the apps, then restarts them\n"
     "(POST /v2/apps/<id>/restart), forced while a deployment holds them.\n"
     "--wait returns when the phase is Running again.\n"
     "\n  --container N         restart only container N\n"
     "\nExamples:\n"
     "  heron-marathon restart word-count\n"
     "  heron-marathon restart word-count --container 3 --wait\n",
     1, 1, true, {"container"}},
    {"status", "[NAME]", "phase, health and containers of one or all topologies",
     "A table: NAME PHASE HEALTH CONTAINERS UPDATED MESSAGE (MESSAGE is the Failing\n"
     "line (which containers fail, how often, the last failure), the Waiting\n"
     "diagnosis, the last error, or a note that the controller has not yet acted on\n"
     "the newest spec). --output json|yaml prints spec and status in full.\n"
     "\n  -o, --output FORMAT   table (default), json or yaml\n"
     "\nExamples:\n"
     "  heron-marathon status\n"
     "  heron-marathon status word-count --output json\n",
     0, 1, false, {"output"}},
    {"list", "", "the topologies with a desired node",
     "A table: NAME STATE CONTAINERS VERSION.\n"
     "\n  -o, --output FORMAT   table (default), json, yaml or name (one per line)\n"
     "\nExamples:\n"
     "  heron-marathon list\n"
     "  heron-marathon list -o name\n",
     0, 0, false, {"output"}},
    {"describe", "NAME", "spec, status, conditions, Marathon ids and recent errors",
     "Everything known about one topology, for humans; --output json|yaml for tools.\n"
     "\n  -o, --output FORMAT   text (default), json or yaml\n"
     "\nExamples:\n"
     "  heron-marathon describe word-count\n",
     1, 1, false, {"output"}},
    {"diff", "SPEC", "what update would change, field by field",
     "Compares the canonical JSON of the running spec with SPEC, as a unified diff.\n"
     "Exit code 0: no differences, 1: differences, 2: SPEC is invalid.\n"
     "\n  --topology-package FILE, --topology-defn FILE\n"
     "                        as update takes them\n"
     "\nExamples:\n"
     "  heron-marathon diff word-count.yaml\n",
     1, 1, false, {"topology-package", "topology-defn"}},
    {"help", "[COMMAND]", "help on one command", "", 0, 1, false, {}},
    {"version", "", "print the version", "", 0, 0, false, {}},
};

po::options_description all_flags() {
  po::options_description d;
  d.add_options()
      ("zk", po::value<std::string>())
      ("config", po::value<std::string>())
      ("root", po::value<std::string>())
      ("zk-auth-file", po::value<std::string>())
      ("zk-acl", po::value<std::string>())
      ("zk-timeout", po::value<std::string>())
      ("output,o", po::value<std::string>())
      ("timeout", po::value<std::string>())
      ("expect-version", po::value<std::string>())
      ("topology-package", po::value<std::string>())
      ("topology-defn", po::value<std::string>())
      ("container", po::value<std::string>())
      ("wait", po::bool_switch())
      ("dry-run", po::bool_switch())
      ("help,h", po::bool_switch())
      ("version", po::bool_switch())
      ("verbose,v", po::bool_switch())
      ("words", po::value<std::vector<std::string>>());
  return d;
}

bool is_changing_flag(std::string_view f) { return f == "wait" || f == "dry-run" || f == "timeout"; }
bool is_command_flag(std::string_view f) {
  return f == "output" || f == "expect-version" || f == "topology-package" || f == "topology-defn" ||
         f == "container";
}

}  // namespace

const std::vector<CommandInfo>& command_table() { return kCommands; }

const CommandInfo* find_command(std::string_view name) {
  for (const auto& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

std::optional<Options> parse_options(const std::vector<std::string>& args, std::string& error) {
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  try {
    // No abbreviations (--w is not --wait) and no sticky short flags.
    const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing &
                      ~po::command_line_style::allow_sticky;
    po::store(po::command_line_parser(args).options(all_flags()).positional(pos).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    error = e.what();
    return std::nullopt;
  }
  Options o;
  std::vector<std::string> words;
  if (vm.count("words")) words = vm["words"].as<std::vector<std::string>>();
  auto str = [&](const char* k) -> std::optional<std::string> {
    if (vm.count(k)) return vm[k].as<std::string>();
    return std::nullopt;
  };
  o.zk = str("zk");
  o.config = str("config");
  o.root = str("root");
  o.auth_file = str("zk-auth-file");
  o.zk_acl = str("zk-acl");
  o.zk_timeout = str("zk-timeout");
  o.output = str("output");
  o.timeout = str("timeout");
  o.topology_package = str("topology-package");
  o.topology_defn = str("topology-defn");
  o.wait = vm["wait"].as<bool>();
  o.dry_run = vm["dry-run"].as<bool>();
  o.help = vm["help"].as<bool>();
  o.version = vm["version"].as<bool>();
  o.verbose = vm["verbose"].as<bool>();
  if (auto ev = str("expect-version")) {
    const std::string& t = *ev;
    if (t.empty() || t.size() > 10 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoll(t) > 2147483647LL) {
      error = "--expect-version: '" + t + "' is not a node version (an integer >= 0)";
      return std::nullopt;
    }
    o.expect_version = std::stoll(t);
  }
  if (auto cn = str("container")) {
    const std::string& t = *cn;
    if (t.empty() || t.size() > 5 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      error = "--container: '" + t + "' is not a container index (0 for the TManager, 1..containers)";
      return std::nullopt;
    }
    o.container = std::stoll(t);
  }
  if (words.empty()) return o;
  o.command = find_command(words.front());
  if (!o.command) {
    error = "unknown command '" + words.front() + "'";
    return std::nullopt;
  }
  o.args.assign(words.begin() + 1, words.end());
  const auto& c = *o.command;
  for (const auto& kv : vm) {
    const std::string& f = kv.first;
    if (kv.second.defaulted() || f == "words") continue;
    if (kv.second.value().type() == typeid(bool) && !kv.second.as<bool>()) continue;
    const bool allowed = (!is_changing_flag(f) || c.changing) &&
                         (!is_command_flag(f) || std::find(c.flags.begin(), c.flags.end(), f) != c.flags.end());
    if (!allowed) {
      error = "'" + std::string(c.name) + "' takes no --" + f + " flag";
      return std::nullopt;
    }
  }
  if (o.help) return o;
  const int n = static_cast<int>(o.args.size());
  if (n < c.min_args || n > c.max_args) {
    error = std::string(c.name) + ": expected " +
            (c.args.empty() ? std::string("no arguments") : std::string(c.args)) + ", got " +
            (n == 0 ? std::string("none") : std::to_string(n) + " argument" + (n == 1 ? "" : "s"));
    return std::nullopt;
  }
  return o;
}

std::string general_help() {
  std::ostringstream s;
  s << "heron-marathon: run Apache Heron topologies on Marathon, declaratively.\n"
       "It writes desired state to ZooKeeper; the controller makes Marathon match it.\n"
       "\nUsage: heron-marathon COMMAND [ARGS] [FLAGS]\n\nCommands:\n";
  for (const auto& c : kCommands) {
    std::string head = std::string(c.name) + (c.args.empty() ? "" : " " + std::string(c.args));
    s << "  " << head << std::string(head.size() < 18 ? 18 - head.size() : 1, ' ') << c.summary << "\n";
  }
  s << "\n" << kConnectionHelp << "\n" << kChangingHelp << "\n" << kExitCodes
    << "\nRun 'heron-marathon COMMAND --help' for a command's flags and examples.\n";
  return s.str();
}

std::string command_help(const CommandInfo& c) {
  std::ostringstream s;
  s << "heron-marathon " << c.name << (c.args.empty() ? "" : " ") << c.args << ": " << c.summary << "\n\n"
    << "Usage: heron-marathon " << c.name << (c.args.empty() ? "" : " ") << c.args
    << (c.changing ? " [--dry-run] [--wait [--timeout DUR]]" : "") << " [FLAGS]\n\n";
  if (!c.details.empty()) s << c.details << "\n";
  if (c.name != "help" && c.name != "version") {
    if (c.changing) s << kChangingHelp << "\n";
    s << kConnectionHelp << "\n" << kExitCodes;
  }
  return s.str();
}

}  // namespace hmc::cli
