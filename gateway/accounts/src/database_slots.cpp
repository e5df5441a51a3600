#include "calgate/accounts/database_slots.hpp"

#include "calgate/core/log.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <thread>

namespace calgate::accounts {

DatabaseSlots::DatabaseSlots(store::Database& db, const core::Clock& clock, DatabaseSlotOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device()};
  random_.seed(seed);
  if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

core::Result<bool> DatabaseSlots::tryTake(const std::string& key, int limit, std::uint64_t ticket) {
  bool known = false;
  {
    std::lock_guard lock(mutex_);
    known = created_.count({key, limit}) > 0;
  }
  auto taken = db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    if (!known) {
      for (int slot = 0; slot < limit; ++slot) {
        sql << "INSERT INTO request_slots (slot_key, slot, holder, expires_at) VALUES (:k, :s, NULL, 0) ON CONFLICT DO NOTHING",
            soci::use(key), soci::use(slot);
      }
    }
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    std::string pick = "SELECT slot FROM request_slots WHERE slot_key = :k AND slot < :l AND (holder IS NULL OR expires_at < :n) "
                       "ORDER BY slot LIMIT 1";
    if (db_.dialect() == store::Dialect::Postgresql) pick += " FOR UPDATE SKIP LOCKED";
    int slot = -1;
    soci::indicator found = soci::i_null;
    sql << pick, soci::use(key), soci::use(limit), soci::use(now), soci::into(slot, found);
    if (!sql.got_data() || found != soci::i_ok) return false;
    const long long holder = static_cast<long long>(ticket);
    const long long until = now + options_.lease.count();
    sql << "UPDATE request_slots SET holder = :h, expires_at = :e WHERE slot_key = :k AND slot = :s", soci::use(holder),
        soci::use(until), soci::use(key), soci::use(slot);
    tx.commit();
    return true;
  });
  if (taken && !known) {
    std::lock_guard lock(mutex_);
    created_.insert({key, limit});
  }
  return taken;
}

core::Result<std::uint64_t> DatabaseSlots::acquire(const std::string& key, int limit, std::chrono::milliseconds wait) {
  limit = std::max(limit, 1);
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    ticket = random_() >> 2;  // fits a BIGINT, never 0
    if (ticket == 0) ticket = 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto pause = options_.pollFirst;
  while (true) {
    auto taken = tryTake(key, limit, ticket);
    if (!taken) {
      return std::unexpected(core::Error{core::ErrorCode::Unavailable, "the request slots cannot be counted: " + taken.error().message,
                                         std::chrono::seconds(30), core::Cause::None});
    }
    if (*taken) return ticket;
    if (std::chrono::steady_clock::now() + pause > deadline) {
      return std::unexpected(core::Error{core::ErrorCode::Unavailable,
                                         "every request slot of this mailbox stayed taken (" + std::to_string(limit) + " at once)",
                                         std::chrono::seconds(5), core::Cause::None});
    }
    options_.sleep(pause);
    pause = std::min(pause * 2, options_.pollMax);
  }
}

void DatabaseSlots::release(const std::string& key, std::uint64_t ticket) {
  const long long holder = static_cast<long long>(ticket);
  auto done = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "UPDATE request_slots SET holder = NULL, expires_at = 0 WHERE slot_key = :k AND holder = :h", soci::use(key), soci::use(holder);
    return {};
  });
  // not given back: the lease lapses on its own
  if (!done) core::log::warn("request_slots.release_failed", {{"error", done.error().describe()}});
}

}  // namespace calgate::accounts
