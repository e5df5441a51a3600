#include "pair_read.hpp"

namespace calgate::sync::detail {

core::Result<PairRead> readPair(store::Database& db, const core::Clock& clock, const std::string& pairId) {
  auto pair = PairStore(db, clock).get(pairId);
  if (!pair) return std::unexpected(pair.error());
  CalendarStore calendars(db, clock);
  auto source = calendars.get(pair->sourceCalendarId);
  if (!source) return std::unexpected(source.error());
  auto target = calendars.get(pair->targetCalendarId);
  if (!target) return std::unexpected(target.error());
  return PairRead{std::move(*pair), std::move(*source), std::move(*target)};
}

}  // namespace calgate::sync::detail
