#pragma once
/// The credential vault (DESIGN.md §8): provider credentials are stored only sealed with
/// AES-256-GCM, bound to user id + provider + account id. Envelope encryption: the master key
/// (master_key.hpp) wraps a ring of data keys kept in the database; new seals use the newest
/// data key; rotation adds a key and re-encrypts every credential in batches; a key can be retired
/// once no credential uses it. Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/store/database.hpp"
#include "calgate/vault/master_key.hpp"
#include "calgate/vault/sealed_box.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace calgate::vault {

/// What a credential is bound to: a blob sealed for one account fails to open for any other.
struct Binding {
  std::string userId;
  std::string provider;
  std::string accountId;
  /// Where the credential is sent (canonicalOrigin of the account's server); "" for credentials
  /// sealed before they were bound to it (binding version 1) and for providers without one.
  std::string endpoint{};
};

/// The binding version new seals use: 2 binds the endpoint.
inline constexpr int kCredentialBinding = 2;

/// A server URL's canonical origin: lower-case scheme and host, the port only when it is not the
/// scheme's default ("https://cal.example.com", "http://10.0.0.5:5232"); "" for none or garbage.
std::string canonicalOrigin(std::string_view url);
/// The endpoint a stored credential is bound to, from its row: version 1 binds none.
inline std::string endpointOf(const std::optional<std::string>& serverUrl, int bindingVersion) {
  return bindingVersion >= 2 && serverUrl ? canonicalOrigin(*serverUrl) : std::string();
}

struct Sealed {
  std::string blob;   ///< base64, for accounts.credential_ciphertext
  std::string keyId;  ///< for accounts.credential_key_id
};

struct KeyStatus {
  std::string id;
  long long createdAt = 0;
  bool current = false;   ///< new seals use this key
  long long credentials = 0;  ///< rows sealed with it
};

struct RotationReport {
  std::string toKey;
  bool resumed = false;         ///< an unfinished rotation was continued instead of adding a key
  std::size_t reencrypted = 0;  ///< rows moved to `toKey` by this call
  std::size_t remaining = 0;    ///< rows still on other keys (stopped early, unreadable, or sealed meanwhile)
  std::vector<std::string> unreadable;  ///< account ids whose credential could not be opened (left as they are)
};

/// scrypt parameters for passphrase-derived master keys (recorded per database).
struct ScryptParams {
  long long n = 1 << 15;
  int r = 8;
  int p = 1;
};

class Vault {
 public:
  /// Opens the vault in `db` (schema must be current). On first use it records a check value for
  /// the master key (and, for a passphrase, a fresh salt and `scrypt` parameters) and creates the
  /// first data key. Refuses (Unauthorized) a master key that does not match the one the database
  /// was initialised with.
  static core::Result<std::unique_ptr<Vault>> open(store::Database& db, const MasterKeyMaterial& master,
                                                   const core::Clock& clock, ScryptParams scrypt = {});

  ~Vault();

  /// Seals a credential for `binding` with the current key. The key ring is reloaded first when it
  /// is older than a few seconds, so a long-running gateway follows rotations made elsewhere.
  core::Result<Sealed> seal(const SecretBytes& plaintext, const Binding& binding);

  /// Reloads the key ring from the database (e.g. after the database refused a retired key).
  core::Result<void> reload();
  /// Opens a credential sealed for `binding`. A key id this process has not seen yet (another
  /// process rotated) makes it reload the key ring once. Errors never contain the secret.
  core::Result<SecretBytes> open(std::string_view blob, const Binding& binding);

  std::string currentKeyId() const;

  /// Keys with the number of credentials sealed with each.
  core::Result<std::vector<KeyStatus>> status();

  /// Adds a new current key and re-encrypts every credential to it, `batchSize` rows per
  /// transaction. An unfinished rotation (recorded in the database) is continued with its key
  /// instead of adding another. Only one rotation runs at a time (a lease in the database;
  /// Conflict otherwise). A row changed concurrently is left to its writer (who sealed it with the
  /// current key); a row that cannot be opened is skipped and reported. `maxBatches` stops early;
  /// rows are readable at every point. `onBatch` is told after each committed batch.
  core::Result<RotationReport> rotate(std::size_t batchSize = 100, std::optional<std::size_t> maxBatches = {},
                                      const std::function<void(const RotationReport&)>& onBatch = {});

  /// Removes an old key. Conflict while any credential still uses it or if it is the current key;
  /// NotFound for an unknown id.
  core::Result<void> retire(std::string_view keyId);

  /// A secret of calgate's own for `purpose` (the audit signing key's seed, the key of keyed
  /// hashes): 32 random bytes made on first use and kept wrapped under the master key (table
  /// server_secrets), so every process on this database gets the same one. Two processes making it
  /// at once agree on the first stored. Invalid for a purpose that is empty or over 64 bytes.
  core::Result<SecretBytes> serverSecret(std::string_view purpose);

 private:
  Vault(store::Database& db, SecretBytes masterKey, const core::Clock& clock);
  core::Result<void> loadKeys();
  core::Result<std::string> addKey();
  core::Result<SecretBytes> openLoaded(std::string_view blob, const Binding& binding) const;
  core::Result<Sealed> sealWith(const std::string& keyId, const SecretBytes& plaintext, const Binding& binding);

  store::Database& db_;
  SecretBytes master_;
  const core::Clock& clock_;
  mutable std::mutex mutex_;
  std::map<std::string, SecretBytes> keys_;  // id -> data key
  std::string current_;
  std::chrono::steady_clock::time_point loadedAt_{};
};

/// The associated-data context of a binding.
std::string bindingContext(const Binding& binding);

}  // namespace calgate::vault
