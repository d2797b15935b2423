#pragma once
// The client's default executor for watch and session callbacks: one thread,
// tasks run in the order they were posted.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace hmc::zk {

class SerialDispatcher {
 public:
  SerialDispatcher();
  // Runs the tasks already posted, then joins the thread. When called from a
  // task (a callback destroying the client), the thread is detached instead.
  ~SerialDispatcher();
  SerialDispatcher(const SerialDispatcher&) = delete;
  SerialDispatcher& operator=(const SerialDispatcher&) = delete;

  // Never blocks on the task; safe from any thread.
  void post(std::function<void()> task);

 private:
  // Shared with the thread so that a detached thread outlives this object.
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> tasks;
    bool stopping = false;
  };
  static void run(const std::shared_ptr<Queue>& queue);

  std::shared_ptr<Queue> queue_;
  std::thread thread_;
};

}  // namespace hmc::zk
