#include "calgate/providers/http/request_pacer.hpp"

#include <algorithm>
#include <map>

namespace calgate::providers {

void RequestPacer::take(std::size_t n, const core::Clock& clock, const std::function<void(std::chrono::milliseconds)>& sleep) {
  if (perMinute_ <= 0) return;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < n; ++i) {
    auto now = clock.now();
    if (sent_.size() >= static_cast<std::size_t>(perMinute_)) {
      const auto room = sent_.front() + std::chrono::minutes(1);
      if (room > now) {
        sleep(std::chrono::duration_cast<std::chrono::milliseconds>(room - now));
        now = std::max(clock.now(), room);
      }
      sent_.pop_front();
    }
    sent_.push_back(now);
  }
}

core::TimePoint RequestPacer::lastUse() const {
  std::lock_guard lock(mutex_);
  return sent_.empty() ? core::TimePoint{} : sent_.back();
}

std::shared_ptr<RequestPacer> sharedPacer(const std::string& key, int perMinute) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<RequestPacer>> pacers;
  static unsigned long calls = 0;
  std::lock_guard lock(mutex);
  if (++calls % 256 == 0) {  // a sweep now and then keeps each call cheap with many accounts
    const auto idleSince = core::systemClock().now() - std::chrono::minutes(1);
    std::erase_if(pacers, [&](const auto& entry) {
      return entry.first != key && entry.second.use_count() == 1 && entry.second->lastUse() < idleSince;
    });
  }
  auto& pacer = pacers[key];
  if (!pacer || pacer->perMinute() != perMinute) pacer = std::make_shared<RequestPacer>(perMinute);
  return pacer;
}

}  // namespace calgate::providers
