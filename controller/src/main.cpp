// heron-marathon-controller: reconciles Marathon groups with the desired
// topologies stored in ZooKeeper. See docs/architecture.md.

#include "hmc/common/duration.hpp"
#include "hmc/common/log.hpp"
#include "hmc/controller/controller.hpp"
#include "hmc/heron_config/cluster_config.hpp"
#include "hmc/heron_config/controller_settings.hpp"
#include "hmc/heron_config/zookeeper_endpoint.hpp"
#include "hmc/marathon/dcos_auth.hpp"
#include "hmc/marathon/marathon_client.hpp"
#include "hmc/metrics/controller_metrics.hpp"
#include "hmc/metrics/health_server.hpp"
#include "hmc/zookeeper/zk_client.hpp"

#include <boost/program_options.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <type_traits>
#include <sstream>

#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

namespace po = boost::program_options;
using namespace std::chrono_literals;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::chrono::milliseconds duration_flag(const po::variables_map& vm, const char* name) {
  const auto& s = vm[name].as<std::string>();
  auto d = hmc::parse_duration(s);
  if (!d) throw UsageError(std::string("--") + name + ": '" + s + "' is not a duration (e.g. 500ms, 30s, 10m, 1h)");
  return *d;
}

std::string read_secret_file(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw UsageError(std::string(what) + ": cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string default_identity() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

hmc::controller::ControllerHooks metric_hooks(hmc::metrics::ControllerMetrics& m) {
  using hmc::metrics::ReconcileResult;
  hmc::controller::ControllerHooks h;
  h.reconcile_done = [&m](const std::string& result, double seconds) {
    m.reconcile_done(result == "error"           ? ReconcileResult::error
                     : result == "requeue_after" ? ReconcileResult::requeue_after
                                                 : ReconcileResult::success,
                     seconds);
  };
  h.reconcile_error = [&m] { m.reconcile_error(); };
  h.active_workers = [&m](int n) { m.active_workers(n); };
  h.topologies_by_phase = [&m](const std::map<std::string, int>& counts) {
    m.set_topologies_by_phase(std::map<std::string, long>(counts.begin(), counts.end()));
  };
  h.container_failures = [&m](const std::string& name, int n) { m.add_container_failures(name, n); };
  h.topology_status = [&m](const std::string& name, const hmc::reconciler::TopologyStatus* s) {
    if (!s) m.clear_container_failures(name);
    if (!s || !s->waiting) {
      m.clear_topology(name);
      return;
    }
    double waited = 0;
    if (s->waiting->since) waited = std::chrono::duration<double>(s->updated_at - *s->waiting->since).count();
    m.set_topology_waiting(name, std::max(0.0, waited));
    for (auto& r : s->waiting->reasons) m.set_declined_offers(name, r.reason, r.declined);
  };
  h.drift_repaired = [&m] { m.drift_repaired(); };
  h.leader = [&m](bool leading) { m.set_leader(leading); };
  h.orphan_cleaned = [&m] { m.orphan_cleaned(); };
  h.zk_session = [&m](int state) {
    m.zk_session_state(state);
    if (state == static_cast<int>(hmc::zk::SessionState::expired)) m.zk_session_expired();
  };
  h.tick = [&m](double longest, double unfinished) {
    m.longest_running(longest);
    m.unfinished_work(unfinished);
  };
  h.queue.on_add = [&m] { m.queue_add(); };
  h.queue.on_depth = [&m](std::size_t d) { m.queue_depth(static_cast<long>(d)); };
  h.queue.on_queue_wait = [&m](double s) { m.queue_wait(s); };
  h.queue.on_work_done = [&m](double s) { m.work_time(s); };
  h.queue.on_retry = [&m] { m.retry(); };
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  // Two malloc arenas instead of glibc's default of eight per core: the
  // workers, the observer and the clients' threads each took an arena and
  // kept its freed pages, about 0.9 KiB per topology at 10,000 topologies
  // (docs/benchmarks.md), with no measurable cost in CPU. MALLOC_ARENA_MAX in
  // the environment still decides.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  po::options_description desc(
      "Usage: heron-marathon-controller --zk HOST:PORT[,...] --marathon URL [options]\n\n"
      "Reconciles Marathon groups with the desired Heron topologies stored in ZooKeeper.\n\n"
      "Options");
  // clang-format off
  desc.add_options()
    ("help,h", "show this help")
    ("config", po::value<std::string>(), "Heron cluster conf dir (scheduler.yaml, statemgr.yaml), e.g. conf/marathon")
    ("controller-config", po::value<std::string>(), "the controller's own settings file (conf/controller.yaml)")
    ("zk", po::value<std::string>(), "ZooKeeper connection string HOST:PORT[,...] (env HMC_ZK)")
    ("zk-auth-file", po::value<std::string>(), "file holding ZooKeeper digest credentials user:password")
    ("zk-acl", po::value<std::string>(), "with --zk-auth-file: identities also granted access to the nodes created, scheme:id:perms,... e.g. the CLI's digest:USER:BASE64SHA1:rwcda (env HMC_ZK_ACL)")
    ("zk-session-timeout", po::value<std::string>()->default_value("30s"), "ZooKeeper session timeout")
    ("marathon", po::value<std::string>(), "Marathon base URL, e.g. http://127.0.0.1:8080 (env HMC_MARATHON)")
    ("marathon-token-file", po::value<std::string>(), "file holding the DC/OS token (or env HMC_MARATHON_TOKEN)")
    ("marathon-timeout", po::value<std::string>()->default_value("10s"), "deadline of each Marathon request")
    ("marathon-ca-file", po::value<std::string>(), "CA bundle for https Marathon")
    ("dcos-credential-file", po::value<std::string>(), "DC/OS service-account credential JSON (uid, private_key, login_endpoint, scheme); or env DCOS_SERVICE_ACCOUNT_CREDENTIAL. Logs in instead of a static token")
    ("dcos-token-lifetime", po::value<std::string>()->default_value("1h"), "lifetime assumed for a DC/OS token without an exp claim")
    ("root", po::value<std::string>()->default_value("/heron-marathon"), "controller root node in ZooKeeper")
    ("group-root", po::value<std::string>()->default_value("/heron/topologies"), "Marathon group holding the topologies")
    ("heron-root", po::value<std::string>()->default_value("/heron"), "Heron's state root (heron.statemgr.root.path)")
    ("state-manager-connection", po::value<std::string>(), "ZooKeeper address passed to heron-executor (default: --zk)")
    ("docker-image", po::value<std::string>()->default_value(""), "default executor image (heron.executor.docker.image)")
    ("core-uri", po::value<std::string>()->default_value(""), "default Heron core package URI (heron.package.core.uri)")
    ("workers", po::value<int>()->default_value(4), "concurrent reconciles")
    ("resync-period", po::value<std::string>()->default_value("5m"), "full resync period")
    ("observe-interval", po::value<std::string>()->default_value("200ms"), "minimum time between two bulk Marathon observations")
    ("kill-force-after", po::value<std::string>()->default_value("2m"), "a kill may force Marathon after this long")
    ("deployment-limit-hold", po::value<std::string>()->default_value("200ms"),
     "after Marathon's deployment limit refused a change, others that start a deployment wait this long")
    ("waiting-deadline", po::value<std::string>()->default_value("10m"), "Waiting longer than this is Degraded")
    ("offer-window", po::value<std::string>()->default_value("10m"), "how long declined offers are remembered")
    ("orphan-state-grace", po::value<std::string>()->default_value("5m"), "Heron state with no group and no desired node is cleaned once untouched this long")
    ("waiting-threshold", po::value<std::string>()->default_value("30s"), "queued and overdue this long counts as Waiting")
    ("failure-window", po::value<std::string>()->default_value("10m"), "task failures this recent make a container Failing")
    ("no-leader-election", po::bool_switch(), "act without electing a leader (only safe with a single replica)")
    ("remove-orphan-groups", po::bool_switch(), "delete groups owned by the controller that have no desired node")
    ("qps", po::value<double>()->default_value(10.0), "overall rate of retries")
    ("burst", po::value<int>()->default_value(100), "burst of retries")
    ("identity", po::value<std::string>(), "this replica's name (default host-pid)")
    ("metrics-address", po::value<std::string>()->default_value("127.0.0.1:9464"), "where /metrics is served (empty: off)")
    ("health-address", po::value<std::string>()->default_value("127.0.0.1:9465"), "where /healthz and /readyz are served (empty: off)")
    ("log-level", po::value<std::string>()->default_value("info"), "debug|info|warn|error")
    ("log-format", po::value<std::string>()->default_value("logfmt"), "logfmt|json");
  // clang-format on

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "heron-marathon-controller: " << e.what() << "\n" << desc << "\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }

  try {
    hmc::log::Level level;
    if (!hmc::log::parse_level(vm["log-level"].as<std::string>(), level))
      throw UsageError("--log-level: expected debug, info, warn or error");
    hmc::log::set_level(level);
    hmc::log::Format format;
    if (!hmc::log::parse_format(vm["log-format"].as<std::string>(), format))
      throw UsageError("--log-format: expected logfmt or json");
    hmc::log::set_format(format);

    auto env = [](const char* n) -> std::string {
      const char* v = std::getenv(n);
      return v ? v : "";
    };
    // Precedence: an explicit flag, then --controller-config, then the Heron
    // cluster conf dir (--config), then the built-in defaults.
    auto explicit_flag = [&vm](const char* n) { return vm.count(n) && !vm[n].defaulted(); };
    std::optional<hmc::config::ControllerSettings> settings;
    std::optional<hmc::config::HeronClusterConfig> cluster;
    std::vector<std::string> warnings;
    try {
      if (vm.count("controller-config"))
        settings = hmc::config::load_controller_settings(vm["controller-config"].as<std::string>(), &warnings);
      if (vm.count("config")) cluster = hmc::config::load_cluster_config(vm["config"].as<std::string>(), &warnings);
    } catch (const hmc::config::ConfigError& e) {
      throw UsageError(e.what());
    }
    for (auto& w : warnings) hmc::log::warn("config", {{"warning", w}});
    auto str = [&](const char* flag, const std::string* file) -> std::string {
      if (file && !explicit_flag(flag)) return *file;
      return vm[flag].as<std::string>();
    };
    auto dur = [&](const char* flag, const std::chrono::milliseconds* file) {
      if (file && !explicit_flag(flag)) return *file;
      return duration_flag(vm, flag);
    };
    auto num = [&](const char* flag, const auto* file) {
      using T = std::decay_t<decltype(*file)>;
      if (file && !explicit_flag(flag)) return *file;
      return vm[flag].as<T>();
    };
    const auto* S = settings ? &*settings : nullptr;
    const auto* C = cluster ? &*cluster : nullptr;

    if (S) {
      hmc::log::Level l;
      hmc::log::Format f;
      if (!explicit_flag("log-level") && hmc::log::parse_level(S->log_level, l)) hmc::log::set_level(l);
      if (!explicit_flag("log-format") && hmc::log::parse_format(S->log_format, f)) hmc::log::set_format(f);
    }

    std::string zk_flag = vm.count("zk") ? vm["zk"].as<std::string>() : env("HMC_ZK");
    std::string marathon_url = vm.count("marathon") ? vm["marathon"].as<std::string>() : env("HMC_MARATHON");
    if (marathon_url.empty() && C) marathon_url = C->scheduler.marathon_uri;
    if (zk_flag.empty() && !C) throw UsageError("--zk is required (or HMC_ZK, or --config DIR with statemgr.yaml)");
    if (marathon_url.empty()) throw UsageError("--marathon is required (or HMC_MARATHON, or --config DIR with scheduler.yaml)");

    hmc::controller::ControllerOptions opts;
    opts.root = str("root", S ? &S->controller_root : nullptr);
    opts.workers = num("workers", S ? &S->workers : nullptr);
    if (opts.workers < 1 || opts.workers > 256) throw UsageError("--workers: must be between 1 and 256");
    opts.resync_period = dur("resync-period", S ? &S->resync_period : nullptr);
    opts.min_observe_interval = duration_flag(vm, "observe-interval");
    opts.deployment_limit_hold = duration_flag(vm, "deployment-limit-hold");
    if (opts.deployment_limit_hold.count() <= 0) throw UsageError("--deployment-limit-hold: must be positive");
    opts.offer_window = dur("offer-window", S ? &S->policies.offer_window : nullptr);
    opts.queue.qps = num("qps", S ? &S->marathon.qps : nullptr);
    opts.queue.burst = num("burst", S ? &S->marathon.burst : nullptr);
    opts.leader_election = !vm["no-leader-election"].as<bool>();
    opts.identity = vm.count("identity") ? vm["identity"].as<std::string>() : default_identity();
    auto& rc = opts.reconciler;
    rc.group_root = str("group-root", S ? &S->group_root : nullptr);
    rc.heron_root = str("heron-root", C ? &C->statemgr.root_path : nullptr);
    rc.default_image = str("docker-image", C ? &C->scheduler.docker_image : nullptr);
    rc.default_core_uri = str("core-uri", C ? &C->scheduler.core_uri : nullptr);
    rc.remove_orphan_groups = vm["remove-orphan-groups"].as<bool>() || (S && S->policies.remove_orphan_groups);
    if (S) rc.clean_orphan_heron_state = S->policies.clean_orphan_heron_state;
    rc.kill_force_after = dur("kill-force-after", S ? &S->policies.kill_force_after : nullptr);
    rc.waiting_deadline = dur("waiting-deadline", S ? &S->policies.waiting_deadline : nullptr);
    rc.waiting_threshold = dur("waiting-threshold", S ? &S->policies.waiting_threshold : nullptr);
    rc.orphan_state_grace = dur("orphan-state-grace", S ? &S->policies.orphan_state_grace : nullptr);
    rc.failure_window = dur("failure-window", S ? &S->policies.failure_window : nullptr);
    if (rc.failure_window <= std::chrono::milliseconds::zero())
      throw UsageError("--failure-window: must be greater than 0 (a window of 0 counts no failure)");
    const std::string metrics_address = str("metrics-address", S ? &S->metrics_address : nullptr);
    const std::string health_address = str("health-address", S ? &S->health_address : nullptr);

    // ZooKeeper: the flag, or statemgr.yaml's connection string, through an
    // SSH tunnel when statemgr.yaml asks for one.
    hmc::config::ZooKeeperConnection zk_conn{zk_flag, nullptr};
    if (C) {
      auto r = hmc::config::resolve_zookeeper(C->statemgr, zk_flag,
                                              [](const std::string& m) { hmc::log::info("zookeeper endpoint", {{"detail", m}}); });
      if (!r) {
        hmc::log::error("cannot reach ZooKeeper", {{"error", r.error().message}});
        return kExitRuntime;
      }
      zk_conn = std::move(*r);
    }
    // heron-executor reaches ZooKeeper from inside the cluster: never through our tunnel.
    rc.state_manager_connection = vm.count("state-manager-connection")
                                      ? vm["state-manager-connection"].as<std::string>()
                                      : (!zk_flag.empty() ? zk_flag : C->statemgr.connection_string);

    hmc::marathon::MarathonOptions mopts;
    mopts.base_url = marathon_url;
    mopts.user_agent_suffix = opts.identity;  // tells replicas apart in Marathon's logs
    mopts.request_timeout = dur("marathon-timeout", S ? &S->marathon.request_timeout : nullptr);
    if (S) mopts.max_connections = S->marathon.max_connections;
    if (vm.count("marathon-ca-file")) mopts.ca_file = vm["marathon-ca-file"].as<std::string>();
    try {
      hmc::config::TokenSources ts;
      if (vm.count("marathon-token-file")) ts.token_file_flag = vm["marathon-token-file"].as<std::string>();
      if (S) ts.settings_token_file = S->marathon.token_file;
      if (C) ts.scheduler_token = C->scheduler.auth_token;
      mopts.token = hmc::config::resolve_marathon_token(ts);
    } catch (const hmc::config::ConfigError& e) {
      throw UsageError(e.what());
    }
    // DC/OS service account (docs/dcos.md): the credential is checked here,
    // the login happens once signals are blocked (its client has threads).
    hmc::SystemTimeSource login_clock;
    std::optional<hmc::config::DcosCredentialText> credential_text;
    std::optional<hmc::marathon::ServiceAccountCredential> credential;
    hmc::marathon::TokenSourceOptions login_options;
    try {
      credential_text = hmc::config::resolve_dcos_credential(
          vm.count("dcos-credential-file") ? vm["dcos-credential-file"].as<std::string>() : "",
          S ? S->marathon.dcos_credential_file : "");
    } catch (const hmc::config::ConfigError& e) {
      throw UsageError(e.what());
    }
    if (credential_text) {
      auto parsed = hmc::marathon::parse_service_account_credential(credential_text->json, credential_text->origin);
      if (!parsed) throw UsageError(parsed.error().message);
      credential = std::move(*parsed);
      login_options.default_lifetime = dur("dcos-token-lifetime", S ? &S->marathon.dcos_token_lifetime : nullptr);
      if (login_options.default_lifetime.count() <= 0) throw UsageError("--dcos-token-lifetime: must be positive");
    }

    hmc::zk::ZkOptions zopts;
    zopts.connect = zk_conn.connection_string;
    zopts.session_timeout = dur("zk-session-timeout", C ? &C->statemgr.session_timeout : nullptr);
    if (C) zopts.connect_timeout = C->statemgr.connection_timeout;
    if (vm.count("zk-auth-file")) zopts.digest = read_secret_file(vm["zk-auth-file"].as<std::string>(), "--zk-auth-file");
    if (const std::string acl = vm.count("zk-acl") ? vm["zk-acl"].as<std::string>() : env("HMC_ZK_ACL"); !acl.empty()) {
      auto parsed = hmc::zk::parse_acl_list(acl);
      if (!parsed) throw UsageError("--zk-acl: " + parsed.error().message);
      if (!parsed->empty() && zopts.digest.empty())
        throw UsageError("--zk-acl needs --zk-auth-file: nodes are created with the controller's digest and the list");
      zopts.acl = std::move(*parsed);
    }

    // Signals are taken by the main thread only (sigwait), never by workers.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    // Before the login, which it counts; served once ZooKeeper is connected.
    hmc::metrics::ControllerMetrics metrics(HMC_VERSION, opts.identity);

    // Logged in before anything else, so a wrong key, an unknown account or
    // an unreachable endpoint stops the start.
    if (credential) {
      metrics.enable_dcos_login();
      login_options.on_login = [&metrics](const hmc::marathon::LoginOutcome& o) {
        if (o.ok) {
          metrics.dcos_login("success", std::chrono::duration<double>(o.expires_at.time_since_epoch()).count());
        } else if (o.kind == hmc::ErrorKind::unauthorized) {
          metrics.dcos_login("refused");
        } else if (o.kind == hmc::ErrorKind::unavailable || o.kind == hmc::ErrorKind::cancelled) {
          metrics.dcos_login("unavailable");
        } else {
          metrics.dcos_login("error");
        }
      };
      auto transport = hmc::marathon::make_login_transport(credential->login_endpoint, mopts);
      if (!transport) throw UsageError(credential_text->origin + ": " + transport.error().message);
      auto source = std::make_shared<hmc::marathon::ServiceAccountTokenSource>(
          std::move(*credential), std::move(*transport), login_clock, login_options);
      if (auto r = source->login(); !r) {
        hmc::log::error("cannot log in to DC/OS", {{"credential", credential_text->origin},
                                                  {"uid", source->credential().uid},
                                                  {"error", r.error().message}});
        return kExitRuntime;
      }
      if (!mopts.token.empty()) {
        hmc::log::warn("the static Marathon token is ignored: logged in with the DC/OS service account",
                       {{"credential", credential_text->origin}});
        mopts.token.clear();
      }
      mopts.token_provider = std::move(source);
    }
    auto marathon = hmc::marathon::make_client(mopts);
    if (!marathon) throw UsageError("--marathon: " + marathon.error().message);
    auto zk = hmc::zk::connect(zopts);
    if (!zk) {
      hmc::log::error("cannot connect to ZooKeeper", {{"zk", zk_conn.connection_string}, {"error", zk.error().message}});
      return kExitRuntime;
    }

    if (const auto& addr = metrics_address; !addr.empty()) {
      if (auto r = metrics.start_exposer(addr); !r) throw UsageError("--metrics-address: " + r.error().message);
    }
    (*marathon)->set_request_observer([&metrics](const hmc::marathon::RequestRecord& r) {
      metrics.marathon_request(r.method, r.route, r.code, std::chrono::duration<double>(r.duration).count());
    });
    metrics.zk_session_state(static_cast<int>((*zk)->state()));
    metrics.set_leader(!opts.leader_election);

    hmc::SystemTimeSource clock;
    hmc::controller::Controller controller(**zk, **marathon, clock, opts, metric_hooks(metrics));
    if (auto r = controller.start(); !r) {
      if (r.error().kind == hmc::ErrorKind::unauthorized) {
        hmc::log::error("cannot start", {{"error", r.error().message},
                                         {"hint", "ZooKeeper refused access: check --zk-auth-file and the ACL "
                                                  "(--zk-acl) the nodes were created with"}});
        return kExitRuntime;
      }
      hmc::log::error("cannot start", {{"error", r.error().message}});
      return kExitRuntime;
    }
    std::unique_ptr<hmc::metrics::HealthServer> health;
    if (const auto& addr = health_address; !addr.empty()) {
      auto probe = [&controller](bool (hmc::controller::Controller::*check)(std::string*) const) {
        return [&controller, check] {
          std::string why;
          const bool ok = (controller.*check)(&why);
          return hmc::metrics::ProbeResult{ok, why};
        };
      };
      auto h = hmc::metrics::HealthServer::start(addr, probe(&hmc::controller::Controller::healthy),
                                                 probe(&hmc::controller::Controller::ready));
      if (!h) {
        hmc::log::error("cannot serve health endpoints", {{"address", addr}, {"error", h.error().message}});
        controller.stop(1s);
        return kExitUsage;
      }
      health = std::move(*h);
    }
    // Hints to observe sooner: a deployment ended or failed, a group changed
    // (also by hand), an instance changed (a task started, failed or was
    // killed). Not the chattier ones: status_update_event duplicates
    // instance_changed_event, and deployment_info / deployment_step_success
    // report progress the next observation sees anyway; a mass rollout makes
    // tens of thousands of each.
    (*marathon)->subscribe_events(
        {"deployment_success", "deployment_failed", "deployment_step_failure", "group_change_success",
         "instance_changed_event", "app_terminated_event"},
        [&controller](const std::string&, const std::string&) { controller.request_observation(); });

    while (true) {
      int sig = 0;
      sigwait(&sigs, &sig);
      if (sig == SIGHUP) {
        hmc::log::info("SIGHUP: resync");
        controller.resync_all();
        controller.request_observation();
        continue;
      }
      hmc::log::info("shutting down", {{"signal", std::to_string(sig)}});
      break;
    }
    controller.stop(5s);
    return kExitOk;
  } catch (const UsageError& e) {
    std::cerr << "heron-marathon-controller: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    hmc::log::error("fatal", {{"error", e.what()}});
    return kExitRuntime;
  }
}
