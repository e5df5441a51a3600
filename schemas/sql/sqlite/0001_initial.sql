-- calgate data model, version 1 (SQLite).
-- Rule: no column ever holds an event title, description, location or attendee.
-- Times are Unix seconds (UTC). Ids are opaque random strings made by the gateway.
-- Booleans are INTEGER 0/1 (identical in both dialects).

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE,          -- lower-cased
  created_at    INTEGER NOT NULL,
  disabled_at   INTEGER
);

CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_sha256  TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the bearer secret; the secret is never stored
  label         TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- A connected provider account. Credentials only as vault ciphertext (AES-256-GCM, bound to
-- user id + provider + account id), never in clear.
CREATE TABLE accounts (
  id                     TEXT PRIMARY KEY,
  user_id                TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider               TEXT NOT NULL CHECK (provider IN ('google', 'microsoft', 'caldav')),
  email                  TEXT NOT NULL,        -- the account's address; its domain selects the org policy
  domain                 TEXT NOT NULL,
  server_url             TEXT,                 -- CalDAV only
  credential_ciphertext  TEXT NOT NULL,        -- base64 vault blob
  credential_key_id      TEXT NOT NULL,        -- vault key that sealed it (for rotation/status)
  status                 TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reauth', 'disabled')),
  last_error             TEXT,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL,
  UNIQUE (user_id, provider, email)
);
CREATE INDEX accounts_key ON accounts(credential_key_id);

CREATE TABLE calendars (
  id                    TEXT PRIMARY KEY,
  account_id            TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  provider_calendar_id  TEXT NOT NULL,         -- Google calendarId, Graph id, or CalDAV collection href
  display_name          TEXT NOT NULL DEFAULT '',
  time_zone             TEXT,
  writable              INTEGER NOT NULL DEFAULT 1 CHECK (writable IN (0, 1)),
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  UNIQUE (account_id, provider_calendar_id)
);

CREATE TABLE pairs (
  id                    TEXT PRIMARY KEY,
  user_id               TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  source_calendar_id    TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  target_calendar_id    TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  direction             TEXT NOT NULL CHECK (direction IN ('one_way', 'two_way')),
  rules_json            TEXT NOT NULL,         -- PairRules: privacy mode, label, field rules
  window_past_days      INTEGER NOT NULL DEFAULT 90,
  window_future_days    INTEGER NOT NULL DEFAULT 365,
  enabled               INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  needs_confirmation    INTEGER NOT NULL DEFAULT 0 CHECK (needs_confirmation IN (0, 1)),
  confirmation_reason   TEXT,
  last_success_at       INTEGER,
  last_error            TEXT,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  CHECK (source_calendar_id <> target_calendar_id)
);
CREATE INDEX pairs_user ON pairs(user_id);

-- Incremental-sync position per pair and side (Google syncToken, Graph deltaLink, CalDAV sync-token/CTag).
CREATE TABLE cursors (
  pair_id      TEXT NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  calendar_id  TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  kind         TEXT NOT NULL CHECK (kind IN ('sync_token', 'delta_link', 'caldav_sync_token', 'ctag')),
  value        TEXT NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (pair_id, calendar_id, kind)
);

-- One row per event calgate mirrors: ids, ETags, times and the hash of what was written. No content.
CREATE TABLE mappings (
  id                    TEXT PRIMARY KEY,
  pair_id               TEXT NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  source_calendar_id    TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  source_event_id       TEXT NOT NULL,
  source_recurrence_id  TEXT NOT NULL DEFAULT '',   -- '' for a whole event or series
  source_etag           TEXT,
  target_event_id       TEXT,
  target_etag           TEXT,
  content_sha256        TEXT,                        -- SHA-256 of the approved target representation
  start_at              INTEGER,
  end_at                INTEGER,
  all_day               INTEGER NOT NULL DEFAULT 0 CHECK (all_day IN (0, 1)),
  state                 TEXT NOT NULL CHECK (state IN ('pending', 'synced', 'denied', 'deleted', 'error')),
  deleted_at            INTEGER,                     -- soft delete, purged after 30 days
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  UNIQUE (pair_id, source_calendar_id, source_event_id, source_recurrence_id)
);
CREATE INDEX mappings_target ON mappings(pair_id, target_event_id);
CREATE INDEX mappings_deleted ON mappings(deleted_at) WHERE deleted_at IS NOT NULL;

