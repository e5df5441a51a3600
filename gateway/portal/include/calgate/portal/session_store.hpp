#pragma once
/// The web portal's sessions. A session is a bearer secret the gateway puts in an HttpOnly cookie;
/// the store keeps only its SHA-256. Its CSRF token is derived from the secret (csrfToken()), so a
/// page of the portal can send it back in a header while another site, which cannot read the
/// portal's answers, cannot. Every sign-in opens a new session (a session id is never carried over
/// from before the sign-in: no fixation). A session ends at `expires_at` (the configured lifetime
/// from its start, never extended), when revoked (sign-out, the session list), or when its user is
/// suspended or erased.
/// Thread-safe: every call borrows its own database session.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::portal {

struct Session {
  std::string id;
  std::string userId;
  std::string via;     ///< how it began: link, google, microsoft
  std::string client;  ///< a coarse label of the browser ("Chromium on Linux")
  long long createdAt = 0;
  long long lastSeenAt = 0;  ///< updated at most once a minute
  long long expiresAt = 0;
};

/// A session just opened: `secret` is the cookie's value, handed out once.
struct OpenedSession {
  Session session;
  std::string secret;
};

/// The CSRF token of the session whose secret this is: hex SHA-256 of a fixed label and the secret.
/// Pure.
std::string csrfToken(std::string_view secret);

/// "Chromium on Linux" from a User-Agent header: one of a few browser and system names, never the
/// header itself (it identifies a browser too precisely to keep). Pure.
std::string clientLabel(std::string_view userAgent);

class SessionStore {
 public:
  SessionStore(store::Database& db, const core::Clock& clock, std::chrono::seconds lifetime);

  /// A new session for `userId`. Store errors.
  core::Result<OpenedSession> open(const std::string& userId, std::string_view via, std::string_view client);
  /// The live session this secret belongs to. Unauthorized, with one message, for an unknown,
  /// malformed, revoked or expired secret or a suspended user.
  core::Result<Session> authenticate(std::string_view secret);
  /// The user's live sessions, newest first.
  core::Result<std::vector<Session>> list(const std::string& userId);
  /// Ends one of the user's sessions. NotFound when it is not a live session of this user.
  core::Result<void> revoke(const std::string& userId, const std::string& sessionId);
  /// Retention: sessions that expired or were revoked before `before` go. Returns how many.
  core::Result<std::size_t> purge(long long before);

 private:
  store::Database& db_;
  const core::Clock& clock_;
  std::chrono::seconds lifetime_;
};

}  // namespace calgate::portal
