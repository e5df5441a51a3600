-- Who an account proves to be (model::Identity, JSON array of {kind, address, domain, member,
-- tenant}): the organisation policies that concern it are chosen from these, never from the
-- address typed when connecting (accounts.email is a label from now on). NULL: connected before
-- proofs were kept; such an account counts as its server's registrable domain plus its typed
-- domain as a source (tightening only), and is inside no organisation as a target, until it is
-- proven again (refreshing its calendars does that).
ALTER TABLE accounts ADD COLUMN identities TEXT;
