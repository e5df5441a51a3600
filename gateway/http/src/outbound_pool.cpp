#include "calgate/http/outbound_pool.hpp"

#include "calgate/core/log.hpp"

namespace calgate::http {

OutboundPool::OutboundPool(OutboundLimits limits) : limits_(limits) {
  if (limits_.threads == 0) limits_.threads = 1;
  if (limits_.perKey == 0) limits_.perKey = 1;
  for (unsigned i = 0; i < limits_.threads; ++i) threads_.emplace_back([this] { loop(); });
}

OutboundPool::~OutboundPool() { stop(); }

OutboundPool::Admission OutboundPool::submit(const std::string& key, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Admission::Stopped;
    unsigned& mine = perKey_[key];
    if (mine >= limits_.perKey) return Admission::KeyBusy;
    if (queue_.size() >= limits_.queueLimit) {
      if (mine == 0) perKey_.erase(key);
      return Admission::Full;
    }
    ++mine;
    queue_.emplace_back(key, std::move(task));
  }
  ready_.notify_one();
  return Admission::Accepted;
}

void OutboundPool::loop() {
  for (;;) {
    std::pair<std::string, std::function<void()>> next;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      next = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      next.second();
    } catch (const std::exception& e) {
      core::log::error("http.outbound_exception", {{"error", e.what()}});
    } catch (...) {
      core::log::error("http.outbound_exception", {});
    }
    std::lock_guard lock(mutex_);
    --running_;
    if (auto it = perKey_.find(next.first); it != perKey_.end() && --it->second == 0) perKey_.erase(it);
  }
}

void OutboundPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t OutboundPool::load() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + running_;
}

}  // namespace calgate::http
