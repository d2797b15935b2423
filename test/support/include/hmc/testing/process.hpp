#pragma once
// Child processes and loopback ports for integration tests.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace hmc::testing {

// A free TCP port on 127.0.0.1 (bound then released; good enough for tests).
int free_port();

// Polls `pred` every `step` until it returns true or `timeout` passes.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds{20});

// True if something accepts TCP connections on 127.0.0.1:port.
bool port_open(int port);

// A child process in its own process group. The destructor kills the whole
// group (SIGTERM, then SIGKILL after a grace period) and reaps it, so a failing
// test never leaves anything running. stdout and stderr go to `log_file`.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(std::vector<std::string> argv, std::string log_file,
               std::map<std::string, std::string> extra_env = {});
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();                    // not exited yet
  void signal(int sig);              // to the whole process group
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit status (waitpid form).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds{5000});
  void kill_hard();                  // SIGKILL and reap
  // Waits for exit; returns the exit code (or 128+signal), -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  const std::string& log_file() const { return log_file_; }
  std::string log() const;           // the log file's contents so far

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string log_file_;
};

// Runs a command to completion, capturing stdout and stderr (merged unless
// `stderr_out` is given). Returns the exit code (128+signal if killed).
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                          std::chrono::milliseconds timeout = std::chrono::milliseconds{60000},
                          const std::map<std::string, std::string>& extra_env = {});

// A fresh temporary directory, removed with everything in it by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);

// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat;
// 0 if it is gone.
double cpu_seconds(pid_t pid);

}  // namespace hmc::testing
