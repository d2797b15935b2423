#pragma once
// Names the calling thread as `top -H`, `ps -L` and debuggers show it
// (at most 15 characters; longer names are cut), and lowers the scheduling
// priority of a background thread.

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

namespace hmc {

inline void name_this_thread(const std::string& name) {
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

// Linux: a nice value applies to one thread (its tid). When cores are short,
// the thread yields to the others of the process; best effort.
inline void lower_this_thread_priority(int nice_increment) {
  const int current = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), current + nice_increment);
}

}  // namespace hmc
