#pragma once
/// Error values shared by every module. Expected failures travel as `Result<T>`;
/// exceptions never cross a module boundary.

#include <chrono>
#include <expected>
#include "calgate/core/detail/expected_fallback.hpp"  // only when <expected> is empty (clang 14 fuzz builds)
#include <optional>
#include <string>
#include <string_view>

namespace calgate::core {

/// Closed set of failure categories; callers branch on these, never on message text.
enum class ErrorCode {
  Timeout,             ///< an operation ran out of time
  Unavailable,         ///< a dependency (database, provider, DNS) could not be reached
  RateLimited,         ///< the peer asked us to slow down; see Error::retryAfter
  NotFound,            ///< the thing asked for does not exist (or is not visible to the caller)
  Conflict,            ///< the thing already exists or was changed concurrently
  PreconditionFailed,  ///< an If-Match style precondition did not hold
  Gone,                ///< a cursor / sync token expired; a full resync is needed
  Unauthorized,        ///< credentials missing, invalid or revoked
  Invalid,             ///< input rejected; the message says what and why
  DnssecBogus,         ///< DNSSEC validation failed
  Internal,            ///< a bug or an unexpected library failure
};

/// Stable lower-case name of a code ("rate_limited", "not_found", ...).
std::string_view errorCodeName(ErrorCode code) noexcept;

/// An error value: a category, a human-readable message that never contains a secret,
/// and, for RateLimited, how long the peer asked us to wait.
struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  std::optional<std::chrono::seconds> retryAfter;

  /// "not_found: user 42 does not exist"
  std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for returning a failure: `return fail(ErrorCode::Invalid, "...");`
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message), std::nullopt});
}

}  // namespace calgate::core
