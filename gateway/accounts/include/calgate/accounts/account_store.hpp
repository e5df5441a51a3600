#pragma once
/// Connected provider accounts and their credentials. A credential goes into the database only
/// sealed by the vault (bound to user + provider + account), and comes out only through it.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/model/identity.hpp"
#include "calgate/model/provider_kind.hpp"
#include "calgate/store/database.hpp"
#include "calgate/vault/vault.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::accounts {

struct NewAccount {
  std::string userId;
  model::ProviderKind provider = model::ProviderKind::CalDav;
  std::string email;     ///< a label: what the user calls the account (never evidence of anything)
  std::optional<std::string> serverUrl;  ///< CalDAV only
  /// Who the account proved to be when it was connected: these select the organisation policies.
  std::vector<model::Identity> identities{};
  std::string subject{};  ///< OAuth: "<issuer>|<sub>" of the proven identity; "" for CalDAV
};

struct Account {
  std::string id;
  std::string userId;
  model::ProviderKind provider = model::ProviderKind::CalDav;
  std::string email;   ///< label
  std::string domain;  ///< of the label
  std::optional<std::string> serverUrl;
  std::string status;
  std::string credentialKeyId;
  long long createdAt = 0;
  /// Proven identities (identities.hpp; the legacy fallback for accounts connected before them).
  std::vector<model::Identity> identities{};
  bool identitiesProven = false;  ///< false: the legacy fallback, not yet proven again
  std::string subject{};          ///< OAuth: "<issuer>|<sub>"; "" for CalDAV
  std::string statusReason{};     ///< why it is not active (needs_reauth: what the provider said)
};

/// Thread-safe.
class AccountStore {
 public:
  AccountStore(store::Database& db, vault::Vault& vault, const core::Clock& clock);

  /// Stores an account with its credential sealed. Invalid for a bad email; Conflict if the user
  /// already connected that provider account. A credential sealed with a key retired meanwhile is
  /// sealed again once with the reloaded key ring. A stored provider this version does not know
  /// is an Internal error when read, never taken for another.
  core::Result<Account> create(const NewAccount& account, const vault::SecretBytes& credential);
  core::Result<Account> get(std::string_view accountId);
  core::Result<std::vector<Account>> listForUser(std::string_view userId);
  /// The account's credential, decrypted. NotFound / Invalid (cannot be opened). A credential is
  /// bound to the server it is sent to: when the account's server_url no longer names that server
  /// (the database was changed), Invalid, audited (account.credential_refused), not opened.
  core::Result<vault::SecretBytes> credential(std::string_view accountId);
  /// Seals again, bound to their server, the credentials sealed before credentials were (binding
  /// version 1). Run at start-up; returns how many it bound. Unreadable ones are logged and left.
  core::Result<std::size_t> bindCredentialsToServers();
  /// The user's account of `provider` whose proven OAuth identity is `subject`. NotFound.
  core::Result<Account> findBySubject(std::string_view userId, model::ProviderKind provider, std::string_view subject);
  /// Sets the account's status ("active", "needs_reauth", "disabled") and why. NotFound.
  core::Result<void> setStatus(std::string_view accountId, std::string_view status, std::string_view reason);
  /// Records who the account proved to be now (a new discovery or sign-in). NotFound.
  core::Result<void> setIdentities(std::string_view accountId, const std::vector<model::Identity>& identities);
  /// Replaces the credential (e.g. a refreshed OAuth token), sealed with the current key.
  core::Result<void> replaceCredential(std::string_view accountId, const vault::SecretBytes& credential);
  /// The credential with an opaque version of what is stored (changes whenever it is replaced).
  struct VersionedCredential {
    vault::SecretBytes secret;
    std::string version;
  };
  core::Result<VersionedCredential> versionedCredential(std::string_view accountId);
  /// replaceCredential() only while the stored credential is still `version` (nullopt: always);
  /// false when it was replaced meanwhile (e.g. the account was re-authorised).
  core::Result<bool> replaceCredentialIf(std::string_view accountId, const vault::SecretBytes& credential,
                                         const std::optional<std::string>& version);
  /// setStatus() only while the stored credential is still `version`; false otherwise.
  core::Result<bool> setStatusIf(std::string_view accountId, std::string_view status, std::string_view reason,
                                 const std::string& version);
  /// Deletes the account, its credential and everything depending on it (calendars, pairs...).
  core::Result<void> remove(std::string_view accountId);

 private:
  core::Result<Account> createOnce(const NewAccount& account, const vault::SecretBytes& credential);
  core::Result<bool> replaceOnce(std::string_view accountId, const vault::SecretBytes& credential,
                                 const std::optional<std::string>& version);
  struct SealedRow {
    std::string userId, provider, blob;
    std::optional<std::string> serverUrl;
    int binding = 1;
  };
  core::Result<SealedRow> sealedRow(const std::string& id);
  /// Opens a row's sealed credential (refused and audited when bound to another server).
  core::Result<vault::SecretBytes> openSealed(const std::string& id, const SealedRow& row);

  store::Database& db_;
  vault::Vault& vault_;
  const core::Clock& clock_;
};

}  // namespace calgate::accounts
