#pragma once
/// providers::RequestSlots counted in the database, so every `calgate serve` process on one
/// PostgreSQL database keeps a mailbox within its limit together (SQLite serves one process, which
/// the process's providers::localSlots() covers). A slot is a row of `request_slots` taken as a
/// lease: a ticket and an expiry `lease` ahead; a process that dies holding it lets go when the
/// lease lapses. Taking one is one short transaction (on PostgreSQL the free row is chosen with
/// FOR UPDATE SKIP LOCKED, so takers never wait on each other's rows); a taker that finds none free
/// polls, from `pollFirst` doubling up to `pollMax`, until the caller's wait is over.
///
/// Errors: Unavailable (with a Retry-After) when no slot frees up in time or the database cannot
/// be reached. Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/providers/http/request_slots.hpp"
#include "calgate/store/database.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <set>

namespace calgate::accounts {

struct DatabaseSlotOptions {
  std::chrono::seconds lease{300};  ///< longer than any one request may take
  std::chrono::milliseconds pollFirst{10};
  std::chrono::milliseconds pollMax{200};
  /// Waits between polls; tests may record instead.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class DatabaseSlots final : public providers::RequestSlots {
 public:
  DatabaseSlots(store::Database& db, const core::Clock& clock, DatabaseSlotOptions options = {});

  core::Result<std::uint64_t> acquire(const std::string& key, int limit, std::chrono::milliseconds wait) override;
  void release(const std::string& key, std::uint64_t ticket) override;

 private:
  /// One try: a free (or lapsed) slot of `key` below `limit` taken for `ticket`; false when none.
  core::Result<bool> tryTake(const std::string& key, int limit, std::uint64_t ticket);

  store::Database& db_;
  const core::Clock& clock_;
  DatabaseSlotOptions options_;
  std::mutex mutex_;
  std::mt19937_64 random_;  ///< seeded with 128 bits of the system's randomness (tickets differ across processes)
  std::set<std::pair<std::string, int>> created_;  ///< keys whose `limit` rows exist
};

}  // namespace calgate::accounts
