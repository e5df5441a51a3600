-- Requests in flight per mailbox, counted across every calgate process (Outlook serves an app at
-- most 4 concurrent requests per mailbox): one row per slot of a key ("graph:<account id>"),
-- taken by a request as a lease. `holder` is the request's random ticket, `expires_at` (unix
-- seconds) when a holder that died lets go. No secret, no event data.
CREATE TABLE request_slots (
  slot_key   TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  holder     BIGINT,
  expires_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (slot_key, slot)
);
