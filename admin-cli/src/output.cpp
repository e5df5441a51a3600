#include "context.hpp"

#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"

#include <ctime>
#include <iostream>

namespace calgate::admin {

std::optional<int> Context::open() {
  const app::Environment env = app::processEnvironment();
  auto loaded = app::loadConfig(app::chooseConfigFile(configPath, env), env);
  if (!loaded) return failWith("configuration error: " + loaded.error().message, app::kExitUsage);
  config = *loaded;
  core::log::setLevel(core::log::Level::Warn);
  auto opened = app::openConfiguredDatabase(config);
  if (!opened) return failWith(opened.error().message);
  db = std::move(*opened);
  return std::nullopt;
}

std::optional<int> Context::openCurrent() {
  if (auto rc = open()) return rc;
  store::Migrator migrator(*db, store::builtinMigrations(db->dialect()), core::systemClock());
  if (auto current = migrator.verifyCurrent(); !current) return failWith(current.error());
  return std::nullopt;
}

int failWith(const std::string& message, int code) {
  std::cerr << "calgate-admin: " << message << "\n";
  return code;
}

int failWith(const core::Error& error) {
  return failWith(error.message, error.code == core::ErrorCode::Invalid ? app::kExitUsage : app::kExitFailure);
}

std::string isoTime(long long unixSeconds) {
  const std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace calgate::admin
