#pragma once
/// Where the vault's master key comes from. The master key never encrypts credentials itself:
/// it wraps the data keys stored in the database (see vault.hpp). Sources, first match wins:
///   1. CALGATE_MASTER_KEY          base64 of 32 random bytes
///   2. CALGATE_MASTER_PASSPHRASE   a passphrase, stretched with scrypt (salt and parameters are
///                                  recorded in the database so they can be raised later)
///   3. the key file (vault.key_file, default <data_dir>/master.key), one line of base64,
///      created by `calgate-admin vault init` with mode 0600 and refused if group/others can read it.

#include "calgate/core/error.hpp"
#include "calgate/vault/sealed_box.hpp"
#include "calgate/vault/vault_config.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace calgate::vault {

struct MasterKeyMaterial {
  enum class Kind { Raw, Passphrase };
  Kind kind = Kind::Raw;
  SecretBytes bytes;   ///< the 32-byte key, or the passphrase's bytes
  std::string origin;  ///< e.g. "key file /var/lib/calgate/master.key" (never the key itself)
};

/// The key file this configuration uses (`dataDir` holds the default one).
std::filesystem::path keyFilePath(const VaultConfig& config, const std::filesystem::path& dataDir);

/// Finds the master key, looking at the environment variables in `env` first. Invalid, with what
/// to do about it, when none is available, the environment value is not base64 of 32 bytes, or the
/// key file is malformed or readable by group or others.
core::Result<MasterKeyMaterial> loadMasterKey(const VaultConfig& config, const std::filesystem::path& dataDir,
                                              const std::map<std::string, std::string>& env);

/// A secret kept in a file (the master key, an OAuth client secret): at most `maxBytes` of it,
/// only from a regular file (no symlink followed) owned by this process's user, not readable by
/// group or others, in a directory others cannot write. NotFound when it does not exist; Invalid,
/// naming `origin` and what to do, otherwise.
core::Result<SecretBytes> readSecretFile(const std::filesystem::path& path, const std::string& origin, std::size_t maxBytes);

/// Keeps secrets out of core dumps and out of /proc/<pid>/environ: disables dumps (and ptrace by
/// other processes of the same user) and removes CALGATE_MASTER_KEY / CALGATE_MASTER_PASSPHRASE
/// from the environment, so no child process inherits them. Call once the key was loaded.
void protectProcessSecrets();

/// Creates `path` holding a new random key, mode 0600 (parent created with 0700). Never
/// overwrites: returns false if the file already exists.
core::Result<bool> createKeyFile(const std::filesystem::path& path);

}  // namespace calgate::vault
