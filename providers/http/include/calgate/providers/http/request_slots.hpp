#pragma once
/// At most `limit` requests in flight at once for one key (a mailbox: Outlook serves an app at most
/// 4 concurrent requests per mailbox and throttles the fifth), counted where every caller of the
/// key sees the count: in this process (localSlots), or in the database every `calgate serve`
/// process shares (accounts::DatabaseSlots), so two processes syncing pairs of one mailbox stay
/// within the limit together.
///
/// A slot is taken before a request is sent and given back after its answer (SlotHold). A caller
/// that finds every slot taken waits until one frees up or `wait` has passed: then Unavailable with
/// a Retry-After, for the job queue. A process that dies holding slots loses them: a database slot
/// is a lease that lapses (DatabaseSlots), a local one dies with the process.
///
/// Implementations are thread-safe.

#include "calgate/core/error.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace calgate::providers {

class RequestSlots {
 public:
  virtual ~RequestSlots() = default;
  /// Takes one of `key`'s `limit` slots; its ticket goes back to release(). Unavailable (with a
  /// Retry-After) when none frees up within `wait`, or when the count cannot be reached.
  virtual core::Result<std::uint64_t> acquire(const std::string& key, int limit, std::chrono::milliseconds wait) = 0;
  /// Gives the slot of `ticket` back (a ticket not held, e.g. one whose lease lapsed, is ignored).
  virtual void release(const std::string& key, std::uint64_t ticket) = 0;
};

/// A slot held for the length of one request: released when it goes out of scope.
class SlotHold {
 public:
  SlotHold() = default;
  SlotHold(RequestSlots& slots, std::string key, std::uint64_t ticket) : slots_(&slots), key_(std::move(key)), ticket_(ticket) {}
  SlotHold(SlotHold&& other) noexcept : slots_(other.slots_), key_(std::move(other.key_)), ticket_(other.ticket_) { other.slots_ = nullptr; }
  SlotHold& operator=(SlotHold&&) = delete;
  SlotHold(const SlotHold&) = delete;
  SlotHold& operator=(const SlotHold&) = delete;
  ~SlotHold() {
    if (slots_) slots_->release(key_, ticket_);
  }

 private:
  RequestSlots* slots_ = nullptr;
  std::string key_;
  std::uint64_t ticket_ = 0;
};

/// Takes a slot of `key` from `slots` and holds it for the caller's scope.
core::Result<SlotHold> holdSlot(RequestSlots& slots, const std::string& key, int limit, std::chrono::milliseconds wait);

/// The slots of this process: one counting semaphore per key, for every adapter in the process
/// (the same object on every call). Waiting callers are woken as slots free up.
std::shared_ptr<RequestSlots> localSlots();

}  // namespace calgate::providers
