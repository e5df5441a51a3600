#include "calgate/core/error.hpp"

namespace calgate::core {

std::string_view errorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Timeout: return "timeout";
    case ErrorCode::Unavailable: return "unavailable";
    case ErrorCode::RateLimited: return "rate_limited";
    case ErrorCode::NotFound: return "not_found";
    case ErrorCode::Conflict: return "conflict";
    case ErrorCode::PreconditionFailed: return "precondition_failed";
    case ErrorCode::Gone: return "gone";
    case ErrorCode::Unauthorized: return "unauthorized";
    case ErrorCode::Invalid: return "invalid";
    case ErrorCode::DnssecBogus: return "dnssec_bogus";
    case ErrorCode::Internal: return "internal";
  }
  return "internal";
}

std::optional<ErrorCode> errorCodeFromName(std::string_view name) noexcept {
  for (int i = 0; i <= static_cast<int>(ErrorCode::Internal); ++i) {
    const auto c = static_cast<ErrorCode>(i);
    if (errorCodeName(c) == name) return c;
  }
  return std::nullopt;
}

std::string_view causeName(Cause cause) noexcept {
  switch (cause) {
    case Cause::None: return "";
    case Cause::AddressRefused: return "address_refused";
    case Cause::UrlRejected: return "url_rejected";
    case Cause::RetiredVaultKey: return "retired_vault_key";
    case Cause::ConstraintViolated: return "constraint_violated";
    case Cause::LeaseLost: return "lease_lost";
    case Cause::PullFailed: return "pull_failed";
    case Cause::DnssecNoTrustedKey: return "dnssec_no_trusted_key";
    case Cause::DnssecBadSignature: return "dnssec_bad_signature";
    case Cause::DnssecSignatureTime: return "dnssec_signature_time";
    case Cause::DnssecWrongSigner: return "dnssec_wrong_signer";
    case Cause::DnssecWildcard: return "dnssec_wildcard";
    case Cause::DnssecIterationCap: return "dnssec_iteration_cap";
    case Cause::DnssecUnprovenDenial: return "dnssec_unproven_denial";
    case Cause::DnssecBareDenial: return "dnssec_bare_denial";
    case Cause::DnssecBadName: return "dnssec_bad_name";
    case Cause::DnssecLookupFailed: return "dnssec_lookup_failed";
  }
  return "";
}

std::optional<Cause> causeFromName(std::string_view name) noexcept {
  for (int i = 0; i <= static_cast<int>(Cause::DnssecLookupFailed); ++i) {
    const auto c = static_cast<Cause>(i);
    if (causeName(c) == name) return c;
  }
  return std::nullopt;
}

std::string Error::describe() const {
  std::string out(errorCodeName(code));
  out += ": ";
  out += message;
  return out;
}

}  // namespace calgate::core
