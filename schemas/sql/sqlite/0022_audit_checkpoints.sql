-- Secrets of calgate's own (the audit signing key's seed, the key of keyed hashes): 32 random bytes
-- each, made on first use and kept only wrapped under the vault's master key (AES-256-GCM, bound
-- to the purpose), the same for every process on this database.
CREATE TABLE server_secrets (
  purpose     TEXT PRIMARY KEY,
  wrapped     TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);

-- Signed checkpoints of the audit chain: the Ed25519 signature (base64) by the key `key_id` over
-- entry `seq` having the hash `entry_sha256` at `at` (unix seconds). Made periodically, at every
-- export, and before a retention purge removes entries (then the first remaining entry's
-- prev_sha256 is anchored by the checkpoint of the last removed one).
CREATE TABLE audit_checkpoints (
  seq           BIGINT PRIMARY KEY,
  entry_sha256  TEXT NOT NULL,
  at            BIGINT NOT NULL,
  key_id        TEXT NOT NULL,
  signature     TEXT NOT NULL
);
