#include "calgate/core/clock.hpp"

namespace calgate::core {

long long Clock::nowUnixSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
}

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

const Clock& systemClock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace calgate::core
