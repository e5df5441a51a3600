#pragma once
// A core::Clock that stands still until told to move. Every expiry, renewal and signature-time
// check reads a Clock, so tests move time instead of sleeping.

#include "calgate/core/clock.hpp"

#include <atomic>
#include <chrono>

namespace calgate::test {

class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(core::TimePoint start) : now_(start.time_since_epoch().count()) {}
  /// At a civil UTC time, e.g. FakeClock::at(2026y / June / 1, 12h).
  static FakeClock at(std::chrono::year_month_day day, std::chrono::seconds timeOfDay = std::chrono::seconds(0)) {
    return FakeClock(core::TimePoint(std::chrono::sys_days(day) + timeOfDay));
  }
  core::TimePoint now() const override { return core::TimePoint(std::chrono::milliseconds(now_.load())); }
  void set(core::TimePoint t) { now_ = t.time_since_epoch().count(); }
  void advance(std::chrono::milliseconds d) { now_ += d.count(); }

 private:
  std::atomic<long long> now_;
};

}  // namespace calgate::test
