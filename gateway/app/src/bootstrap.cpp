#include "calgate/app/bootstrap.hpp"

namespace calgate::app {

std::optional<std::filesystem::path> chooseConfigFile(const std::optional<std::filesystem::path>& cliPath,
                                                      const Environment& env) {
  if (cliPath) return cliPath;
  if (auto it = env.find("CALGATE_CONFIG"); it != env.end() && !it->second.empty()) {
    return std::filesystem::path(it->second);
  }
  return std::nullopt;
}

core::Result<std::unique_ptr<store::Database>> openConfiguredDatabase(const Config& config) {
  auto target = store::resolveDatabaseUrl(config.database.url, config.dataDir);
  if (!target) return std::unexpected(target.error());
  return store::Database::open(*target, config.database.poolSize);
}

}  // namespace calgate::app
