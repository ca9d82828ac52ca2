#include "mqtt/device_cache.h"

#include "core/thread_name.h"

namespace bysans::mqtt {

Refresher::Refresher() : thread_([this] { Loop(); }) {}

Refresher::~Refresher() { Stop(); }

bool Refresher::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void Refresher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Refresher::Loop() {
  NameThisThread("mqtt-refresh");
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
    if (stop_) break;
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
  tasks_.clear();
}

}  // namespace bysans::mqtt
