-- When the latest request a queued job serves was made (unix milliseconds): set when it is queued
-- and moved on when another request joins it. A run may use a pull of its calendar that another
-- pair's run started at or after this moment (SyncEngine::sharePulls): one pull per change for
-- every pair reading a calendar. NULL on jobs queued before this column: such a run pulls itself.
ALTER TABLE jobs ADD COLUMN requested_at_ms BIGINT;
