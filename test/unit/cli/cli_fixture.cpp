#include "cli_fixture.hpp"

namespace hmc::testing {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

InProcessCli::InProcessCli(std::string stdin_data, std::map<std::string, std::string> env)
    : env_(std::move(env)),
      ctx_{in_,
           out_,
           err_,
           [this](const std::string& k) -> std::optional<std::string> {
             auto it = env_.find(k);
             if (it == env_.end()) return std::nullopt;
             return it->second;
           },
           [this](const zk::ZkOptions& o) { return zk_.connect(o); },
           [] { return std::chrono::system_clock::now(); },
           [this](std::chrono::milliseconds) {
             if (static_cast<std::size_t>(sleeps_) < on_sleep_.size()) on_sleep_[sleeps_]();
             ++sleeps_;
           }},
      stdin_data_(std::move(stdin_data)) {}

int InProcessCli::run(std::vector<std::string> args, const std::string& stdin_data) {
  in_.str(stdin_data);
  in_.clear();
  out_.str("");
  err_.str("");
  args.insert(args.end(), {"--zk", "127.0.0.1:2181"});
  return cli::run(args, ctx_);
}

}  // namespace hmc::testing
