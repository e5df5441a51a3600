#pragma once
/// Sync pairs: source calendar -> target calendar, one-way or two-way, with their privacy rules,
/// window and state. Deleting a pair removes its cursors and mappings; the copies stay.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/policy/pair_rules.hpp"
#include "calgate/store/database.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace calgate::sync {

enum class Direction { OneWay, TwoWay };

struct NewPair {
  std::string userId;
  std::string sourceCalendarId;
  std::string targetCalendarId;
  Direction direction = Direction::OneWay;
  policy::PairRules rules;
  int windowPastDays = 90;
  int windowFutureDays = 365;
};

/// A stored pair: what it was created with, plus its id and state.
struct SyncPair : NewPair {
  std::string id;
  bool enabled = true;
  bool ownerSuspended = false;  ///< its user is suspended (calgate-admin users disable): it does not run
  bool needsConfirmation = false;          ///< paused by the mass-delete guard
  std::string confirmationReason;
  /// While paused: the deletions the guard holds (opaque ids; deletionsDigest() names them).
  std::vector<std::string> guardDeletions;
  /// A user confirmed these deletions: a run may delete past the guard what they cover, no more.
  std::vector<std::string> confirmedDeletions;
  std::optional<long long> deletionsConfirmedAt;  ///< when that confirmation was given
  std::string lastError;                          ///< the last run's error message; empty after a success
  std::optional<core::ErrorCode> lastErrorCode;   ///< ...and its kind: the code
  core::Cause lastErrorCause = core::Cause::None;  ///< ...and the cause (PullFailed: start from a complete listing)
  std::string policyFingerprint;  ///< rules, window + organisation policies the copies were last rendered under
  std::optional<long long> lastSuccessAt;
  /// Set aside because its job kept stopping its worker mid-run (JobQueue): not scheduled, "sync
  /// now" refused, until release().
  std::optional<long long> quarantinedAt;
  std::string quarantineReason;
  /// What its copies' UIDs and origin markers derive from: its own id, or the seed of a deleted
  /// pair of the same calendars it took over (so re-pairing finds the old copies, not duplicates).
  std::string copySeed;
  long long createdAt = 0;
  long long updatedAt = 0;
  /// One of its calendars' accounts needs re-authorisation (its provider refused the refresh
  /// token): the pair does not run until the same identity connects again.
  bool accountNeedsReauth = false;
};

/// What a user may change on a pair (unset: unchanged).
struct PairChange {
  std::optional<Direction> direction;
  std::optional<policy::PairRules> rules;
  /// Edits the rules as stored when the change is applied (a partial update: only what was sent).
  std::function<void(policy::PairRules&)> editRules;
  std::optional<int> windowPastDays;
  std::optional<int> windowFutureDays;
  std::optional<bool> enabled;
};

/// Thread-safe.
class PairStore {
 public:
  PairStore(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  /// Invalid for a window outside 0..3650 days or a pair of a calendar with itself.
  core::Result<SyncPair> create(const NewPair& pair);
  core::Result<SyncPair> get(const std::string& id);
  /// Every enabled pair of a user not suspended, not quarantined and without an account that needs
  /// re-authorisation, paused ones too: a paused pair's runs still make the deletions the
  /// policy requires (and resume it when the held deletions are no longer there).
  core::Result<std::vector<SyncPair>> listRunnable();
  /// The runnable pairs that read `calendarId`: its source, or the target of a two-way pair.
  core::Result<std::vector<SyncPair>> listRunnableReading(const std::string& calendarId);
  /// Every pair, paused or not.
  core::Result<std::vector<SyncPair>> listAll();
  /// The pairs of one user, oldest first.
  core::Result<std::vector<SyncPair>> listForUser(const std::string& userId);
  /// Applies a change atomically to the row as stored; Invalid for a window outside 0..3650 days. The next run re-renders every copy
  /// when rules or window changed (the policy fingerprint covers them).
  core::Result<SyncPair> change(const std::string& id, const PairChange& change);
  /// New rules: the next run re-renders every copy (their approved hashes change).
  core::Result<void> setRules(const std::string& id, const policy::PairRules& rules);
  /// The mass-delete guard tripped: the pair waits for confirmDeletions of `deletionIds` (any
  /// earlier confirmation is dropped).
  core::Result<void> pause(const std::string& id, const std::string& reason, const std::vector<std::string>& deletionIds);
  /// A user confirmed the held deletions: its runs may delete what they cover past the guard.
  /// `digest` (deletionsDigest of what the user was shown; empty: what the pair holds now) must
  /// name the held deletions. Conflict when the pair is not paused or the digest differs.
  core::Result<void> confirmDeletions(const std::string& id, const std::string& digest = {});
  /// The held deletions went away by themselves (the source is back): the pair no longer waits.
  core::Result<void> resume(const std::string& id);
  /// Lifts a quarantine: the pair's dead jobs go and it is scheduled again (the caller queues a
  /// sync and audits). Conflict when the pair is not quarantined.
  core::Result<void> release(const std::string& id);
  /// Consumes a confirmation (after the run that used it succeeded).
  core::Result<void> clearConfirmation(const std::string& id);
  /// A run succeeded: clears the last error and stamps the time.
  core::Result<void> recordSuccess(const std::string& id);
  /// A run failed: keeps the error (message, code and cause) as the pair's last error.
  core::Result<void> recordFailure(const std::string& id, const core::Error& error);
  core::Result<void> setPolicyFingerprint(const std::string& id, const std::string& fingerprint);
  /// Removes the pair with its cursors and mappings. The copies in the target stay; a pair created
  /// later for the same calendars takes them over (its copy seed).
  core::Result<void> remove(const std::string& id);

 private:
  /// Runs an UPDATE binding, in order: `text` (if any), the current time `timeBinds` times, the id.
  core::Result<std::vector<SyncPair>> list(const std::string& where, const std::optional<std::string>& calendarId = std::nullopt);
  core::Result<void> update(const std::string& id, const std::string& sql, const std::optional<std::string>& text,
                            int timeBinds);
  store::Database& db_;
  const core::Clock& clock_;
};

/// The digest a confirmation names: SHA-256 (hex) over the sorted deletion ids; "" for none.
std::string deletionsDigest(const std::vector<std::string>& deletionIds);

/// PairRules as the JSON kept in pairs.rules_json, and back. Invalid on anything unexpected.
std::string rulesToJson(const policy::PairRules& rules);
core::Result<policy::PairRules> rulesFromJson(const std::string& json);

}  // namespace calgate::sync
