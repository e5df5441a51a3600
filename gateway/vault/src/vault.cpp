#include "calgate/vault/vault.hpp"

#include <algorithm>
#include <cctype>

#include "calgate/core/ids.hpp"
#include "calgate/store/transaction.hpp"

#include <botan/base64.h>
#include <botan/pwdhash.h>
#include <botan/system_rng.h>
#include <soci/soci.h>

namespace calgate::vault {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::string_view kMasterKeyId = "master";
constexpr std::string_view kCheckPlaintext = "calgate vault master key check v1";

std::string wrapContext(std::string_view keyId) { return contextOf({"vault-data-key", keyId}); }
const std::string kCheckContext = contextOf({"vault-master-check"});

struct Meta {
  std::string check;
  std::string kdf;
  std::string salt;
  long long n = 0;
  int r = 0;
  int p = 0;
};

core::Result<SecretBytes> deriveFromPassphrase(const SecretBytes& passphrase, const Meta& meta) {
  try {
    SecretBytes salt = Botan::base64_decode(meta.salt);
    auto family = Botan::PasswordHashFamily::create_or_throw("Scrypt");
    auto hash = family->from_params(static_cast<size_t>(meta.n), static_cast<size_t>(meta.r),
                                    static_cast<size_t>(meta.p));
    SecretBytes key(kKeyBytes);
    hash->derive_key(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()), passphrase.size(),
                     salt.data(), salt.size());
    return key;
  } catch (const std::exception& e) {
    return fail(ErrorCode::Internal, std::string("scrypt failed: ") + e.what());
  }
}

}  // namespace

std::string bindingContext(const Binding& b) {
  if (b.endpoint.empty()) return contextOf({"credential", b.userId, b.provider, b.accountId});
  return contextOf({"credential", b.userId, b.provider, b.accountId, "endpoint", b.endpoint});
}

std::string canonicalOrigin(std::string_view url) {
  const auto schemeEnd = url.find("://");
  if (schemeEnd == std::string_view::npos) return {};
  std::string scheme(url.substr(0, schemeEnd));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view rest = url.substr(schemeEnd + 3);
  std::string authority(rest.substr(0, rest.find_first_of("/?#")));
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  std::transform(authority.begin(), authority.end(), authority.begin(), [](unsigned char c) { return std::tolower(c); });
  if (authority.empty() || (scheme != "https" && scheme != "http")) return {};
  const std::string defaultPort = scheme == "https" ? ":443" : ":80";
  if (authority.ends_with(defaultPort)) authority.erase(authority.size() - defaultPort.size());
  return scheme + "://" + authority;
}

Vault::Vault(store::Database& db, SecretBytes masterKey, const core::Clock& clock)
    : db_(db), master_(std::move(masterKey)), clock_(clock) {}

Vault::~Vault() = default;

