-- One bad event never stalls a pair: a source event whose copy the target refuses (a 4xx for that
-- event) is kept here with the reason, how often it failed and when it is tried again; the run goes
-- on with every other event and saves its cursors. A later success (or the event's deletion) clears
-- the row. Ids and reasons only, never event content.
CREATE TABLE failing_events (
  pair_id             TEXT NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  source_calendar_id  TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  source_event_id     TEXT NOT NULL,
  reason              TEXT NOT NULL,
  attempts            INTEGER NOT NULL,
  first_failed_at     INTEGER NOT NULL,
  next_retry_at       INTEGER NOT NULL,
  PRIMARY KEY (pair_id, source_calendar_id, source_event_id)
);
-- When the listing a cursor continues from was taken: copies written after it that a later
-- incremental listing does not mention are checked (a server may omit a copy created and deleted
-- after the token, RFC 6578 §3.5).
ALTER TABLE cursors ADD COLUMN taken_at INTEGER;
