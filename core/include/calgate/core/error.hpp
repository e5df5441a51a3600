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
  // keep Internal last or update errorCodeFromName()
};

/// Stable lower-case name of a code ("rate_limited", "not_found", ...).
std::string_view errorCodeName(ErrorCode code) noexcept;
/// The inverse of errorCodeName(); nullopt for any other text.
std::optional<ErrorCode> errorCodeFromName(std::string_view name) noexcept;

/// Why, more precisely than the code, for the failures some caller must tell apart. Set where the
/// error is born; callers branch on code and cause, never on message text. Closed: a new cause is
/// added here with its name. Most errors carry None.
enum class Cause {
  None,
  AddressRefused,      ///< the network guard refused the address a URL led to (loopback, private, ...)
  UrlRejected,         ///< a URL calgate never requests: not http(s), or with credentials in it
  RetiredVaultKey,     ///< a credential was sealed with a vault key retired meanwhile (reload, seal again)
  ConstraintViolated,  ///< the database refused a write on a unique, foreign-key, check or trigger rule
  LeaseLost,           ///< a job's lease expired or passed to another worker
  PullFailed,          ///< listing a pair's calendar failed; the next run starts from a complete listing
  WriteRefused,        ///< the server refused to store or remove this one event (a 4xx for it): not the account
  BudgetExceeded,      ///< a configured budget ran out (time, bytes, events, occurrences): the work stopped there
  WrongResource,       ///< an adapter refused a write aimed at another resource than the one approved
  InvalidGrant,        ///< the OAuth provider refused a refresh token or authorization code (invalid_grant): reconnect
  IdTokenRejected,     ///< an OpenID Connect id_token failed verification (signature, issuer, audience, time, nonce)
  QuotaExceeded,       ///< a provider's daily quota for calgate is spent: wait for it to reset, do not retry sooner
  // DNSSEC validation (dns::TxtAnswer::cause; the answer is Bogus unless said otherwise)
  DnssecNoTrustedKey,     ///< no DNSKEY matches the trust anchor or a DS
  DnssecBadSignature,     ///< a signature is missing or does not verify
  DnssecSignatureTime,    ///< a signature expired or is not yet valid (beyond the allowed clock skew)
  DnssecWrongSigner,      ///< signed by a zone other than the one that holds the name
  DnssecWildcard,         ///< an answer synthesised from a wildcard (not accepted)
  DnssecIterationCap,     ///< NSEC3 with more iterations than the cap (RFC 9276)
  DnssecUnprovenDenial,   ///< a negative answer whose NSEC/NSEC3 records do not prove it
  DnssecBareDenial,       ///< a negative answer with no NSEC/NSEC3 records at all
  DnssecBadName,          ///< a malformed name, or one outside the trust anchor
  DnssecLookupFailed,     ///< the lookup could not be completed (Indeterminate)
  // keep DnssecLookupFailed last or update causeFromName()
};

/// Stable lower-case name of a cause ("address_refused", "dnssec_bare_denial", ...); "" for None.
std::string_view causeName(Cause cause) noexcept;
/// The inverse of causeName(): "" is None; nullopt for any other text.
std::optional<Cause> causeFromName(std::string_view name) noexcept;

/// An error value: a category, a human-readable message that never contains a secret,
/// for RateLimited how long the peer asked us to wait, and, where a caller must act on it, a cause.
struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  std::optional<std::chrono::seconds> retryAfter;
  Cause cause = Cause::None;

  /// "not_found: user 42 does not exist"
  std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for returning a failure: `return fail(ErrorCode::Invalid, "...");`
inline std::unexpected<Error> fail(ErrorCode code, std::string message, Cause cause = Cause::None) {
  return std::unexpected<Error>(Error{code, std::move(message), std::nullopt, cause});
}

}  // namespace calgate::core
