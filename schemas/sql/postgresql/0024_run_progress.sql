-- The progress of the run holding a pair's lease, for the pair's status (the portal shows it while a
-- sync runs): its step (pulling, writing), the writes it planned and those done so far, and when
-- it last said so (unix seconds). Written by the run (fenced by the lease's generation), reset by
-- the next claim; shown only while the lease is held.
ALTER TABLE pair_leases ADD COLUMN progress_step TEXT;
ALTER TABLE pair_leases ADD COLUMN progress_planned BIGINT;
ALTER TABLE pair_leases ADD COLUMN progress_written BIGINT;
ALTER TABLE pair_leases ADD COLUMN progress_at BIGINT;
