#pragma once
/// Signed checkpoints of the audit chain (table audit_checkpoints): the Ed25519 signature of
/// "entry <seq> had hash <h>, attested at <at>" (chain.hpp) by calgate's audit key, whose seed the
/// vault keeps (Vault::serverSecret("audit-signing")). A checkpoint pins everything up to its entry:
/// rewriting any earlier entry, even with every later hash recomputed, no longer reaches the signed
/// hash, and nobody without the key can sign a new one. Made periodically by `calgate serve`, at
/// every export, and for the last entry a retention purge removes. Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/core/signing.hpp"
#include "calgate/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::audit {

/// The vault purpose of the audit signing key's seed.
inline constexpr const char* kSigningPurpose = "audit-signing";

struct Checkpoint {
  long long seq = 0;
  std::string entrySha256;
  long long at = 0;
  std::string keyId;
  std::string signature;  ///< base64
};

/// Whether `c` is a valid signature by `publicKey` (base64) and names that key.
bool verifyCheckpoint(const Checkpoint& c, std::string_view publicKey);

class Checkpoints {
 public:
  /// `key` signs; it must outlive this object.
  Checkpoints(store::Database& db, const core::Clock& clock, const core::SigningKey& key)
      : db_(db), clock_(clock), key_(key) {}
  /// Signs entry `seq` as stored now (and keeps the checkpoint). NotFound for no such entry. A
  /// checkpoint is evidence and never replaced: an entry signed before keeps its signature, and
  /// Internal when its hash changed since. calgate signs only a chain that extends what it signed
  /// before (from the newest earlier checkpoint, or the genesis): Internal naming the entry where
  /// the log was changed otherwise.
  core::Result<Checkpoint> sign(long long seq);
  /// Signs the newest entry unless it is signed already, or the newest checkpoint is younger than
  /// `minAge` seconds. nullopt when nothing was signed (an empty log, too soon, signed already).
  core::Result<std::optional<Checkpoint>> signHead(long long minAge = 0);
  /// The checkpoints of entries `fromSeq`..`toSeq`, by seq.
  static core::Result<std::vector<Checkpoint>> between(store::Database& db, long long fromSeq, long long toSeq);

 private:
  store::Database& db_;
  const core::Clock& clock_;
  const core::SigningKey& key_;
};

}  // namespace calgate::audit
