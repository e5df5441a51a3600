-- OAuth 2.0 connections. A sign-in in progress: the state is known only by its SHA-256 (the state
-- itself travels in the browser's URL), bound to the user who started it and to the browser that
-- carries its binding secret (also kept as a hash), single use, short-lived; the PKCE verifier is
-- sealed by the vault. Rows are deleted when used and once expired.
CREATE TABLE oauth_states (
  state_hash    TEXT PRIMARY KEY,
  browser_hash  TEXT NOT NULL,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider      TEXT NOT NULL,
  verifier      TEXT NOT NULL,
  nonce         TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);
-- The proven identity of an OAuth account ("<issuer>|<sub>"): connecting the same identity again
-- re-authorises that account instead of adding another. NULL for CalDAV accounts.
ALTER TABLE accounts ADD COLUMN identity_key TEXT;
-- Why an account needs re-authorisation (the provider refused its refresh token), for status.
ALTER TABLE accounts ADD COLUMN status_reason TEXT;
