-- The web portal's sign-in (gateway/portal). A session is an HttpOnly cookie holding a secret of
-- which only the SHA-256 is kept; its CSRF token is derived from the secret, so nothing else is
-- stored. `via` says how it began (link, google, microsoft); `client` is a coarse label of the
-- browser ("Chromium on Linux"), never the raw User-Agent. Times are unix seconds.
CREATE TABLE portal_sessions (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  secret_hash   TEXT NOT NULL UNIQUE,
  via           TEXT NOT NULL,
  client        TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL,
  revoked_at    BIGINT
);
CREATE INDEX portal_sessions_user ON portal_sessions(user_id);
CREATE INDEX portal_sessions_expiry ON portal_sessions(expires_at);
-- One-time sign-in links an operator prints (calgate-admin users login-link): the SHA-256 of the
-- link's secret, deleted when used or expired.
CREATE TABLE login_links (
  secret_hash   TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL
);
CREATE INDEX login_links_user ON login_links(user_id);
-- A sign-in with Google or Microsoft between the start and the provider's redirect back: the
-- SHA-256 of the OAuth state and of the browser binding (a cookie), the PKCE verifier sealed by
-- the vault, the OpenID nonce. Single use; deleted when used or expired.
CREATE TABLE signin_states (
  state_hash    TEXT PRIMARY KEY,
  browser_hash  TEXT NOT NULL,
  provider      TEXT NOT NULL,
  verifier      TEXT NOT NULL,
  nonce         TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL
);
CREATE INDEX signin_states_expiry ON signin_states(expires_at);
