-- Sync engine (issue 7).
-- A pair paused by the mass-delete guard runs again once a user confirms; the confirmation lets
-- exactly the next run delete past the guard.
ALTER TABLE pairs ADD COLUMN deletions_confirmed_at INTEGER;
-- What the copies were last rendered under (pair rules + organisation policies): when it changes,
-- the next run lists the source completely so every copy is re-rendered.
ALTER TABLE pairs ADD COLUMN policy_fingerprint TEXT;
-- Which job a worker leased is visible; finished jobs are deleted (the audit log keeps history).
CREATE INDEX jobs_lease ON jobs(state, lease_expires_at);
-- A series master: its start/end are those of the first occurrence, so window checks must not apply.
ALTER TABLE mappings ADD COLUMN recurring INTEGER NOT NULL DEFAULT 0 CHECK (recurring IN (0, 1));
-- Mappings are looked up per pair and source calendar on every run.
CREATE INDEX mappings_pair_source ON mappings(pair_id, source_calendar_id);
