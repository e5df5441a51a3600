#include "calgate/accounts/account_store.hpp"

#include "calgate/accounts/identities.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/audit/audit_log.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/core/log.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

namespace calgate::accounts {
using core::ErrorCode;
using core::fail;

namespace {

constexpr const char* kColumns =
    "id, user_id, provider, email, domain, server_url, status, credential_key_id, created_at, identities, "
    "COALESCE(identity_key, ''), COALESCE(status_reason, '')";

struct AccountRow {
  Account a;
  std::string provider;
  std::string serverUrl;
  soci::indicator serverUrlInd = soci::i_null;
  std::string identities;
  soci::indicator identitiesInd = soci::i_null;
  core::Result<Account> finish() {
    Account out = a;
    auto kind = model::parseProviderKind(provider);
    if (!kind) return fail(ErrorCode::Internal, "account " + a.id + ": " + kind.error().message);
    out.provider = *kind;
    if (serverUrlInd == soci::i_ok) out.serverUrl = serverUrl;
    const auto column = identitiesInd == soci::i_ok ? std::optional<std::string>(identities) : std::nullopt;
    out.identities = identitiesFromColumn(column, out.email, out.serverUrl);
    out.identitiesProven = column.has_value();
    return out;
  }
};

#define CALGATE_ACCOUNT_INTO(r)                                                                          \
  soci::into(r.a.id), soci::into(r.a.userId), soci::into(r.provider), soci::into(r.a.email),           \
      soci::into(r.a.domain), soci::into(r.serverUrl, r.serverUrlInd), soci::into(r.a.status),        \
      soci::into(r.a.credentialKeyId), soci::into(r.a.createdAt), soci::into(r.identities, r.identitiesInd), \
      soci::into(r.a.subject), soci::into(r.a.statusReason)

}  // namespace

AccountStore::AccountStore(store::Database& db, vault::Vault& vault, const core::Clock& clock)
    : db_(db), vault_(vault), clock_(clock) {}

namespace {

// A write the database refused on a constraint: when the key the credential was sealed with is no
// longer in the key ring (retired since this process loaded it; the database guards this), the
// refusal becomes RetiredVaultKey, which the callers answer by reloading the ring and sealing again.
core::Error keyRefusal(store::Database& db, const core::Error& refused, const std::string& keyId) {
  if (refused.cause != core::Cause::ConstraintViolated) return refused;
  auto known = db.withSession([&](soci::session& sql) -> core::Result<long long> {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM vault_keys WHERE id = :k", soci::use(keyId), soci::into(n);
    return n;
  });
  if (!known) return known.error();
  if (*known > 0) return refused;
  return core::Error{ErrorCode::Conflict, "vault key " + keyId + " was retired meanwhile", std::nullopt,
                     core::Cause::RetiredVaultKey};
}

bool keyRetired(const core::Error& e) { return e.cause == core::Cause::RetiredVaultKey; }

}  // namespace

core::Result<Account> AccountStore::create(const NewAccount& in, const vault::SecretBytes& credential) {
  auto created = createOnce(in, credential);
  if (!created && keyRetired(created.error())) {
    if (auto reloaded = vault_.reload(); !reloaded) return std::unexpected(reloaded.error());
    created = createOnce(in, credential);
  }
  return created;
}

core::Result<Account> AccountStore::createOnce(const NewAccount& in, const vault::SecretBytes& credential) {
  auto email = normaliseEmail(in.email);
  if (!email) return std::unexpected(email.error());
  Account account;
  account.id = core::newId("acc");
  account.userId = in.userId;
  account.provider = in.provider;
  account.email = *email;
  account.domain = email->substr(email->find('@') + 1);
  account.serverUrl = in.serverUrl;
  account.status = "active";
  account.createdAt = clock_.nowUnixSeconds();
  account.identities = in.identities;
  account.identitiesProven = true;
  account.subject = in.subject;
  const std::string subject = in.subject;
  soci::indicator subjectInd = in.subject.empty() ? soci::i_null : soci::i_ok;
  const std::string identities = identitiesToJson(in.identities);
  const std::string provider(model::toString(account.provider));
  // bound to the server it is sent to: a server_url changed later does not open it
  auto sealed = vault_.seal(credential, vault::Binding{account.userId, provider, account.id,
                                                       vault::endpointOf(in.serverUrl, vault::kCredentialBinding)});
  if (!sealed) return std::unexpected(sealed.error());
  account.credentialKeyId = sealed->keyId;
  auto stored = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const std::string serverUrl = in.serverUrl.value_or("");
    soci::indicator serverInd = in.serverUrl ? soci::i_ok : soci::i_null;
    sql << "INSERT INTO accounts (id, user_id, provider, email, domain, server_url, credential_ciphertext, "
           "credential_key_id, credential_binding, status, created_at, updated_at, identities, identity_key) "
           "VALUES (:i, :u, :p, :e, :d, :s, :c, :k, :b, :st, :t, :t2, :id, :sub)",
        soci::use(account.id), soci::use(account.userId), soci::use(provider), soci::use(account.email),
        soci::use(account.domain), soci::use(serverUrl, serverInd), soci::use(sealed->blob), soci::use(sealed->keyId),
        soci::use(vault::kCredentialBinding), soci::use(account.status), soci::use(account.createdAt),
        soci::use(account.createdAt), soci::use(identities), soci::use(subject, subjectInd);
    return {};
  });
  if (!stored) {
    const core::Error refusal = keyRefusal(db_, stored.error(), sealed->keyId);
    if (refusal.cause == core::Cause::ConstraintViolated) {
      return fail(ErrorCode::Conflict, "this " + provider + " account (" + account.email + ") is already connected");
    }
    return std::unexpected(refusal);
  }
  return account;
}

