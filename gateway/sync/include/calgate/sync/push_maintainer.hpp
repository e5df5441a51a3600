#pragma once
/// Keeps a push channel open on every Google calendar a runnable pair reads (its source, and the
/// target of a two-way pair), as the seeds promise: channels of `lifetime` (6 days), replaced by a
/// new channel once one expires within `renewBefore` (1 day) -- Google has no renewal -- with both
/// open until the new one is recorded, then channels.stop on the old one; stopped when no pair
/// reads the calendar any more. A channel is recorded (with its token's hash) before Google is
/// asked, since Google may notify before it answers; a failed open is forgotten and tried again
/// on the next round. One calendar's failure never stops the others'. Run as a job
/// ("push_maintain") by any `calgate serve` process; rounds that overlap at worst open a spare
/// channel, which the next round stops. Not thread-safe (one round at a time per object).

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"
#include "calgate/sync/push_channels.hpp"
#include "calgate/sync/sync_service.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace calgate::sync {

struct PushConfig {
  /// Where Google posts notifications: <server.public_url>/webhooks/google. "" turns push off.
  std::string googleAddress;
  std::chrono::seconds lifetime{6 * 24 * 3600};
  std::chrono::seconds renewBefore{24 * 3600};
};

struct PushRound {
  std::size_t opened = 0, stopped = 0, forgotten = 0, failed = 0;
  std::vector<std::string> errors;  ///< one per calendar that failed: "<calendar id>: <error>"
};

class PushMaintainer {
 public:
  /// `providers` must outlive the maintainer.
  PushMaintainer(store::Database& db, const core::Clock& clock, ProviderFactory& providers, PushConfig config);
  /// One round. Errors only when the database fails; a provider's refusal is counted in `failed`.
  core::Result<PushRound> maintain();

 private:
  core::Result<bool> open(const CalendarRef& calendar, PushRound& round);
  core::Result<void> stop(const PushChannel& channel, PushRound& round);
  core::Result<void> unwatch(const PushChannel& channel);

  store::Database& db_;
  const core::Clock& clock_;
  ProviderFactory& providers_;
  PushConfig config_;
};

}  // namespace calgate::sync