core::Result<std::unique_ptr<Vault>> Vault::open(store::Database& db, const MasterKeyMaterial& material,
                                                 const core::Clock& clock, ScryptParams scrypt) {
  const bool passphrase = material.kind == MasterKeyMaterial::Kind::Passphrase;
  // Read, or on first use create, the vault's metadata (one transaction, so two processes
  // starting together cannot both initialise it).
  auto meta = db.withSession([&](soci::session& sql) -> core::Result<Meta> {
    store::WriteTransaction tx(sql, db.dialect());
    Meta m;
    soci::indicator saltInd = soci::i_null, nInd = soci::i_null, rInd = soci::i_null, pInd = soci::i_null;
    sql << "SELECT master_check, kdf, kdf_salt, kdf_n, kdf_r, kdf_p FROM vault_meta WHERE id = 1",
        soci::into(m.check), soci::into(m.kdf), soci::into(m.salt, saltInd), soci::into(m.n, nInd),
        soci::into(m.r, rInd), soci::into(m.p, pInd);
    if (sql.got_data()) return m;
    m.kdf = passphrase ? "scrypt" : "raw";
    SecretBytes key = material.bytes;
    if (passphrase) {
      std::vector<std::uint8_t> salt(16);
      Botan::system_rng().randomize(salt.data(), salt.size());
      m.salt = Botan::base64_encode(salt);
      m.n = scrypt.n;
      m.r = scrypt.r;
      m.p = scrypt.p;
      auto derived = deriveFromPassphrase(material.bytes, m);
      if (!derived) return std::unexpected(derived.error());
      key = std::move(*derived);
    }
    auto check = vault::seal(key, kMasterKeyId, SecretBytes(kCheckPlaintext.begin(), kCheckPlaintext.end()), kCheckContext);
    if (!check) return std::unexpected(check.error());
    m.check = *check;
    const long long now = clock.nowUnixSeconds();
    soci::indicator salt = passphrase ? soci::i_ok : soci::i_null;
    // ON CONFLICT: another process starting at the same moment may have initialised it first.
    sql << "INSERT INTO vault_meta (id, master_check, kdf, kdf_salt, kdf_n, kdf_r, kdf_p, created_at) "
           "VALUES (1, :c, :k, :s, :n, :r, :p, :t) ON CONFLICT (id) DO NOTHING",
        soci::use(m.check), soci::use(m.kdf), soci::use(m.salt, salt), soci::use(m.n, salt), soci::use(m.r, salt),
        soci::use(m.p, salt), soci::use(now);
    Meta stored;
    saltInd = nInd = rInd = pInd = soci::i_null;
    sql << "SELECT master_check, kdf, kdf_salt, kdf_n, kdf_r, kdf_p FROM vault_meta WHERE id = 1",
        soci::into(stored.check), soci::into(stored.kdf), soci::into(stored.salt, saltInd), soci::into(stored.n, nInd),
        soci::into(stored.r, rInd), soci::into(stored.p, pInd);
    tx.commit();
    return stored;
  });
  if (!meta) return std::unexpected(meta.error());

  if (passphrase != (meta->kdf == "scrypt")) {
    return fail(ErrorCode::Unauthorized,
                "the vault in this database was initialised with " +
                    std::string(meta->kdf == "scrypt" ? "a passphrase (CALGATE_MASTER_PASSPHRASE)"
                                                      : "a master key (key file or CALGATE_MASTER_KEY)") +
                    ", but " + material.origin + " was given");
  }
  SecretBytes key = material.bytes;
  if (passphrase) {
    auto derived = deriveFromPassphrase(material.bytes, *meta);
    if (!derived) return std::unexpected(derived.error());
    key = std::move(*derived);
  }
  auto check = vault::open(key, meta->check, kCheckContext);
  if (!check || std::string_view(reinterpret_cast<const char*>(check->data()), check->size()) != kCheckPlaintext) {
    return fail(ErrorCode::Unauthorized, "the master key from " + material.origin +
                                             " does not match the one this database's vault was initialised with");
  }
  std::unique_ptr<Vault> vault(new Vault(db, std::move(key), clock));
  if (auto loaded = vault->loadKeys(); !loaded) return std::unexpected(loaded.error());
  if (vault->current_.empty()) {
    if (auto added = vault->addKey(); !added) return std::unexpected(added.error());
    if (auto loaded = vault->loadKeys(); !loaded) return std::unexpected(loaded.error());
  }
  return vault;
}

core::Result<void> Vault::loadKeys() {
  struct Row {
    std::string id, wrapped;
    long long createdAt;
  };
  auto rows = db_.withSession([&](soci::session& sql) -> core::Result<std::vector<Row>> {
    std::vector<Row> out;
    Row r;
    soci::statement st = (sql.prepare << "SELECT id, wrapped_key, created_at FROM vault_keys ORDER BY created_at, id",
                          soci::into(r.id), soci::into(r.wrapped), soci::into(r.createdAt));
    st.execute();
    while (st.fetch()) out.push_back(r);
    return out;
  });
  if (!rows) return std::unexpected(rows.error());
  std::map<std::string, SecretBytes> keys;
  std::string newest;
  for (const auto& r : *rows) {
    auto key = vault::open(master_, r.wrapped, wrapContext(r.id));
    if (!key) return fail(ErrorCode::Internal, "data key " + r.id + " cannot be unwrapped: " + key.error().message);
    keys[r.id] = std::move(*key);
    newest = r.id;  // ordered by creation time: the last one is current
  }
  std::lock_guard lock(mutex_);
  keys_ = std::move(keys);
  current_ = newest;
  loadedAt_ = std::chrono::steady_clock::now();
  return {};
}

