-- A credential is bound to where it is sent: from binding version 2 on, the associated data of its
-- seal names the canonical origin of the account's server (scheme, host, port). A server_url
-- changed behind calgate's back no longer opens the credential, so the password is never sent to
-- the new host. Rows sealed before (version 1) are sealed again at start-up by calgate serve.
ALTER TABLE accounts ADD COLUMN credential_binding INTEGER NOT NULL DEFAULT 1;
