#pragma once
/// The time seam. Every expiry, renewal and signature-time check reads a Clock so that
/// tests can move time with a fake instead of sleeping.

#include <chrono>

namespace calgate::core {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

/// Wall-clock time source. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Current UTC wall-clock time.
  virtual TimePoint now() const = 0;
  /// Seconds since the Unix epoch, the unit the store keeps.
  long long nowUnixSeconds() const;
};

/// The real system clock.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

/// Process-wide system clock instance (stateless, so sharing is safe).
const Clock& systemClock();

}  // namespace calgate::core