core::Result<void> Vault::reload() { return loadKeys(); }

core::Result<std::string> Vault::addKey() {
  SecretBytes key(kKeyBytes);
  Botan::system_rng().randomize(key.data(), key.size());
  // Key ids sort by creation: a time prefix, then randomness against collisions.
  const long long now = clock_.nowUnixSeconds();
  const std::string id = "k" + std::to_string(now) + "-" + core::newId("x").substr(2, 8);
  auto wrapped = vault::seal(master_, kMasterKeyId, key, wrapContext(id));
  if (!wrapped) return std::unexpected(wrapped.error());
  auto stored = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    // created_at must grow even when two keys are made within one second
    long long latest = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT MAX(created_at) FROM vault_keys", soci::into(latest, ind);
    const long long createdAt = (ind == soci::i_ok && latest >= now) ? latest + 1 : now;
    sql << "INSERT INTO vault_keys (id, wrapped_key, created_at) VALUES (:i, :w, :t)", soci::use(id),
        soci::use(*wrapped), soci::use(createdAt);
    return {};
  });
  if (!stored) return std::unexpected(stored.error());
  return id;
}

core::Result<SecretBytes> Vault::serverSecret(std::string_view purpose) {
  if (purpose.empty() || purpose.size() > 64) return fail(ErrorCode::Invalid, "a server secret's purpose is 1 to 64 bytes");
  const std::string context = contextOf({"server-secret", purpose});
  const std::string name(purpose);
  auto stored = [&]() -> core::Result<std::optional<std::string>> {
    return db_.withSession([&](soci::session& sql) -> core::Result<std::optional<std::string>> {
      std::string wrapped;
      soci::indicator ind = soci::i_null;
      sql << "SELECT wrapped FROM server_secrets WHERE purpose = :p", soci::into(wrapped, ind), soci::use(name);
      if (!sql.got_data() || ind != soci::i_ok) return std::optional<std::string>();
      return std::optional<std::string>(wrapped);
    });
  };
  auto found = stored();
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    SecretBytes secret(kKeyBytes);
    Botan::system_rng().randomize(secret.data(), secret.size());
    auto wrapped = vault::seal(master_, kMasterKeyId, secret, context);
    if (!wrapped) return std::unexpected(wrapped.error());
    auto inserted = db_.withSession([&](soci::session& sql) -> core::Result<void> {
      const long long now = clock_.nowUnixSeconds();
      sql << "INSERT INTO server_secrets (purpose, wrapped, created_at) VALUES (:p, :w, :t) ON CONFLICT DO NOTHING",
          soci::use(name), soci::use(*wrapped), soci::use(now);
      return {};
    });
    if (!inserted) return std::unexpected(inserted.error());
    found = stored();  // another process may have stored its own first: everyone uses that one
    if (!found) return std::unexpected(found.error());
    if (!*found) return fail(ErrorCode::Internal, "server secret " + name + " was not stored");
  }
  auto secret = vault::open(master_, **found, context);
  if (!secret) return fail(ErrorCode::Internal, "server secret " + name + " cannot be unwrapped: " + secret.error().message);
  return secret;
}

std::string Vault::currentKeyId() const {
  std::lock_guard lock(mutex_);
  return current_;
}

core::Result<Sealed> Vault::seal(const SecretBytes& plaintext, const Binding& binding) {
  bool stale = false;
  {
    std::lock_guard lock(mutex_);
    stale = std::chrono::steady_clock::now() - loadedAt_ > std::chrono::seconds(10);
  }
  if (stale) {
    if (auto loaded = loadKeys(); !loaded) return std::unexpected(loaded.error());
  }
  return sealWith(currentKeyId(), plaintext, binding);
}

core::Result<Sealed> Vault::sealWith(const std::string& keyId, const SecretBytes& plaintext, const Binding& binding) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(keyId);
  if (it == keys_.end()) return fail(ErrorCode::Internal, "vault key " + keyId + " is not loaded");
  auto blob = vault::seal(it->second, keyId, plaintext, bindingContext(binding));
  if (!blob) return std::unexpected(blob.error());
  return Sealed{std::move(*blob), keyId};
}

