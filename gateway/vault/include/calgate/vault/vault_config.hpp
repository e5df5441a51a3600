#pragma once
/// The `vault:` section of the configuration: where the master key file is.

#include <filesystem>

namespace calgate::vault {

/// The `vault:` section of the configuration.
struct VaultConfig {
  /// Master key file; empty means <data_dir>/master.key. CALGATE_MASTER_KEY or
  /// CALGATE_MASTER_PASSPHRASE, when set, take precedence over the file.
  std::filesystem::path keyFile;
};

}  // namespace calgate::vault
