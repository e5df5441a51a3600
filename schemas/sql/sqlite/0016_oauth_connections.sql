-- OAuth 2.0 connections. A sign-in in progress: started by a user through the API, it hands a
-- browser a one-time start link (handoff, kept as a hash); opening it binds the sign-in to that
-- browser (a cookie secret, kept as a hash) and sends it to the provider. The state is known only
-- by its SHA-256 (the state itself travels in the browser's URL); the PKCE verifier and the
-- provider URL are sealed by the vault. Single use, short-lived; deleted when used or expired.
CREATE TABLE oauth_states (
  state_hash    TEXT PRIMARY KEY,
  handoff_hash  TEXT UNIQUE,
  browser_hash  TEXT,
  authorization_url TEXT NOT NULL,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider      TEXT NOT NULL,
  verifier      TEXT NOT NULL,
  nonce         TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);
-- The proven identity of an OAuth account ("<issuer>|<sub>"): connecting the same identity again
-- re-authorises that account instead of adding another. NULL for CalDAV accounts.
ALTER TABLE accounts ADD COLUMN identity_key TEXT;
CREATE UNIQUE INDEX accounts_identity ON accounts(user_id, provider, identity_key);
-- Why an account needs re-authorisation (the provider refused its refresh token), for status.
ALTER TABLE accounts ADD COLUMN status_reason TEXT;
