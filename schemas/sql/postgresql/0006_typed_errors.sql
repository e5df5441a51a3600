-- A pair's last error keeps its kind next to its message: the error code and, where a caller acts
-- on it, the cause (core::errorCodeName / core::causeName). Nothing branches on the message.
ALTER TABLE pairs ADD COLUMN last_error_code TEXT;
ALTER TABLE pairs ADD COLUMN last_error_cause TEXT;
-- Errors recorded before this version carry their kind only in the text: a failed pull was
-- recorded as "pull of <calendar>: ...", and the next run must still start from a complete listing.
UPDATE pairs SET last_error_cause = 'pull_failed' WHERE last_error LIKE 'pull of %';
