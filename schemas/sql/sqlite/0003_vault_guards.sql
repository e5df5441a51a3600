-- Guards for the vault's key ring, enforced by the database so no process (a long-running
-- gateway with a stale key ring, a concurrent calgate-admin) can break them:
--   * a credential can only name a key that exists (not an unknown or retired one);
--   * a key that still seals a credential cannot be deleted.
-- And rotation bookkeeping: the key an unfinished rotation moves to, and a lease so two
-- rotations cannot run at once.

CREATE TRIGGER accounts_key_known_insert BEFORE INSERT ON accounts
FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM vault_keys WHERE id = NEW.credential_key_id)
BEGIN
  SELECT RAISE(ABORT, 'vault key unknown or retired: constraint failed');
END;

CREATE TRIGGER accounts_key_known_update BEFORE UPDATE OF credential_key_id ON accounts
FOR EACH ROW WHEN NOT EXISTS (SELECT 1 FROM vault_keys WHERE id = NEW.credential_key_id)
BEGIN
  SELECT RAISE(ABORT, 'vault key unknown or retired: constraint failed');
END;

CREATE TRIGGER vault_keys_in_use BEFORE DELETE ON vault_keys
FOR EACH ROW WHEN EXISTS (SELECT 1 FROM accounts WHERE credential_key_id = OLD.id)
BEGIN
  SELECT RAISE(ABORT, 'vault key still seals credentials: constraint failed');
END;

ALTER TABLE vault_meta ADD COLUMN rotation_target TEXT;
ALTER TABLE vault_meta ADD COLUMN rotation_lease_until BIGINT;
