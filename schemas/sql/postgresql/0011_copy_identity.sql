-- Copies keep their identity across re-pairing. A copy's UID and origin marker derive from its
-- pair's copy seed (not the pair's id): a pair created for the same source and target calendars
-- as a deleted one takes over that pair's seed, so its first run finds the copies the old pair
-- left (same UID, same resource) and updates them instead of writing second ones. Pairs made
-- before this keep their id as their seed: their copies are unchanged.
ALTER TABLE pairs ADD COLUMN copy_seed TEXT;
UPDATE pairs SET copy_seed = id;
-- The seeds of deleted pairs, by the calendars they joined (ids only).
CREATE TABLE retired_pairs (
  source_calendar_id  TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  target_calendar_id  TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  copy_seed           TEXT NOT NULL,
  retired_at          BIGINT NOT NULL,
  PRIMARY KEY (source_calendar_id, target_calendar_id)
);
