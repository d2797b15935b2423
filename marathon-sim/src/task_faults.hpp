#pragma once
// Task faults: containers that fail to start or exit, chosen per app id, fetch
// URI or image pattern (POST /_sim/task-faults, --task-fault). Marathon's
// answer to them (TASK_FAILED, lastTaskFailure, launch backoff) lives in the
// simulator; this is what a fault is and how it is read.

#include <chrono>
#include <string>
#include <string_view>

namespace hmc::marathon_sim {

enum class TaskFaultKind { fetch, image, exit };

struct TaskFault {
  std::string id;  // given or assigned when added
  TaskFaultKind kind = TaskFaultKind::exit;
  // Globs (`*` is any text, `/` included); empty matches anything. At least
  // one is set; a task matches when all that are set match.
  std::string app, fetch_uri, image;
  std::chrono::milliseconds after_running{0};  // exit only: 0 fails while starting
  int exit_code = 1;                           // exit only
  std::string message;                         // empty: Mesos-like text by kind
};

// A fault from its JSON text. Throws std::invalid_argument naming the field.
TaskFault parse_task_fault(std::string_view json_text);

// The fault as GET /_sim/task-faults lists it (JSON text).
std::string task_fault_json(const TaskFault& f);

// `*` matches any run of characters; everything else itself.
bool glob_match(std::string_view pattern, std::string_view text);

const char* task_fault_kind_name(TaskFaultKind k);

}  // namespace hmc::marathon_sim
