#pragma once
// The controller's own settings (conf/controller.yaml): everything that is not
// Heron's. Every key is optional; the defaults below are the documented ones
// (docs/configuration.md). Command-line flags override these values.

#include "hmc/heron_config/cluster_config.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace hmc::config {

struct PolicySettings {
  bool remove_orphan_groups = false;                 // delete managed groups with no desired node
  bool clean_orphan_heron_state = true;              // delete Heron state left by a destroyed group
  std::chrono::milliseconds orphan_state_grace{std::chrono::minutes{5}};
  std::chrono::milliseconds kill_force_after{std::chrono::minutes{2}};
  std::chrono::milliseconds waiting_deadline{std::chrono::minutes{10}};
  std::chrono::milliseconds waiting_threshold{std::chrono::seconds{30}};
  std::chrono::milliseconds offer_window{std::chrono::minutes{10}};
  std::chrono::milliseconds failure_window{std::chrono::minutes{10}};  // task failures this recent: Failing
};

struct MarathonSettings {
  std::chrono::milliseconds request_timeout{std::chrono::seconds{10}};
  int max_connections = 8;
  double qps = 10;
  int burst = 100;
  std::string token_file;  // read by resolve_marathon_token(); never the token itself
  // DC/OS service-account login (resolve_dcos_credential()): the credential
  // file, and the lifetime assumed for a token without an exp claim.
  std::string dcos_credential_file;
  std::chrono::milliseconds dcos_token_lifetime{std::chrono::hours{1}};
};

struct ControllerSettings {
  std::string metrics_address = "127.0.0.1:9464";
  std::string health_address = "127.0.0.1:9465";
  std::chrono::milliseconds resync_period{std::chrono::minutes{5}};
  int workers = 4;
  std::string controller_root = "/heron-marathon";
  std::string group_root = "/heron/topologies";
  PolicySettings policies;
  MarathonSettings marathon;
  std::string log_level = "info";    // debug | info | warn | error
  std::string log_format = "logfmt"; // logfmt | json
};

// Reads the settings file. A missing file is an error (the caller decides
// whether to load one at all). Throws ConfigError; `warnings` may be null.
ControllerSettings load_controller_settings(const std::string& path, std::vector<std::string>* warnings);

// Where the Marathon token comes from, first non-empty wins:
//   1. `token_file_flag` (--marathon-token-file FILE)
//   2. the environment variable HMC_MARATHON_TOKEN
//   3. `settings_token_file` (marathon.token_file in the controller settings)
//   4. `scheduler_token` (heron.marathon.scheduler.auth.token in scheduler.yaml)
// Token files hold the token on their first line; surrounding whitespace is
// dropped. An unreadable or empty token file given explicitly is a
// ConfigError. Returns "" when no source has a token.
struct TokenSources {
  std::string token_file_flag;
  std::string settings_token_file;
  std::string scheduler_token;
};
std::string resolve_marathon_token(const TokenSources& sources);

// The DC/OS service-account credential (JSON with uid, private_key,
// login_endpoint, scheme), first non-empty wins:
//   1. `file_flag` (--dcos-credential-file FILE)
//   2. the environment variable DCOS_SERVICE_ACCOUNT_CREDENTIAL, where
//      Marathon injects the secret on DC/OS
//   3. `settings_file` (marathon.dcos_credential_file)
// `origin` names the source for messages. A file given but unreadable or
// empty is a ConfigError. nullopt when no source has one. The text is not
// parsed here (hmc::marathon::parse_service_account_credential does).
struct DcosCredentialText {
  std::string json;
  std::string origin;  // "DCOS_SERVICE_ACCOUNT_CREDENTIAL" or "--dcos-credential-file <path>"
};
std::optional<DcosCredentialText> resolve_dcos_credential(const std::string& file_flag,
                                                          const std::string& settings_file);

}  // namespace hmc::config
