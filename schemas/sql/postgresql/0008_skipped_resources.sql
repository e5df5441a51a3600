-- Source resources a pair cannot take (several UIDs in one resource, no DTSTART, a broken
-- recurrence, a server that refuses to return one...): shown in the pair's status and preview,
-- audited once per version (ETag and reason), never taken for deletions. Ids and reasons only,
-- never event content. A row goes when the resource is read fine again or is deleted.
CREATE TABLE skipped_resources (
  pair_id             TEXT NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  source_calendar_id  TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  source_event_id     TEXT NOT NULL,
  etag                TEXT NOT NULL DEFAULT '',
  reason              TEXT NOT NULL,
  first_seen_at       BIGINT NOT NULL,
  seen_at             BIGINT NOT NULL,
  PRIMARY KEY (pair_id, source_calendar_id, source_event_id)
);
