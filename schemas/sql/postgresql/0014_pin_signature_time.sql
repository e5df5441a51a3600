-- A pin remembers when the zone signed the record that proved it (the RRSIG inception). A record
-- signed earlier than that - an older answer an on-path attacker replays while its signature is
-- still valid - can never lower the pin or widen its allow-list. 0: pinned before this was kept
-- (any secure record may replace it once, as before).
-- proven_at: the name whose record proved the pin. A pin proven at a domain's own name is never
-- lowered by its organisational domain's record (a replayed denial of the own record would
-- otherwise hand the decision to the organisational domain's sp=); '' when unknown.
ALTER TABLE org_policies ADD COLUMN signed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE org_policies ADD COLUMN proven_at TEXT NOT NULL DEFAULT '';
