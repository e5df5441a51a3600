#pragma once
/// A provider's per-user request rate, kept by the client: at most `perMinute` requests in any 60 s
/// (a sliding window), shared by every adapter of one account in this process (sharedPacer), so
/// two pairs of one Google account syncing at once stay within the account's rate together, not
/// each. A request that does not fit waits (through the caller's `sleep`) until it does; the
/// waits hold the calling thread, which the run budget bounds.
///
/// Thread-safe: concurrent callers queue on one lock, the waiting one holding it.

#include "calgate/core/clock.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace calgate::providers {

class RequestPacer {
 public:
  /// perMinute <= 0: no limit (take() never waits).
  explicit RequestPacer(int perMinute) : perMinute_(perMinute) {}

  /// Counts `n` requests (a batch's parts count one each) sent now, after waiting until each fits
  /// the last minute's budget. Time is read from `clock`; `sleep` waits.
  void take(std::size_t n, const core::Clock& clock, const std::function<void(std::chrono::milliseconds)>& sleep);

  int perMinute() const { return perMinute_; }
  /// When the last request was counted (epoch when none was).
  core::TimePoint lastUse() const;

 private:
  const int perMinute_;
  mutable std::mutex mutex_;
  std::deque<core::TimePoint> sent_;  ///< when the last perMinute requests went out
};

/// The pacer of `key` (say "google:<account id>") in this process: the same object for every
/// caller with the same key while any of them holds it or its last request is less than a minute
/// old; created with `perMinute` when there is none. Pacers idle longer are dropped as others are
/// asked for, so the table stays as large as the accounts in use. Thread-safe.
std::shared_ptr<RequestPacer> sharedPacer(const std::string& key, int perMinute);

}  // namespace calgate::providers
