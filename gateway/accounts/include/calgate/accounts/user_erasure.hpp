#pragma once
/// The right to erasure (GDPR Art. 17): removes every row that belongs to a user - tokens,
/// accounts with their vault-sealed credentials, calendars, pairs, mappings, cursors, jobs, feeds
/// - in one transaction, and records the erasure with only a SHA-256 of the email address.
/// Copies already written to target calendars stay there (they are the user's own events now).

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::accounts {

struct ErasureCounts {
  long long tokens = 0, accounts = 0, calendars = 0, pairs = 0, mappings = 0, feeds = 0;
};

/// `requestedBy`: "user" | "admin" | "retention". NotFound when there is no such user. The audit
/// log gets a "user.erase" entry naming only the email's hash and the counts. `hashKey` (the
/// vault's keyed-hash key) makes that hash keyed (emailHash); empty: a plain SHA-256 (tests).
core::Result<ErasureCounts> eraseUser(store::Database& db, const core::Clock& clock, const std::string& userId,
                                      std::string_view requestedBy, std::string_view hashKey = {});

/// What an erasure record keeps of an address: keyed with `hashKey`, or a plain SHA-256 without.
std::string emailHash(std::string_view hashKey, std::string_view email);

/// The ids of erased users whose address was `email` (normalised), by the erasure records' hash
/// under `hashKey` or, for records older than keyed hashes, the plain SHA-256.
core::Result<std::vector<std::string>> erasedUserIds(store::Database& db, std::string_view hashKey, std::string_view email);

/// Retention of the erasure records: removes those older than `cutoff` (unix seconds). Returns how
/// many went.
core::Result<std::size_t> purgeDeletionRecords(store::Database& db, long long cutoff);

}  // namespace calgate::accounts
