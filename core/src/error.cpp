#include "calgate/core/error.hpp"

namespace calgate::core {
namespace {

// The value of an enum 0..last whose name(value) is `name`.
template <class E, class NameOf>
std::optional<E> byName(std::string_view name, E last, NameOf nameOf) noexcept {
  for (int i = 0; i <= static_cast<int>(last); ++i) {
    if (nameOf(static_cast<E>(i)) == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

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
  return byName(name, ErrorCode::Internal, errorCodeName);
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
    case Cause::WriteRefused: return "write_refused";
    case Cause::BudgetExceeded: return "budget_exceeded";
    case Cause::WrongResource: return "wrong_resource";
    case Cause::InvalidGrant: return "invalid_grant";
    case Cause::IdTokenRejected: return "id_token_rejected";
    case Cause::QuotaExceeded: return "quota_exceeded";
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
  return byName(name, Cause::DnssecLookupFailed, causeName);
}

std::string Error::describe() const {
  std::string out(errorCodeName(code));
  out += ": ";
  out += message;
  return out;
}

}  // namespace calgate::core