-- Push channels: Google events.watch channels and Graph subscriptions.
CREATE TABLE subscriptions (
  id                   TEXT PRIMARY KEY,
  calendar_id          TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  provider             TEXT NOT NULL CHECK (provider IN ('google', 'microsoft')),
  external_id          TEXT NOT NULL,            -- channel id / subscription id
  resource_id          TEXT,                     -- Google resourceId
  client_state_sha256  TEXT NOT NULL,            -- hash of the channel token / clientState we verify
  expires_at           INTEGER NOT NULL,
  renewed_at           INTEGER,
  created_at           INTEGER NOT NULL,
  UNIQUE (provider, external_id)
);
CREATE INDEX subscriptions_expiry ON subscriptions(expires_at);

-- Work queue. Leases make a crashed worker's job runnable again after lease_expires_at.
CREATE TABLE jobs (
  id                TEXT PRIMARY KEY,
  kind              TEXT NOT NULL,
  pair_id           TEXT REFERENCES pairs(id) ON DELETE CASCADE,
  payload_json      TEXT NOT NULL DEFAULT '{}',
  coalesce_key      TEXT,                        -- at most one queued job per key
  state             TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead')),
  priority          INTEGER NOT NULL DEFAULT 0,
  run_at            INTEGER NOT NULL,
  attempts          INTEGER NOT NULL DEFAULT 0,
  max_attempts      INTEGER NOT NULL DEFAULT 10,
  lease_owner       TEXT,
  lease_expires_at  INTEGER,
  last_error        TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX jobs_runnable ON jobs(state, run_at, priority);
CREATE UNIQUE INDEX jobs_coalesce ON jobs(coalesce_key) WHERE state = 'queued' AND coalesce_key IS NOT NULL;

-- Organisation policy seen in DNS: cache and pin (ma=) per domain.
CREATE TABLE org_policies (
  domain             TEXT PRIMARY KEY,
  record_text        TEXT,
  level              TEXT NOT NULL CHECK (level IN ('none', 'private', 'block')),
  label              TEXT,
  allow_list         TEXT NOT NULL DEFAULT '',   -- comma-separated domains
  validation_state   TEXT NOT NULL CHECK (validation_state IN ('secure', 'insecure', 'bogus', 'indeterminate', 'absent')),
  reasons            TEXT NOT NULL DEFAULT '',
  fetched_at         INTEGER NOT NULL,
  cache_expires_at   INTEGER NOT NULL,
  pinned_until       INTEGER
);

-- Append-only, hash-chained audit trail (entry_sha256 covers prev_sha256 + the entry).
CREATE TABLE audit_log (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  at            INTEGER NOT NULL,
  actor         TEXT NOT NULL,                   -- 'system', 'admin', or a user id
  user_id       TEXT,                            -- kept after the user is deleted (no FK)
  action        TEXT NOT NULL,
  object_ref    TEXT NOT NULL DEFAULT '',        -- what the action was about (pair id, account id...)
  decision      TEXT,
  details_json  TEXT NOT NULL DEFAULT '{}',
  prev_sha256   TEXT NOT NULL,
  entry_sha256  TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_user ON audit_log(user_id);

-- Availability (busy-only) feeds served at capability URLs.
CREATE TABLE feeds (
  id                  TEXT PRIMARY KEY,
  user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_sha256        TEXT NOT NULL UNIQUE,
  label               TEXT NOT NULL DEFAULT 'Busy',
  calendar_ids_json   TEXT NOT NULL,
  window_past_days    INTEGER NOT NULL DEFAULT 7,
  window_future_days  INTEGER NOT NULL DEFAULT 60,
  pin_scrypt          TEXT,                      -- scrypt hash of the optional PIN
  pin_failures        INTEGER NOT NULL DEFAULT 0,
  pin_locked_until    INTEGER,
  created_at          INTEGER NOT NULL,
  revoked_at          INTEGER
);
CREATE INDEX feeds_user ON feeds(user_id);

-- Evidence that a user's data was erased (GDPR): only a hash of the email survives.
CREATE TABLE deletion_audit (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  email_sha256   TEXT NOT NULL,
  deleted_at     INTEGER NOT NULL,
  requested_by   TEXT NOT NULL CHECK (requested_by IN ('user', 'admin', 'retention')),
  counts_json    TEXT NOT NULL DEFAULT '{}'      -- counts of rows removed, no identifiers
);