core::Result<SecretBytes> Vault::open(std::string_view blob, const Binding& binding) {
  auto keyId = blobKeyId(blob);
  if (!keyId) return std::unexpected(keyId.error());
  bool known = false;
  {
    std::lock_guard lock(mutex_);
    known = keys_.contains(*keyId);
  }
  if (!known) {
    if (auto reloaded = loadKeys(); !reloaded) return std::unexpected(reloaded.error());
  }
  return openLoaded(blob, binding);
}

core::Result<SecretBytes> Vault::openLoaded(std::string_view blob, const Binding& binding) const {
  auto keyId = blobKeyId(blob);
  if (!keyId) return std::unexpected(keyId.error());
  std::lock_guard lock(mutex_);
  auto it = keys_.find(*keyId);
  if (it == keys_.end()) {
    return fail(ErrorCode::Invalid, "sealed credential names key " + *keyId + ", which is not in the vault's key ring");
  }
  return vault::open(it->second, blob, bindingContext(binding));
}

core::Result<std::vector<KeyStatus>> Vault::status() {
  if (auto loaded = loadKeys(); !loaded) return std::unexpected(loaded.error());
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<KeyStatus>> {
    std::vector<KeyStatus> out;
    KeyStatus k;
    soci::statement st =
        (sql.prepare << "SELECT k.id, k.created_at, (SELECT COUNT(*) FROM accounts a WHERE a.credential_key_id = k.id) "
                        "FROM vault_keys k ORDER BY k.created_at, k.id",
         soci::into(k.id), soci::into(k.createdAt), soci::into(k.credentials));
    st.execute();
    while (st.fetch()) out.push_back(k);
    const std::string current = currentKeyId();
    for (auto& key : out) key.current = key.id == current;
    return out;
  });
}

