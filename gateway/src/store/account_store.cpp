#include "calgate/gateway/store/account_store.hpp"

#include "calgate/core/ids.hpp"
#include "calgate/gateway/store/user_store.hpp"
#include "store/transaction.hpp"

#include <soci/soci.h>

namespace calgate::gateway {
using core::ErrorCode;
using core::fail;

namespace {

constexpr const char* kColumns =
    "id, user_id, provider, email, domain, server_url, status, credential_key_id, created_at";

struct AccountRow {
  Account a;
  std::string serverUrl;
  soci::indicator serverUrlInd = soci::i_null;
  Account finish() {
    Account out = a;
    if (serverUrlInd == soci::i_ok) out.serverUrl = serverUrl;
    return out;
  }
};

#define CALGATE_ACCOUNT_INTO(r)                                                                          \
  soci::into(r.a.id), soci::into(r.a.userId), soci::into(r.a.provider), soci::into(r.a.email),         \
      soci::into(r.a.domain), soci::into(r.serverUrl, r.serverUrlInd), soci::into(r.a.status),        \
      soci::into(r.a.credentialKeyId), soci::into(r.a.createdAt)

}  // namespace

AccountStore::AccountStore(Database& db, vault::Vault& vault, const core::Clock& clock)
    : db_(db), vault_(vault), clock_(clock) {}

namespace {

// The database refused the key a credential was sealed with: it was retired (or is unknown) since
// this process loaded its key ring.
bool keyRefused(const core::Error& e) {
  return e.code == ErrorCode::Conflict && (e.message.find("vault key") != std::string::npos ||
                                           e.message.find("accounts_credential_key_fk") != std::string::npos);
}

}  // namespace

core::Result<Account> AccountStore::create(const NewAccount& in, const vault::SecretBytes& credential) {
  auto created = createOnce(in, credential);
  if (!created && keyRefused(created.error())) {
    if (auto reloaded = vault_.reload(); !reloaded) return std::unexpected(reloaded.error());
    created = createOnce(in, credential);
  }
  return created;
}

core::Result<Account> AccountStore::createOnce(const NewAccount& in, const vault::SecretBytes& credential) {
  if (in.provider != "google" && in.provider != "microsoft" && in.provider != "caldav") {
    return fail(ErrorCode::Invalid, "unknown provider \"" + in.provider.substr(0, 32) + "\"");
  }
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
  auto sealed = vault_.seal(credential, vault::Binding{account.userId, account.provider, account.id});
  if (!sealed) return std::unexpected(sealed.error());
  account.credentialKeyId = sealed->keyId;
  auto stored = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const std::string serverUrl = in.serverUrl.value_or("");
    soci::indicator serverInd = in.serverUrl ? soci::i_ok : soci::i_null;
    sql << "INSERT INTO accounts (id, user_id, provider, email, domain, server_url, credential_ciphertext, "
           "credential_key_id, status, created_at, updated_at) VALUES (:i, :u, :p, :e, :d, :s, :c, :k, :st, :t, :t2)",
        soci::use(account.id), soci::use(account.userId), soci::use(account.provider), soci::use(account.email),
        soci::use(account.domain), soci::use(serverUrl, serverInd), soci::use(sealed->blob), soci::use(sealed->keyId),
        soci::use(account.status), soci::use(account.createdAt), soci::use(account.createdAt);
    return {};
  });
  if (!stored) {
    if (stored.error().code == ErrorCode::Conflict && !keyRefused(stored.error())) {
      return fail(ErrorCode::Conflict, "this " + in.provider + " account (" + account.email + ") is already connected");
    }
    return std::unexpected(stored.error());
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
      out.push_back(r.finish());
      r.serverUrlInd = soci::i_null;
    }
    return out;
  });
}

core::Result<vault::SecretBytes> AccountStore::credential(std::string_view accountId) {
  const std::string id(accountId);
  struct Row {
    std::string userId, provider, blob;
  };
  auto row = db_.withSession([&](soci::session& sql) -> core::Result<Row> {
    Row r;
    sql << "SELECT user_id, provider, credential_ciphertext FROM accounts WHERE id = :i", soci::use(id),
        soci::into(r.userId), soci::into(r.provider), soci::into(r.blob);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no account with id " + id);
    return r;
  });
  if (!row) return std::unexpected(row.error());
  return vault_.open(row->blob, vault::Binding{row->userId, row->provider, id});
}

core::Result<void> AccountStore::replaceCredential(std::string_view accountId, const vault::SecretBytes& credential) {
  auto replaced = replaceOnce(accountId, credential);
  if (!replaced && keyRefused(replaced.error())) {
    if (auto reloaded = vault_.reload(); !reloaded) return std::unexpected(reloaded.error());
    replaced = replaceOnce(accountId, credential);
  }
  return replaced;
}

core::Result<void> AccountStore::replaceOnce(std::string_view accountId, const vault::SecretBytes& credential) {
  auto account = get(accountId);
  if (!account) return std::unexpected(account.error());
  auto sealed = vault_.seal(credential, vault::Binding{account->userId, account->provider, account->id});
  if (!sealed) return std::unexpected(sealed.error());
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    sql << "UPDATE accounts SET credential_ciphertext = :c, credential_key_id = :k, updated_at = :t WHERE id = :i",
        soci::use(sealed->blob), soci::use(sealed->keyId), soci::use(now), soci::use(account->id);
    return {};
  });
}

core::Result<void> AccountStore::remove(std::string_view accountId) {
  const std::string id(accountId);
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    detail::WriteTransaction tx(sql, db_.dialect());
    int n = 0;
    sql << "SELECT COUNT(*) FROM accounts WHERE id = :i", soci::use(id), soci::into(n);
    if (n == 0) return fail(ErrorCode::NotFound, "no account with id " + id);
    sql << "DELETE FROM accounts WHERE id = :i", soci::use(id);  // calendars, pairs... cascade
    tx.commit();
    return {};
  });
}

}  // namespace calgate::gateway
