-- The credential vault's key ring (envelope encryption). Each data key is stored wrapped
-- (AES-256-GCM) under the master key, which never touches the database. Credentials in
-- accounts.credential_ciphertext are sealed with a data key named by accounts.credential_key_id.

CREATE TABLE vault_keys (
  id           TEXT PRIMARY KEY,
  wrapped_key  TEXT NOT NULL,       -- base64 sealed blob: the data key under the master key
  created_at   BIGINT NOT NULL
);

-- One row: how the master key is checked and, for a passphrase, how it is derived.
CREATE TABLE vault_meta (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  master_check  TEXT NOT NULL,      -- a constant sealed under the master key: proves the right key
  kdf           TEXT NOT NULL CHECK (kdf IN ('raw', 'scrypt')),
  kdf_salt      TEXT,               -- base64, scrypt only
  kdf_n         BIGINT,
  kdf_r         INTEGER,
  kdf_p         INTEGER,
  created_at    BIGINT NOT NULL
);
