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

std::string Error::describe() const {
  std::string out(errorCodeName(code));
  out += ": ";
  out += message;
  return out;
}

}  // namespace calgate::core
