#include "hmc/cli/app.hpp"

#include "options.hpp"
#include "session.hpp"

#include "hmc/common/duration.hpp"
#include "hmc/common/log.hpp"
#include "hmc/heron_config/cluster_config.hpp"
#include "hmc/heron_config/zookeeper_endpoint.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

namespace hmc::cli {

namespace {

constexpr std::chrono::milliseconds kDefaultZkTimeout{10000};
constexpr std::chrono::milliseconds kMinSessionTimeout{4000};

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// "host:port[,host:port...][/chroot]"; empty on success, else the problem.
std::string check_connect_string(const std::string& s) {
  if (s.empty()) return "is empty";
  const auto slash = s.find('/');
  const std::string hosts = s.substr(0, slash);
  if (hosts.empty()) return "names no host";
  std::size_t start = 0;
  while (start <= hosts.size()) {
    const auto comma = hosts.find(',', start);
    const std::string hp = hosts.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto colon = hp.rfind(':');
    if (hp.empty() || colon == std::string::npos || colon == 0) return "'" + hp + "' is not HOST:PORT";
    const std::string port = hp.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
      return "'" + hp + "' has no valid port (1-65535)";
    for (char c : hp.substr(0, colon)) {
      const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
                      c == '[' || c == ']' || c == ':';
      if (!ok) return "'" + hp + "' is not a host name or address";
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (slash != std::string::npos && s.size() - slash > 1 && s.back() == '/') return "chroot must not end with '/'";
  return {};
}

// A ZooKeeper path the controller lives under.
std::string check_root(const std::string& r) {
  if (r.size() < 2 || r.front() != '/') return "must be an absolute path like /heron-marathon";
  if (r.back() == '/') return "must not end with '/'";
  if (r.size() > 1024) return "is longer than 1024 characters";
  std::size_t start = 1;
  while (start < r.size()) {
    const auto next = r.find('/', start);
    const std::string seg = r.substr(start, next == std::string::npos ? std::string::npos : next - start);
    if (seg.empty()) return "must not contain '//'";
    if (seg == "." || seg == "..") return "must not contain '.' or '..' segments";
    for (char c : seg)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "must not contain control characters";
    if (next == std::string::npos) break;
    start = next + 1;
  }
  return {};
}

}  // namespace

int Session::fail(int code, const std::string& message) const {
  ctx.err << "error: " << message << "\n";
  ctx.err.flush();
  return code;
}

int Session::zk_fail(const Error& e, const std::string& doing) const {
  switch (e.kind) {
    case ErrorKind::unavailable:
    case ErrorKind::session_expired:
    case ErrorKind::cancelled:
      return fail(exit_unavailable, "ZooKeeper at " + connect_string + " is unreachable (" + doing + "): " + e.message);
    case ErrorKind::unauthorized:
      return fail(exit_unavailable, "ZooKeeper refused access (" + doing +
                                        "): not authorised; check --zk-auth-file (and the --zk-acl the nodes "
                                        "were written with): " + e.message);
    default:
      return fail(exit_failed, doing + ": " + e.message);
  }
}

int Session::open() {
  auto env = [&](const char* k) -> std::optional<std::string> {
    auto v = ctx.getenv(k);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  if (auto r = opts.root ? opts.root : env("HERON_MARATHON_ROOT")) {
    if (auto why = check_root(*r); !why.empty()) return fail(exit_usage, "--root '" + *r + "' " + why);
    root = *r;
  }

  std::optional<std::chrono::milliseconds> timeout;
  if (opts.zk_timeout) {
    timeout = parse_duration(*opts.zk_timeout);
    if (!timeout || timeout->count() <= 0)
      return fail(exit_usage, "--zk-timeout '" + *opts.zk_timeout + "' is not a duration like 500ms, 10s or 1m");
  }

  zk::ZkOptions zo;
  zo.connect_timeout = timeout.value_or(kDefaultZkTimeout);
  zo.session_timeout = std::max(zo.connect_timeout, kMinSessionTimeout);

  std::optional<std::string> zk_flag = opts.zk;
  std::optional<std::string> config_dir = opts.config;
  if (!zk_flag && !config_dir) {
    zk_flag = env("HERON_MARATHON_ZK");
    if (!zk_flag) config_dir = env("HERON_MARATHON_CONFIG");
  }
  if (zk_flag) {
    if (auto why = check_connect_string(*zk_flag); !why.empty())
      return fail(exit_usage, "--zk '" + *zk_flag + "' " + why + " (expected HOST:PORT[,HOST:PORT...])");
    zo.connect = *zk_flag;
  } else if (config_dir) {
    config::HeronClusterConfig conf;
    try {
      conf = config::load_cluster_config(*config_dir, nullptr);
    } catch (const config::ConfigError& e) {
      return fail(exit_usage, std::string("--config: ") + e.what());
    }
    const auto& sm = conf.statemgr;
    if (!sm.tunnel.needed) {
      if (auto why = check_connect_string(sm.connection_string); !why.empty())
        return fail(exit_usage, "--config " + *config_dir + ": heron.statemgr.connection.string '" +
                                    sm.connection_string + "' " + why);
    }
    // Direct, or through the SSH tunnel statemgr.yaml asks for; the tunnel
    // lives as long as this session.
    auto resolved = config::resolve_zookeeper(sm, {}, [this](const std::string& line) {
      if (opts.verbose) ctx.err << "tunnel: " << line << "\n";
    });
    if (!resolved) {
      const auto& e = resolved.error();
      const int code = e.kind == ErrorKind::invalid ? exit_usage : exit_unavailable;
      return fail(code, "--config " + *config_dir + ": cannot reach ZooKeeper as statemgr.yaml says: " + e.message);
    }
    tunnel = resolved->tunnel;
    zo.connect = resolved->connection_string;
    if (!timeout) zo.connect_timeout = sm.connection_timeout;
    zo.session_timeout = std::max(sm.session_timeout, kMinSessionTimeout);
  } else {
    return fail(exit_usage, "no ZooKeeper given: pass --zk HOST:PORT or --config DIR, or set HERON_MARATHON_ZK");
  }
  connect_string = zo.connect;

  if (auto file = opts.auth_file ? opts.auth_file : env("HERON_MARATHON_ZK_AUTH_FILE")) {
    std::ifstream f(*file, std::ios::binary);
    if (!f) return fail(exit_usage, "--zk-auth-file " + *file + ": cannot read it");
    std::string text;
    text.resize(4097);
    f.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(f.gcount()));
    if (text.size() > 4096) return fail(exit_usage, "--zk-auth-file " + *file + ": too large for user:password");
    text = trim(text);
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
        text.find_first_of("\r\n") != std::string::npos)
      return fail(exit_usage, "--zk-auth-file " + *file + ": expected one line 'user:password'");
    zo.digest = text;
  }
  if (auto acl = opts.zk_acl ? opts.zk_acl : env("HERON_MARATHON_ZK_ACL")) {
    auto parsed = zk::parse_acl_list(*acl);
    if (!parsed) return fail(exit_usage, "--zk-acl: " + parsed.error().message);
    if (!parsed->empty() && zo.digest.empty())
      return fail(exit_usage, "--zk-acl needs --zk-auth-file: nodes are written with the caller's digest and the list");
    zo.acl = std::move(*parsed);
  }

  auto client = ctx.connect(zo);
  if (!client) {
    const auto& e = client.error();
    if (e.kind == ErrorKind::unauthorized)
      return fail(exit_unavailable, "ZooKeeper at " + zo.connect + " refused the credentials: " + e.message);
    return fail(exit_unavailable, "cannot reach ZooKeeper at " + zo.connect + " within " +
                                      format_duration(zo.connect_timeout) + ": " + e.message);
  }
  zk = std::move(*client);
  return exit_ok;
}

int run(const std::vector<std::string>& args, Context& ctx) {
  std::string error;
  const auto parsed = parse_options(args, error);
  if (!parsed) {
    ctx.err << "error: " << error << "\nRun 'heron-marathon --help' for usage.\n";
    return exit_usage;
  }
  const Options& o = *parsed;
  // The ZooKeeper library logs every failed connection attempt; the CLI says
  // what went wrong in one line of its own, so those lines are only shown on
  // request. Above `error` nothing is enabled.
  log::set_level(o.verbose ? log::Level::warn
                           : static_cast<log::Level>(static_cast<int>(log::Level::error) + 1));
  if (o.version || (o.command && o.command->name == "version")) {
    ctx.out << "heron-marathon " << HMC_VERSION << "\n";
    return exit_ok;
  }
  if (!o.command) {
    ctx.out << general_help();
    return o.help ? exit_ok : exit_usage;
  }
  if (o.help) {
    ctx.out << command_help(*o.command);
    return exit_ok;
  }
  const std::string_view name = o.command->name;
  if (name == "help") {
    if (o.args.empty()) {
      ctx.out << general_help();
      return exit_ok;
    }
    const auto* c = find_command(o.args.front());
    if (!c) {
      ctx.err << "error: unknown command '" << o.args.front() << "'\n";
      return exit_usage;
    }
    ctx.out << command_help(*c);
    return exit_ok;
  }
  Session s(o, ctx);
  if (o.timeout) {
    const auto d = parse_duration(*o.timeout);
    if (!d || d->count() <= 0)
      return s.fail(exit_usage, "--timeout '" + *o.timeout + "' is not a duration like 30s, 5m or 1h");
    if (!o.wait) return s.fail(exit_usage, "--timeout only applies with --wait");
  }
  if (o.wait && o.dry_run) return s.fail(exit_usage, "--wait and --dry-run exclude each other");
  if (name == "submit") return cmd_submit(s);
  if (name == "update") return cmd_update(s);
  if (name == "kill") return cmd_set_state(s, reconciler::DesiredState::killed);
  if (name == "suspend") return cmd_set_state(s, reconciler::DesiredState::suspended);
  if (name == "resume") return cmd_set_state(s, reconciler::DesiredState::running);
  if (name == "status") return cmd_status(s);
  if (name == "list") return cmd_list(s);
  if (name == "describe") return cmd_describe(s);
  if (name == "diff") return cmd_diff(s);
  if (name == "restart") return cmd_restart(s);
  return s.fail(exit_usage, "unknown command '" + std::string(name) + "'");
}

Context process_context() {
  Context ctx{std::cin, std::cout, std::cerr,
              [](const std::string& k) -> std::optional<std::string> {
                if (const char* v = std::getenv(k.c_str())) return std::string(v);
                return std::nullopt;
              },
              [](const zk::ZkOptions& o) { return zk::connect(o); },
              [] { return std::chrono::system_clock::now(); },
              [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }};
  return ctx;
}

}  // namespace hmc::cli
