-- The mass-delete guard's confirmation is bound to what was shown: a paused pair keeps the ids of
-- the deletions it holds (opaque digests, one per line; no source ids), and a confirmation copies
-- exactly those. A later run deletes past the guard only what the confirmation covers.
ALTER TABLE pairs ADD COLUMN guard_deletions TEXT;
ALTER TABLE pairs ADD COLUMN confirmed_deletions TEXT;
