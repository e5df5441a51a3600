#pragma once
/// Wakes idle workers when work arrives, instead of letting them sleep out their poll interval.
/// A counter, not a flag: a worker reads `seen()` before it looks for a job and waits for the
/// counter to move past that, so a job queued between its look and its wait is never missed.
/// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace calgate::sync {

class JobSignal {
 public:
  /// Work may have arrived: every waiter wakes.
  void notify() {
    {
      std::lock_guard lock(mutex_);
      ++count_;
    }
    changed_.notify_all();
  }
  std::uint64_t seen() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  /// Waits until notify() was called after `seen` was read, or `timeout` passed. True when notified.
  bool waitPast(std::uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_ != seen; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t count_ = 0;
};

}  // namespace calgate::sync
