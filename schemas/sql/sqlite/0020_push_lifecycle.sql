-- Microsoft 365 subscriptions in push_channels: Graph names a notification's subscription by its
-- own id and proves it with calgate's clientState, so channels are found by the token's hash;
-- `reauthorize` marks one Graph asked to authorise again (a lifecycle event), for the upkeep job.
ALTER TABLE push_channels ADD COLUMN reauthorize INTEGER NOT NULL DEFAULT 0;
CREATE INDEX push_channels_token ON push_channels (token_sha256);

-- Calendars whose provider refused a channel (a failed validation handshake, a refused watch):
-- polled, and asked again only at `retry_at` (unix seconds; the wait doubles per attempt up to a
-- day). `reason` is the provider's error as calgate describes it (no secret, no event data).
CREATE TABLE push_refusals (
  calendar_id TEXT PRIMARY KEY REFERENCES calendars(id) ON DELETE CASCADE,
  reason      TEXT NOT NULL,
  attempts    INTEGER NOT NULL,
  retry_at    BIGINT NOT NULL
);

-- One upkeep round at a time across every calgate process: the round holding this row's lease
-- (`holder`, until `expires_at`, unix seconds) opens, renews and stops channels; another waits.
CREATE TABLE push_upkeep (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  holder     TEXT,
  expires_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO push_upkeep (id, holder, expires_at) VALUES (1, NULL, 0);
