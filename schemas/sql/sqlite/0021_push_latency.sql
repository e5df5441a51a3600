-- The push-to-write latency (calgate_push_to_write_seconds): a job queued (or coalesced) because of
-- a push notification remembers when the earliest notification it serves arrived (unix
-- milliseconds; NULL for a job no notification asked for). The run that writes reports the time
-- from then; the column moves with the request when a failed run's queued twin takes it over.
ALTER TABLE jobs ADD COLUMN notified_at BIGINT;
