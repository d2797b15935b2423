#include "serial_dispatcher.hpp"

#include "hmc/common/log.hpp"
#include "hmc/common/thread_name.hpp"

#include <exception>

namespace hmc::zk {

SerialDispatcher::SerialDispatcher()
    : queue_(std::make_shared<Queue>()), thread_([q = queue_] {
        name_this_thread("hmc-zk-events");
        run(q);
      }) {}

SerialDispatcher::~SerialDispatcher() {
  {
    std::lock_guard lock(queue_->mu);
    queue_->stopping = true;
  }
  queue_->cv.notify_all();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else if (thread_.joinable()) {
    thread_.join();
  }
}

void SerialDispatcher::post(std::function<void()> task) {
  {
    std::lock_guard lock(queue_->mu);
    queue_->tasks.push_back(std::move(task));
  }
  queue_->cv.notify_one();
}

void SerialDispatcher::run(const std::shared_ptr<Queue>& queue) {
  std::unique_lock lock(queue->mu);
  while (true) {
    queue->cv.wait(lock, [&] { return queue->stopping || !queue->tasks.empty(); });
    if (queue->tasks.empty()) return;  // stopping and drained
    auto task = std::move(queue->tasks.front());
    queue->tasks.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      log::error("zookeeper_callback_failed", {{"error", e.what()}});
    } catch (...) {
      log::error("zookeeper_callback_failed", {{"error", "unknown exception"}});
    }
    task = nullptr;  // captured state is released outside the lock
    lock.lock();
  }
}

}  // namespace hmc::zk
