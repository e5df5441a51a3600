#include "calgate/providers/http/request_slots.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>

namespace calgate::providers {
namespace {

class LocalSlots final : public RequestSlots {
 public:
  core::Result<std::uint64_t> acquire(const std::string& key, int limit, std::chrono::milliseconds wait) override {
    std::unique_lock lock(mutex_);
    const auto free = [&] { return inFlight_[key] < std::max(limit, 1); };
    if (!freed_.wait_for(lock, wait, free)) {
      return std::unexpected(core::Error{core::ErrorCode::Unavailable,
                                         "every request slot of this mailbox stayed taken (" + std::to_string(limit) + " at once)",
                                         std::chrono::seconds(5), core::Cause::None});
    }
    ++inFlight_[key];
    return ++tickets_;
  }

  void release(const std::string& key, std::uint64_t ticket) override {
    (void)ticket;
    {
      std::lock_guard lock(mutex_);
      auto it = inFlight_.find(key);
      if (it == inFlight_.end()) return;
      if (--it->second <= 0) inFlight_.erase(it);
    }
    freed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  std::map<std::string, int> inFlight_;  ///< only keys with requests in flight
  std::uint64_t tickets_ = 0;
};

}  // namespace

core::Result<SlotHold> holdSlot(RequestSlots& slots, const std::string& key, int limit, std::chrono::milliseconds wait) {
  auto ticket = slots.acquire(key, limit, wait);
  if (!ticket) return std::unexpected(ticket.error());
  return SlotHold(slots, key, *ticket);
}

std::shared_ptr<RequestSlots> localSlots() {
  static const auto slots = std::make_shared<LocalSlots>();
  return slots;
}

}  // namespace calgate::providers
