#pragma once
/// The `limits:` section of the configuration: how much one user may hold and one feed may show.
/// Exceeding one is a clear problem document on that request (409 limit-reached, 503
/// feed-too-large), never a crash and never a silent truncation.

#include <cstddef>

namespace calgate::api {

struct ApiLimits {
  unsigned accountsPerUser = 20;  ///< connected calendar accounts per user
  unsigned pairsPerUser = 50;     ///< sync pairs per user
  unsigned feedsPerUser = 20;     ///< availability feeds per user (revoked ones do not count)
  std::size_t feedBlocks = 20000; ///< busy blocks one feed render may hold, all its calendars together
};

}  // namespace calgate::api
