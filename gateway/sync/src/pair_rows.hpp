#pragma once
// Rows keyed by (pair_id, source_calendar_id, source_event_id): the skipped resources and the
// failing events of a pair. Internal to the sync library.

#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <string>
#include <vector>

namespace calgate::sync::detail {

/// Deletes the rows of `table` ("skipped_resources" or "failing_events") for `ids`, in one
/// transaction. `table` is one of this library's own names, never input.
core::Result<void> forgetRows(store::Database& db, const char* table, const std::string& pairId,
                              const std::string& calendarId, const std::vector<std::string>& ids);

}  // namespace calgate::sync::detail
