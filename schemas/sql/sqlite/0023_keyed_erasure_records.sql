-- Erasure records name the erased user's random id, so `calgate-admin audit export --user` finds
-- their audit entries by the address's keyed hash (email_sha256 now holds "k1:" + an HMAC of the
-- address under calgate's own key from the vault; older rows keep the plain SHA-256).
ALTER TABLE deletion_audit ADD COLUMN user_id TEXT;
