-- Wrong feed PINs are counted per client (a digest of the feed and the client's address; IPv6 by
-- its /64), not per feed: a stranger guessing PINs locks out only themselves, never the owner's
-- viewers. The address itself is not stored.
CREATE TABLE feed_pin_attempts (
  feed_id       TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
  client        TEXT NOT NULL,
  failures      BIGINT NOT NULL DEFAULT 0,
  locked_until  BIGINT,
  updated_at    BIGINT NOT NULL,
  PRIMARY KEY (feed_id, client)
);
