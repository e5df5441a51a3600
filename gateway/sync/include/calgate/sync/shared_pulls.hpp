#pragma once
/// One pull of a calendar shared by every pair that reads it (issue 27): the runs of a serving
/// process hand their pulls through here. A run that needs calendar C from cursor X, in a window of
/// the same days, takes the change set another run's pull of (C, X) returned, when that pull began
/// at or after the run's request was made (Job::requestedAtMs) - such a pull reflects every change
/// the request announced - and waits for such a pull under way instead of sending its own. Its
/// cursor is where the sharer's next pull starts, so pairs that share a pull stay in step. A pull
/// that began before calgate last wrote into the calendar (wrote()) serves nobody: it may lack
/// copies a run has written and recorded since (a retry, another pair writing there).
///
/// A pair out of step lists the calendar completely and alone (its first run; the run after a
/// failed pull; a re-render); that run may then continue from the cursor of the newest shared pull
/// that was over before its own listing began (adoptable): the listing holds everything up to
/// then, so nothing is missed, and what lies between is seen once more (runs are idempotent).
/// From then on it shares. (An incremental pull never adopts: it would step back behind itself.)
///
/// Change sets are kept in memory only, for `keep` after the pull, at most `maxEntries` of them and
/// at most `maxEvents` events in all (the oldest go first); nothing is written anywhere.
/// Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/providers/provider.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

namespace calgate::sync {

/// What a pull is of: calgate's calendar id, the cursor it starts from ("" for a complete listing)
/// and the pair's window in days (listings by time range depend on it).
struct PullKey {
  std::string calendarId;
  std::string cursor;
  int pastDays = 0;
  int futureDays = 0;
  /// A digest of the versions the pull was told it knows (providers::KnownVersions, "" for none):
  /// a listing that set aside one pair's copies is no other pair's listing.
  std::string known{};
  bool operator<(const PullKey& o) const {
    return std::tie(calendarId, cursor, pastDays, futureDays, known) <
           std::tie(o.calendarId, o.cursor, o.pastDays, o.futureDays, o.known);
  }
};

/// PullKey::known for `known`.
std::string knownDigest(const providers::KnownVersions& known);

class SharedPulls {
 public:
  using Changes = std::shared_ptr<const providers::ChangeSet>;
  using Pull = std::function<core::Result<providers::ChangeSet>()>;

  explicit SharedPulls(const core::Clock& clock, std::chrono::milliseconds keep = std::chrono::seconds(60),
                       std::size_t maxEntries = 64, std::size_t maxEvents = 20000);

  struct Pulled {
    Changes changes;
    bool own = false;      ///< `pull` ran for this call (not another run's pull)
    long long beganMs = 0;  ///< when the pull began (unix ms)
  };
  /// The changes of `key` from a pull begun at or after `notBeforeMs` (unix ms): another run's, or
  /// (none there) `pull` run now and kept for the others. A failed pull is not kept; the runs that
  /// waited for it get its error.
  /// A wait for another run's pull ends after `maxWait` (Unavailable: that pull is stuck).
  core::Result<Pulled> get(const PullKey& key, long long notBeforeMs, const Pull& pull,
                           std::chrono::milliseconds maxWait = std::chrono::minutes(2));
  /// A run wrote (or may have written) into `calendarId` just now: the pulls of it begun until now
  /// serve nobody any more.
  void wrote(const std::string& calendarId);
  /// The cursor of the newest kept pull of `key`'s calendar and window that ended before
  /// `beganMs` (unix ms) from another cursor than `key`'s; none when there is none.
  std::optional<std::string> adoptable(const PullKey& key, long long beganMs) const;

  /// Pulls sent, and pulls served from another run's (for /metrics and tests).
  std::size_t sent() const;
  std::size_t shared() const;

 private:
  struct Entry {
    long long beganMs = 0;
    long long endedMs = 0;  ///< 0 while under way
    Changes changes;
    std::optional<core::Error> error;
    std::chrono::steady_clock::time_point kept{};
  };
  long long nowMs() const;
  void evict();
  const core::Clock& clock_;
  const std::chrono::milliseconds keep_;
  const std::size_t maxEntries_;
  const std::size_t maxEvents_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::map<PullKey, std::shared_ptr<Entry>> entries_;
  std::map<std::string, long long> lastWriteMs_;  ///< by calendar
  std::size_t sent_ = 0, shared_ = 0;
};

}  // namespace calgate::sync
