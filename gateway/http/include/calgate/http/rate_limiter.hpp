#pragma once
/// A token bucket per key (an API token's id, a feed's token hash): `perMinute` requests a minute
/// on average, bursts of up to `perMinute`. In memory, per process. Thread-safe.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace calgate::http {

class RateLimiter {
 public:
  /// `perMinute` 0 turns limiting off. At most `maxKeys` buckets are kept; when full, only buckets
  /// that have refilled completely (idle keys, which lose nothing by going) are dropped. A limited
  /// key's bucket is never dropped: when every bucket is in use, a new key is refused (as if
  /// limited) rather than any client's limit being reset by a flood of new keys.
  explicit RateLimiter(unsigned perMinute, std::size_t maxKeys = 100000);

  /// Takes one request for `key` at `now` (seconds on a monotonic clock). nullopt when allowed,
  /// else the whole seconds after which the next request will be (Retry-After, at least 1).
  std::optional<std::chrono::seconds> take(const std::string& key, double now);
  /// The same, on the steady clock.
  std::optional<std::chrono::seconds> take(const std::string& key);

  unsigned perMinute() const { return perMinute_; }

 private:
  struct Bucket {
    double tokens = 0;
    double updated = 0;
  };
  void prune(double now);
  double nextPrune_ = 0;  ///< when a full map is worth scanning again

  unsigned perMinute_;
  std::size_t maxKeys_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace calgate::http
