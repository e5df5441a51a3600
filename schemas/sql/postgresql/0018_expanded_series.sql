-- A series the target cannot hold as a rule (Outlook has no pattern for a monthly day 31, RDATEs…)
-- is copied as its occurrences inside the pair's window. Its own mapping then names no copy and
-- records the end of the window it was expanded over (unix seconds), so the series is read again
-- once the window has moved a day and the occurrences entering it are copied. NULL for every other
-- mapping. No event data.
ALTER TABLE mappings ADD COLUMN expanded_until BIGINT;
