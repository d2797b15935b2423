#pragma once
// heron-marathon's commands run in process against the in-memory
// FakeZooKeeper: the streams, the environment and the clock are the test's.

#include "hmc/cli/app.hpp"
#include "hmc/testing/fake_zookeeper.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace hmc::testing {

bool contains(const std::string& hay, const std::string& needle);

class InProcessCli : public ::testing::Test {
 protected:
  // `stdin_data` is what `-` reads when run() is not given any.
  explicit InProcessCli(std::string stdin_data = {}, std::map<std::string, std::string> env = {});

  // Runs `args` with `--zk 127.0.0.1:2181` appended; out_ and err_ hold only
  // this run's output.
  int run(std::vector<std::string> args) { return run(std::move(args), stdin_data_); }
  int run(std::vector<std::string> args, const std::string& stdin_data);

  FakeZooKeeper zk_;
  std::istringstream in_;
  std::ostringstream out_, err_;
  std::map<std::string, std::string> env_;  // the command's environment
  // A command's sleeps (--wait polling, retry pauses) return at once; the
  // i-th first runs on_sleep_[i] when there is one, so a test changes
  // ZooKeeper while the command waits. sleeps_ counts them.
  std::vector<std::function<void()>> on_sleep_;
  int sleeps_ = 0;
  cli::Context ctx_;

 private:
  std::string stdin_data_;
};

}  // namespace hmc::testing
