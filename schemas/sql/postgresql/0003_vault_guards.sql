-- Guards for the vault's key ring, enforced by the database so no process (a long-running
-- gateway with a stale key ring, a concurrent calgate-admin) can break them:
--   * a credential can only name a key that exists (not an unknown or retired one);
--   * a key that still seals a credential cannot be deleted.
-- And rotation bookkeeping: the key an unfinished rotation moves to, and a lease so two
-- rotations cannot run at once.

ALTER TABLE accounts ADD CONSTRAINT accounts_credential_key_fk
  FOREIGN KEY (credential_key_id) REFERENCES vault_keys(id) ON DELETE RESTRICT;

ALTER TABLE vault_meta ADD COLUMN rotation_target TEXT;
ALTER TABLE vault_meta ADD COLUMN rotation_lease_until BIGINT;