core::Result<RotationReport> Vault::rotate(std::size_t batchSize, std::optional<std::size_t> maxBatches,
                                           const std::function<void(const RotationReport&)>& onBatch) {
  if (batchSize == 0) return fail(ErrorCode::Invalid, "batch size must be at least 1");
  constexpr long long kLeaseSeconds = 600;
  // One rotation at a time: a lease row in vault_meta, renewed after every batch.
  auto leased = db_.withSession([&](soci::session& sql) -> core::Result<std::string> {
    const long long now = clock_.nowUnixSeconds();
    const long long until = now + kLeaseSeconds;
    soci::statement st = (sql.prepare << "UPDATE vault_meta SET rotation_lease_until = :u WHERE id = 1 AND "
                                         "(rotation_lease_until IS NULL OR rotation_lease_until < :n)",
                          soci::use(until), soci::use(now));
    st.execute(true);
    if (st.get_affected_rows() != 1) {
      return fail(ErrorCode::Conflict, "another vault rotation is running (or was killed less than 10 minutes ago)");
    }
    std::string target;
    soci::indicator ind = soci::i_null;
    sql << "SELECT rotation_target FROM vault_meta WHERE id = 1", soci::into(target, ind);
    return ind == soci::i_ok ? target : std::string();
  });
  if (!leased) return std::unexpected(leased.error());
  auto release = [&](bool finished) {
    (void)db_.withSession([&](soci::session& sql) -> core::Result<void> {
      if (finished) sql << "UPDATE vault_meta SET rotation_lease_until = NULL, rotation_target = NULL WHERE id = 1";
      else sql << "UPDATE vault_meta SET rotation_lease_until = NULL WHERE id = 1";
      return {};
    });
  };

  if (auto loaded = loadKeys(); !loaded) {
    release(false);
    return std::unexpected(loaded.error());
  }
  RotationReport report;
  {
    std::lock_guard lock(mutex_);
    report.resumed = !leased->empty() && keys_.contains(*leased);
  }
  if (report.resumed) {
    report.toKey = *leased;
  } else {
    auto added = addKey();
    if (!added) {
      release(false);
      return std::unexpected(added.error());
    }
    report.toKey = *added;
    auto recorded = db_.withSession([&](soci::session& sql) -> core::Result<void> {
      sql << "UPDATE vault_meta SET rotation_target = :k WHERE id = 1", soci::use(report.toKey);
      return {};
    });
    if (auto loaded = loadKeys(); !recorded || !loaded) {
      release(false);
      return std::unexpected(!recorded ? recorded.error() : loaded.error());
    }
  }

  struct Row {
    std::string id, userId, provider, blob, serverUrl;
    soci::indicator serverInd = soci::i_null;
    int binding = 1;
  };
  std::string cursor;  // rows are visited once, in id order, so an unreadable row cannot block the rest
  for (std::size_t batch = 0;; ++batch) {
    if (maxBatches && batch >= *maxBatches) break;
    auto moved = db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
      store::WriteTransaction tx(sql, db_.dialect());
      std::vector<Row> rows;
      Row r;
      const long long limit = static_cast<long long>(batchSize);
      const std::string lockRows = db_.dialect() == store::Dialect::Postgresql ? " FOR UPDATE" : "";
      soci::statement st = (sql.prepare << "SELECT id, user_id, provider, credential_ciphertext, server_url, "
                                           "credential_binding FROM accounts WHERE credential_key_id <> :k AND id > :c "
                                           "ORDER BY id LIMIT :n" + lockRows,
                            soci::use(report.toKey), soci::use(cursor), soci::use(limit), soci::into(r.id),
                            soci::into(r.userId), soci::into(r.provider), soci::into(r.blob),
                            soci::into(r.serverUrl, r.serverInd), soci::into(r.binding));
      st.execute();
      while (st.fetch()) rows.push_back(r);
      std::size_t updated = 0;
      for (const auto& row : rows) {
        cursor = row.id;
        const std::optional<std::string> server =
            row.serverInd == soci::i_ok ? std::optional<std::string>(row.serverUrl) : std::nullopt;
        const Binding binding{row.userId, row.provider, row.id, endpointOf(server, row.binding)};
        auto plaintext = openLoaded(row.blob, binding);
        if (!plaintext) {
          report.unreadable.push_back(row.id);
          continue;
        }
        auto sealed = sealWith(report.toKey, *plaintext, binding);
        if (!sealed) return std::unexpected(sealed.error());
        // Only if nobody replaced the credential since we read it (a refreshed token must win).
        soci::statement up = (sql.prepare << "UPDATE accounts SET credential_ciphertext = :c, credential_key_id = :k "
                                             "WHERE id = :i AND credential_ciphertext = :old",
                              soci::use(sealed->blob), soci::use(sealed->keyId), soci::use(row.id),
                              soci::use(row.blob));
        up.execute(true);
        updated += static_cast<std::size_t>(up.get_affected_rows());
      }
      const long long until = clock_.nowUnixSeconds() + kLeaseSeconds;
      sql << "UPDATE vault_meta SET rotation_lease_until = :u WHERE id = 1", soci::use(until);
      tx.commit();
      report.reencrypted += updated;
      return rows.size();
    });
    if (!moved) {
      release(false);
      return std::unexpected(moved.error());
    }
    if (*moved == 0) break;
    if (onBatch) onBatch(report);
  }
  auto left = db_.withSession([&](soci::session& sql) -> core::Result<long long> {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM accounts WHERE credential_key_id <> :k", soci::use(report.toKey), soci::into(n);
    return n;
  });
  if (!left) {
    release(false);
    return std::unexpected(left.error());
  }
  report.remaining = static_cast<std::size_t>(*left);
  release(report.remaining == 0);
  return report;
}

core::Result<void> Vault::retire(std::string_view keyId) {
  if (auto loaded = loadKeys(); !loaded) return std::unexpected(loaded.error());
  const std::string id(keyId);
  if (id == currentKeyId()) {
    return fail(ErrorCode::Conflict, "key " + id + " is the current key; rotate first, then retire it");
  }
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    int exists = 0;
    sql << "SELECT COUNT(*) FROM vault_keys WHERE id = :i", soci::use(id), soci::into(exists);
    if (exists == 0) return fail(ErrorCode::NotFound, "no vault key with id " + id);
    long long users = 0;
    sql << "SELECT COUNT(*) FROM accounts WHERE credential_key_id = :i", soci::use(id), soci::into(users);
    if (users > 0) {
      return fail(ErrorCode::Conflict, "key " + id + " still seals " + std::to_string(users) +
                                           " credential(s); run calgate-admin vault rotate first");
    }
    sql << "DELETE FROM vault_keys WHERE id = :i", soci::use(id);
    tx.commit();
    return {};
  });
}

}  // namespace calgate::vault
