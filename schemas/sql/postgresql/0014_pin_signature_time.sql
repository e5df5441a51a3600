-- A pin remembers when the zone signed the record that proved it (the RRSIG inception). A record
-- signed earlier than that - an older answer an on-path attacker replays while its signature is
-- still valid - can never lower the pin or widen its allow-list. 0: pinned before this was kept
-- (any secure record may replace it once, as before).
ALTER TABLE org_policies ADD COLUMN signed_at BIGINT NOT NULL DEFAULT 0;
