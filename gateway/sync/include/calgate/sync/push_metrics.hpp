#pragma once
/// Push in numbers for /metrics (Prometheus text exposition 0.0.4), per `calgate serve` process
/// (each counts what it received, maintained and wrote; Prometheus sums the processes):
/// - calgate_push_notifications_received_total{provider}: POSTs to a webhook that were
///   notifications (a Graph POST may carry several items; it counts once);
/// - calgate_push_notifications_verified_total{provider}: of those, the ones that proved to be
///   a channel's (token / clientState and ids matched);
/// - calgate_push_notifications_rejected_total{provider,reason}: "forged" (malformed, wrong
///   token or resource) or "unknown_channel" (no such channel: stopped, expired, never calgate's);
/// - calgate_push_validations_total: Graph validation handshakes answered;
/// - calgate_push_upkeep_total{provider,action,result}: channel opens, renewals,
///   reauthorizations and stops, "ok" or "failed";
/// - calgate_push_to_write_seconds: from a notification arriving to the end of the run that
///   wrote its change (JobQueue::enqueueNotified), a histogram.
/// Label values come from calgate's own vocabulary, never from a request. Thread-safe.

#include "calgate/sync/push_inbox.hpp"

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace calgate::sync {

class PushMetrics {
 public:
  /// Upper bounds (seconds) of the push-to-write histogram's buckets.
  static constexpr std::array<double, 11> kBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

  /// A checked notification of `provider` ("google" | "microsoft") and what became of it.
  void notification(std::string_view provider, PushOutcome outcome);
  void validation();
  /// A channel operation: `action` "open" | "renew" | "reauthorize" | "stop".
  void upkeep(std::string_view provider, std::string_view action, bool ok);
  /// A run wrote the change a notification announced, `seconds` after it arrived.
  void written(double seconds);
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, unsigned long long> received_, verified_;
  std::map<std::pair<std::string, std::string>, unsigned long long> rejected_;
  std::map<std::tuple<std::string, std::string, bool>, unsigned long long> upkeep_;
  unsigned long long validations_ = 0;
  std::array<unsigned long long, kBuckets.size()> buckets_{};
  unsigned long long count_ = 0;
  double sum_ = 0;
};

}  // namespace calgate::sync
