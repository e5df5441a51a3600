#include "calgate/sync/push_metrics.hpp"

#include <cstdio>

namespace calgate::sync {
namespace {

std::string number(double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  return buf;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

void PushMetrics::notification(std::string_view provider, PushOutcome outcome) {
  std::lock_guard lock(mutex_);
  const std::string p(provider);
  ++received_[p];
  switch (outcome) {
    case PushOutcome::Queued:
    case PushOutcome::NoWork: ++verified_[p]; break;
    case PushOutcome::Unknown: ++rejected_[{p, "unknown_channel"}]; break;
    case PushOutcome::Rejected: ++rejected_[{p, "forged"}]; break;
  }
}

void PushMetrics::validation() {
  std::lock_guard lock(mutex_);
  ++validations_;
}

void PushMetrics::upkeep(std::string_view provider, std::string_view action, bool ok) {
  std::lock_guard lock(mutex_);
  ++upkeep_[{std::string(provider), std::string(action), ok}];
}

void PushMetrics::written(double seconds) {
  if (seconds < 0) seconds = 0;  // the notification's process clock ran ahead of this one's
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++buckets_[i];
  }
  ++count_;
  sum_ += seconds;
}

std::string PushMetrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  family(out, "calgate_push_notifications_received_total", "counter", "Push notifications received, by provider.");
  for (const auto& [p, n] : received_) out += "calgate_push_notifications_received_total{provider=\"" + p + "\"} " + std::to_string(n) + "\n";
  family(out, "calgate_push_notifications_verified_total", "counter",
         "Push notifications proven to come from a channel calgate opened, by provider.");
  for (const auto& [p, n] : verified_) out += "calgate_push_notifications_verified_total{provider=\"" + p + "\"} " + std::to_string(n) + "\n";
  family(out, "calgate_push_notifications_rejected_total", "counter",
         "Push notifications that caused no work: forged or malformed, or of no channel calgate has.");
  for (const auto& [key, n] : rejected_) {
    out += "calgate_push_notifications_rejected_total{provider=\"" + key.first + "\",reason=\"" + key.second + "\"} " +
           std::to_string(n) + "\n";
  }
  family(out, "calgate_push_validations_total", "counter", "Graph validation handshakes answered.");
  out += "calgate_push_validations_total " + std::to_string(validations_) + "\n";
  family(out, "calgate_push_upkeep_total", "counter", "Push channel opens, renewals, reauthorizations and stops, by result.");
  for (const auto& [key, n] : upkeep_) {
    const auto& [p, action, ok] = key;
    out += "calgate_push_upkeep_total{provider=\"" + p + "\",action=\"" + action + "\",result=\"" +
           (ok ? "ok" : "failed") + "\"} " + std::to_string(n) + "\n";
  }
  family(out, "calgate_push_to_write_seconds", "histogram",
         "From a push notification arriving to the end of the run that wrote its change.");
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    out += "calgate_push_to_write_seconds_bucket{le=\"" + number(kBuckets[i]) + "\"} " + std::to_string(buckets_[i]) + "\n";
  }
  out += "calgate_push_to_write_seconds_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += "calgate_push_to_write_seconds_sum " + number(sum_) + "\n";
  out += "calgate_push_to_write_seconds_count " + std::to_string(count_) + "\n";
  return out;
}

}  // namespace calgate::sync
