#pragma once
/// One-time sign-in links an operator prints for a user (`calgate-admin users login-link EMAIL`),
/// for people without a Google or Microsoft account to sign in with. The link carries a secret of
/// which only the SHA-256 is kept; it works once, within its lifetime, and only for a user who is
/// not suspended. Opening it shows whose sign-in it is and asks for a button press (describe()),
/// so a mail scanner or link preview that fetches it uses nothing up; the press consumes it.
/// Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <chrono>
#include <string>

namespace calgate::portal {

struct IssuedLink {
  std::string secret;  ///< goes into the link's path; shown once
  long long expiresAt = 0;
};

class LoginLinks {
 public:
  LoginLinks(store::Database& db, const core::Clock& clock);

  /// A new link for `userId`, valid for `ttl`. Store errors.
  core::Result<IssuedLink> issue(const std::string& userId, std::chrono::seconds ttl);
  /// The user a link signs in, without using it up. Invalid: unknown, used, expired, or the user
  /// is suspended (one message each, safe to show).
  core::Result<std::string> describe(const std::string& secret);
  /// Uses the link up and returns its user. Invalid as describe(); once only, also against a
  /// concurrent use.
  core::Result<std::string> consume(const std::string& secret);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace calgate::portal
