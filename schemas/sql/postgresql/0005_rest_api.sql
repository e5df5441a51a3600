-- REST API (issue 8).
-- Two calendars are paired at most once, whichever is the source: two concurrent requests cannot
-- both create a pair (every event would be copied twice), and a mirrored pair is a two-way pair.
CREATE UNIQUE INDEX pairs_calendar_pair ON pairs (LEAST(source_calendar_id, target_calendar_id),
                                                  GREATEST(source_calendar_id, target_calendar_id));
