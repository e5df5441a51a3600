-- Exclusive pair runs with fencing: one lease row per pair. A worker that claims a pair's job
-- takes the row (its lease expired or was released) and raises the generation; the run writes
-- to providers and saves cursors only while the row still carries its generation and its lease
-- has not run out. A second worker's claim of the same pair fails on this row, whatever the jobs
-- table says.
CREATE TABLE pair_leases (
  pair_id     TEXT PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
  generation  BIGINT NOT NULL DEFAULT 0,
  job_id      TEXT,
  owner       TEXT,
  expires_at  BIGINT NOT NULL DEFAULT 0
);
-- Runs that were going on when this version took over keep their pair.
INSERT INTO pair_leases (pair_id, generation, job_id, owner, expires_at)
  SELECT pair_id, 1, MIN(id), MIN(lease_owner), MAX(lease_expires_at) FROM jobs
  WHERE state = 'running' AND pair_id IS NOT NULL AND lease_expires_at IS NOT NULL GROUP BY pair_id;
-- A pair whose job kept stopping its worker mid-run (a crash, a kill) until it died is set
-- aside: not scheduled until its user or the operator releases it.
ALTER TABLE pairs ADD COLUMN quarantined_at BIGINT;
ALTER TABLE pairs ADD COLUMN quarantine_reason TEXT;