core::Result<Account> AccountStore::get(std::string_view accountId) {
  const std::string id(accountId);
  return db_.withSession([&](soci::session& sql) -> core::Result<Account> {
    AccountRow r;
    sql << "SELECT " + std::string(kColumns) + " FROM accounts WHERE id = :i", soci::use(id), CALGATE_ACCOUNT_INTO(r);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no account with id " + id);
    return r.finish();
  });
}

core::Result<std::vector<Account>> AccountStore::listForUser(std::string_view userId) {
  const std::string id(userId);
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<Account>> {
    std::vector<Account> out;
    AccountRow r;
    soci::statement st = (sql.prepare << "SELECT " + std::string(kColumns) +
                                             " FROM accounts WHERE user_id = :u ORDER BY created_at, id",
                          soci::use(id), CALGATE_ACCOUNT_INTO(r));
    st.execute();
    while (st.fetch()) {
      auto account = r.finish();
      if (!account) return std::unexpected(account.error());
      out.push_back(std::move(*account));
      r.serverUrlInd = soci::i_null;
      r.identitiesInd = soci::i_null;
    }
    return out;
  });
}

core::Result<Account> AccountStore::findBySubject(std::string_view userId, model::ProviderKind provider,
                                                  std::string_view subject) {
  const std::string user(userId), kind(model::toString(provider)), sub(subject);
  return db_.withSession([&](soci::session& sql) -> core::Result<Account> {
    AccountRow r;
    sql << "SELECT " + std::string(kColumns) + " FROM accounts WHERE user_id = :u AND provider = :p AND identity_key = :s",
        soci::use(user), soci::use(kind), soci::use(sub), CALGATE_ACCOUNT_INTO(r);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no account with that identity");
    return r.finish();
  });
}

