#pragma once
/// Where requests that wait on the outside world run (calendar servers, DNS): a bounded pool of
/// threads of their own, so the request threads that answer /healthz, /readyz and every other
/// user's API calls are never held by a slow or hostile server. Admission is decided at once,
/// on the request thread: a task is refused when its key (a user, a feed) already has `perKey`
/// tasks queued or running, or when `queueLimit` tasks wait; a refused request is answered
/// 429/503 straight away instead of waiting. Thread-safe.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace calgate::http {

struct OutboundLimits {
  unsigned threads = 8;          ///< tasks running at once
  std::size_t queueLimit = 64;   ///< tasks waiting for a thread
  unsigned perKey = 2;           ///< tasks queued or running for one user (or one feed)
};

class OutboundPool {
 public:
  enum class Admission { Accepted, KeyBusy, Full, Stopped };

  explicit OutboundPool(OutboundLimits limits);
  ~OutboundPool();  ///< stop()
  OutboundPool(const OutboundPool&) = delete;
  OutboundPool& operator=(const OutboundPool&) = delete;

  /// Queues `task` for `key` unless a limit says no (then `task` is not run, and not kept).
  Admission submit(const std::string& key, std::function<void()> task);
  /// Runs what is queued, then joins the threads; later submissions are Stopped.
  void stop();
  const OutboundLimits& limits() const { return limits_; }
  /// Tasks queued or running (for metrics).
  std::size_t load() const;

 private:
  void loop();
  OutboundLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::pair<std::string, std::function<void()>>> queue_;
  std::map<std::string, unsigned> perKey_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace calgate::http
