-- Push channels calgate opened on a calendar (a Google events.watch channel; Graph subscriptions
-- later): what a notification is checked against, and what is renewed before it expires and
-- stopped when nothing reads the calendar any more. `id` is calgate's own channel id (the
-- X-Goog-Channel-ID Google echoes), `resource_id` the provider's (X-Goog-Resource-ID; NULL while
-- the channel is being opened: Google may notify before it answers), `token_sha256` the SHA-256 of
-- the channel's random token (the token itself is never stored), `state` opening | active,
-- `expires_at` unix seconds as the provider granted. No event data.
CREATE TABLE push_channels (
  id           TEXT PRIMARY KEY,
  provider     TEXT NOT NULL,
  calendar_id  TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  resource_id  TEXT,
  token_sha256 TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('opening', 'active')),
  expires_at   BIGINT NOT NULL,
  created_at   BIGINT NOT NULL
);
CREATE INDEX push_channels_calendar ON push_channels (calendar_id);
