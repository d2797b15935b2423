// hmc::config::load_cluster_config (Heron's scheduler.yaml and statemgr.yaml)
// on arbitrary bytes. The input is written as both files, so a seed may be
// either of Heron's files or both concatenated; each file is read with its
// own keys and the other file's keys become warnings. A bad file must be a
// ConfigError naming the file, never another exception or a crash.
#include "fuzz_target.hpp"
#include "scratch_dir.hpp"

#include "hmc/heron_config/cluster_config.hpp"

HMC_FUZZ_TARGET(cluster_config) {
  const auto text = hmc::fuzz::as_text(data, size);
  hmc::fuzz::write_scratch_file("scheduler.yaml", text);
  hmc::fuzz::write_scratch_file("statemgr.yaml", text);
  hmc::config::SubstitutionOptions substitution;
  substitution.cluster = "fuzz";
  substitution.role = "heron";
  substitution.variables = {{"HOME", "/home/heron"}, {"HERON_HOME", "/opt/heron"}};
  std::vector<std::string> warnings;
  try {
    const auto config = hmc::config::load_cluster_config(hmc::fuzz::scratch_dir(), &warnings, substitution);
    hmc::fuzz::check(config.cluster == "fuzz", "cluster name not taken from the options");
    hmc::fuzz::check(config.statemgr.root_path.empty() || config.statemgr.root_path[0] == '/',
                     "relative root path accepted: " + config.statemgr.root_path);
    hmc::fuzz::check(!config.statemgr.tunnel.needed || !config.statemgr.tunnel.host.empty(),
                     "tunnel needed without a host");
  } catch (const hmc::config::ConfigError& e) {
    hmc::fuzz::check(e.file().find(hmc::fuzz::scratch_dir()) == 0, std::string("error names no file: ") + e.what());
  }
  return 0;
}
