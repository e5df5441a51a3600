#pragma once
// A pair and its two calendars read together, for the engine's entry points that get only an id.
// Internal to the sync library.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/pair_store.hpp"

#include <string>

namespace calgate::sync::detail {

struct PairRead {
  SyncPair pair;
  CalendarRef source, target;
};

/// The pair `pairId` and its source and target calendars, as stored now. NotFound (or the
/// store's error) when one of them cannot be read.
core::Result<PairRead> readPair(store::Database& db, const core::Clock& clock, const std::string& pairId);

}  // namespace calgate::sync::detail