core::Result<void> AccountStore::setStatus(std::string_view accountId, std::string_view status, std::string_view reason) {
  const std::string id(accountId), st(status), why(reason);
  soci::indicator whyInd = why.empty() ? soci::i_null : soci::i_ok;
  const long long now = clock_.nowUnixSeconds();
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    soci::statement update = (sql.prepare << "UPDATE accounts SET status = :s, status_reason = :r, updated_at = :t "
                                             "WHERE id = :i",
                              soci::use(st), soci::use(why, whyInd), soci::use(now), soci::use(id));
    update.execute(true);
    if (update.get_affected_rows() == 0) return fail(ErrorCode::NotFound, "no account with id " + id);
    return {};
  });
}

core::Result<void> AccountStore::setIdentities(std::string_view accountId, const std::vector<model::Identity>& identities) {
  const std::string id(accountId);
  const std::string json = identitiesToJson(identities);
  const long long now = clock_.nowUnixSeconds();
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    soci::statement st = (sql.prepare << "UPDATE accounts SET identities = :j, updated_at = :t WHERE id = :i",
                          soci::use(json), soci::use(now), soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) return fail(ErrorCode::NotFound, "no account with id " + id);
    return {};
  });
}

core::Result<AccountStore::SealedRow> AccountStore::sealedRow(const std::string& id) {
  return db_.withSession([&](soci::session& sql) -> core::Result<SealedRow> {
    SealedRow r;
    std::string server;
    soci::indicator serverInd = soci::i_null;
    sql << "SELECT user_id, provider, credential_ciphertext, server_url, credential_binding FROM accounts WHERE id = :i",
        soci::use(id), soci::into(r.userId), soci::into(r.provider), soci::into(r.blob), soci::into(server, serverInd),
        soci::into(r.binding);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no account with id " + id);
    if (serverInd == soci::i_ok) r.serverUrl = server;
    return r;
  });
}

core::Result<vault::SecretBytes> AccountStore::credential(std::string_view accountId) {
  const std::string id(accountId);
  auto row = sealedRow(id);
  if (!row) return std::unexpected(row.error());
  return openSealed(id, *row);
}

core::Result<vault::SecretBytes> AccountStore::openSealed(const std::string& id, const SealedRow& row) {
  auto kind = model::parseProviderKind(row.provider);
  if (!kind) return fail(ErrorCode::Internal, "account " + id + ": " + kind.error().message);
  auto opened = vault_.open(row.blob, vault::Binding{row.userId, std::string(model::toString(*kind)), id,
                                                      vault::endpointOf(row.serverUrl, row.binding)});
  if (!opened && row.binding >= 2) {
    // Sealed for another server than the row names now: the database was changed behind
    // calgate's back. The credential is not opened, so it cannot be sent anywhere.
    audit::AuditEntry e;
    e.userId = row.userId;
    e.action = "account.credential_refused";
    e.objectRef = "account/" + id;
    e.decision = "refused";
    e.reasons = {"the credential is sealed for another server or account than the row names now"};
    (void)audit::AuditLog(db_, clock_).append(e);
    core::log::error("account.credential_refused", {{"account", id}});
    return fail(ErrorCode::Invalid, "account " + id +
                                        ": its stored credential belongs to another server or account than the row "
                                        "names now (was the database changed?); connect the account again");
  }
  return opened;
}

core::Result<std::size_t> AccountStore::bindCredentialsToServers() {
  std::vector<std::string> ids;
  auto listed = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    soci::rowset<std::string> rows = (sql.prepare << "SELECT id FROM accounts WHERE credential_binding < :b",
                                      soci::use(vault::kCredentialBinding));
    for (const auto& id : rows) ids.push_back(id);
    return {};
  });
  if (!listed) return std::unexpected(listed.error());
  std::size_t bound = 0;
  for (const auto& id : ids) {
    auto secret = credential(id);  // opened with the binding it was sealed with
    if (!secret) {
      core::log::warn("account.rebind_failed", {{"account", id}, {"error", secret.error().describe()}});
      continue;
    }
    if (auto ok = replaceCredential(id, *secret); !ok) return std::unexpected(ok.error());
    ++bound;
  }
  return bound;
}

