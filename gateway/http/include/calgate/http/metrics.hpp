#pragma once
/// In-process Prometheus metrics for the HTTP server, rendered in the text exposition
/// format (version 0.0.4). Thread-safe.

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace calgate::http {

class HttpMetrics {
 public:
  /// Upper bounds (seconds) of the request duration histogram buckets.
  static constexpr std::array<double, 11> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5};

  HttpMetrics();

  /// Counts one finished request. `route` is a route pattern (or "unmatched"), never a raw path.
  void record(const std::string& route, const std::string& method, int status, double seconds);

  /// The whole exposition: build info, uptime, request counters and duration histograms, then
  /// whatever the extra source adds (the sync service's counters).
  std::string render() const;
  void setExtraSource(std::function<std::string()> source) {
    std::lock_guard lock(mutex_);
    extra_ = std::move(source);
  }

 private:
  struct Histogram {
    std::array<unsigned long long, kBuckets.size()> buckets{};
    unsigned long long count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::chrono::steady_clock::time_point started_;
  std::map<std::tuple<std::string, std::string, int>, unsigned long long> requests_;
  std::map<std::string, Histogram> durations_;
  std::function<std::string()> extra_;
};

}  // namespace calgate::http
