#include "calgate/http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace calgate::http {

RateLimiter::RateLimiter(unsigned perMinute, std::size_t maxKeys) : perMinute_(perMinute), maxKeys_(maxKeys) {}

std::optional<std::chrono::seconds> RateLimiter::take(const std::string& key) {
  const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  return take(key, now);
}

std::optional<std::chrono::seconds> RateLimiter::take(const std::string& key, double now) {
  if (perMinute_ == 0) return std::nullopt;
  const double capacity = perMinute_;
  const double perSecond = capacity / 60.0;
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= maxKeys_ && now >= nextPrune_) prune(now);
    if (buckets_.size() >= maxKeys_) return std::chrono::seconds(1);  // every bucket in use: no reset
    it = buckets_.emplace(key, Bucket{capacity, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = std::min(capacity, b.tokens + std::max(0.0, now - b.updated) * perSecond);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - b.tokens) / perSecond;
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(wait))));
}

void RateLimiter::prune(double now) {
  const double perSecond = perMinute_ / 60.0;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double refilled = it->second.tokens + (now - it->second.updated) * perSecond;
    if (refilled >= perMinute_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  // Still full (a flood of distinct keys, all of them recent): new keys wait; the map is scanned
  // again at most once a second (buckets refill within a minute).
  nextPrune_ = buckets_.size() >= maxKeys_ ? now + 1.0 : 0;
}

}  // namespace calgate::http
