#pragma once
/// The `sync:` section of the configuration: workers, polling, leases, the mass-delete guard,
/// retention, and whether CalDAV servers on private networks may be used.

#include <chrono>
#include <cstddef>
#include <string>

namespace calgate::sync {

/// The `sync:` section of the configuration.
struct SyncConfig {
  unsigned workers = 2;                        ///< job worker threads in this process; 0: none
  std::chrono::seconds pollInterval{300};      ///< how often every pair is synced (CalDAV has no push)
  std::chrono::seconds lease{300};             ///< a job's lease; an expired one runs again elsewhere
  unsigned massDeletePercent = 50;             ///< guard: share of a pair's copies one run may delete...
  unsigned massDeleteMinimum = 10;             ///< ...counting only from this many
  bool restoreDeletedCopies = false;           ///< recreate copies a user deleted in the target
  unsigned mappingRetentionDays = 30;          ///< soft-deleted mappings are purged after this
  unsigned auditRetentionDays = 400;           ///< retention.audit_days: audit entries older go (after a checkpoint)
  unsigned deletionRecordsDays = 1095;         ///< retention.deletion_records_days: erasure records older go
  unsigned revokedDays = 90;                   ///< retention.revoked_days: revoked tokens and feeds older go
  bool allowPrivateNetworks = false;           ///< CalDAV servers on loopback/LAN addresses (self-hosted)
  // Budgets: a run that exceeds one stops with a stored error (cause BudgetExceeded) and deletes nothing.
  std::chrono::seconds runBudget{1800};        ///< wall time of one pair run (all its calendar requests)
  std::size_t pullMaxBytes = 64 * 1024 * 1024; ///< bytes one pull of a calendar may read (listings + data)
  std::size_t pullMaxEvents = 20000;           ///< resources one pull of a calendar may list
  /// server.public_url when it is https (set from it, not a key of its own): Google and Microsoft
  /// post push notifications to <this>/webhooks/google and /webhooks/microsoft (+ /lifecycle).
  /// "" turns push off and every pair polls.
  std::string pushBaseUrl;
  /// A pair whose calendars all have push channels is still synced this often (Google's
  /// notifications are not guaranteed), and at every poll interval when a channel is missing.
  std::chrono::seconds safetyPollInterval{3600};
};

}  // namespace calgate::sync