core::Result<void> AccountStore::replaceCredential(std::string_view accountId, const vault::SecretBytes& credential) {
  auto replaced = replaceCredentialIf(accountId, credential, std::nullopt);
  if (!replaced) return std::unexpected(replaced.error());
  return {};
}

core::Result<bool> AccountStore::replaceCredentialIf(std::string_view accountId, const vault::SecretBytes& credential,
                                                     const std::optional<std::string>& version) {
  auto replaced = replaceOnce(accountId, credential, version);
  if (!replaced && keyRetired(replaced.error())) {
    if (auto reloaded = vault_.reload(); !reloaded) return std::unexpected(reloaded.error());
    replaced = replaceOnce(accountId, credential, version);
  }
  return replaced;
}

core::Result<AccountStore::VersionedCredential> AccountStore::versionedCredential(std::string_view accountId) {
  const std::string id(accountId);
  auto row = sealedRow(id);  // one read: the secret and its version come from the same row
  if (!row) return std::unexpected(row.error());
  auto secret = openSealed(id, *row);
  if (!secret) return std::unexpected(secret.error());
  return VersionedCredential{std::move(*secret), core::sha256Hex(row->blob)};
}

core::Result<bool> AccountStore::setStatusIf(std::string_view accountId, std::string_view status,
                                             std::string_view reason, const std::string& version) {
  const std::string id(accountId), st(status), why(reason);
  soci::indicator whyInd = why.empty() ? soci::i_null : soci::i_ok;
  const long long now = clock_.nowUnixSeconds();
  return db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    store::WriteTransaction tx(sql, db_.dialect());
    std::string blob;
    sql << "SELECT credential_ciphertext FROM accounts WHERE id = :i", soci::use(id), soci::into(blob);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no account with id " + id);
    if (core::sha256Hex(blob) != version) return false;  // re-authorised meanwhile
    sql << "UPDATE accounts SET status = :s, status_reason = :r, updated_at = :t WHERE id = :i", soci::use(st),
        soci::use(why, whyInd), soci::use(now), soci::use(id);
    tx.commit();
    return true;
  });
}

core::Result<bool> AccountStore::replaceOnce(std::string_view accountId, const vault::SecretBytes& credential,
                                             const std::optional<std::string>& version) {
  auto account = get(accountId);
  if (!account) return std::unexpected(account.error());
  auto sealed = vault_.seal(credential, vault::Binding{account->userId, std::string(model::toString(account->provider)),
                                                       account->id,
                                                       vault::endpointOf(account->serverUrl, vault::kCredentialBinding)});
  if (!sealed) return std::unexpected(sealed.error());
  auto stored = db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    store::WriteTransaction tx(sql, db_.dialect());
    if (version) {
      std::string blob;
      sql << "SELECT credential_ciphertext FROM accounts WHERE id = :i", soci::use(account->id), soci::into(blob);
      if (!sql.got_data() || core::sha256Hex(blob) != *version) return false;  // replaced meanwhile
    }
    const long long now = clock_.nowUnixSeconds();
    sql << "UPDATE accounts SET credential_ciphertext = :c, credential_key_id = :k, credential_binding = :b, "
           "updated_at = :t WHERE id = :i",
        soci::use(sealed->blob), soci::use(sealed->keyId), soci::use(vault::kCredentialBinding), soci::use(now),
        soci::use(account->id);
    tx.commit();
    return true;
  });
  if (!stored) return std::unexpected(keyRefusal(db_, stored.error(), sealed->keyId));
  return stored;
}

core::Result<void> AccountStore::remove(std::string_view accountId) {
  const std::string id(accountId);
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    int n = 0;
    sql << "SELECT COUNT(*) FROM accounts WHERE id = :i", soci::use(id), soci::into(n);
    if (n == 0) return fail(ErrorCode::NotFound, "no account with id " + id);
    sql << "DELETE FROM accounts WHERE id = :i", soci::use(id);  // calendars, pairs... cascade
    tx.commit();
    return {};
  });
}

}  // namespace calgate::accounts
