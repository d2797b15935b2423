#pragma once
// Names the calling thread as `top -H`, `ps -L` and debuggers show it
// (at most 15 characters; longer names are cut).

#include <pthread.h>

#include <string>

namespace hmc {

inline void name_this_thread(const std::string& name) {
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace hmc
