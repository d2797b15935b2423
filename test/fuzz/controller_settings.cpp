// hmc::config::load_controller_settings (conf/controller.yaml) on arbitrary
// bytes. A bad file must be a ConfigError naming the file and the key,
// never another exception or a crash.
#include "fuzz_target.hpp"
#include "scratch_dir.hpp"

#include "hmc/heron_config/controller_settings.hpp"

HMC_FUZZ_TARGET(controller_settings) {
  const std::string path = hmc::fuzz::write_scratch_file("controller.yaml", hmc::fuzz::as_text(data, size));
  std::vector<std::string> warnings;
  try {
    const auto s = hmc::config::load_controller_settings(path, &warnings);
    hmc::fuzz::check(s.resync_period.count() > 0, "resync_period 0 accepted");
    hmc::fuzz::check(s.workers >= 1 && s.marathon.max_connections >= 1 && s.marathon.burst >= 1,
                     "a count below 1 accepted");
    hmc::fuzz::check(s.marathon.qps > 0, "qps <= 0 accepted");
    hmc::fuzz::check(!s.controller_root.empty() && s.controller_root[0] == '/', "relative controller_root");
  } catch (const hmc::config::ConfigError& e) {
    hmc::fuzz::check(e.file() == path, std::string("error names another file: ") + e.what());
  }
  return 0;
}
