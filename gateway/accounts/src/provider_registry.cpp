#include "calgate/accounts/provider_registry.hpp"

#include "calgate/accounts/caldav_accounts.hpp"

#include <string>

namespace calgate::accounts {

void ProviderRegistry::add(model::ProviderKind kind, ProviderOpener opener) {
  std::unique_lock lock(mutex_);
  openers_[kind] = std::move(opener);
}

bool ProviderRegistry::supports(model::ProviderKind kind) const {
  std::shared_lock lock(mutex_);
  return openers_.contains(kind);
}

core::Result<void> ProviderRegistry::require(model::ProviderKind kind) const {
  if (supports(kind)) return {};
  return core::fail(core::ErrorCode::Unavailable,
                    "no adapter for " + std::string(model::toString(kind)) + " accounts in this version");
}

core::Result<std::unique_ptr<providers::Provider>> ProviderRegistry::open(const Account& account,
                                                                          const vault::SecretBytes& credential,
                                                                          const ProviderEnvironment& environment) const {
  if (auto ok = require(account.provider); !ok) return std::unexpected(ok.error());
  ProviderOpener opener;
  {
    std::shared_lock lock(mutex_);
    opener = openers_.at(account.provider);
  }
  return opener(account, credential, environment);
}

ProviderRegistry builtinProviders() {
  ProviderRegistry registry;
  registry.add(model::ProviderKind::CalDav,
               [](const Account& account, const vault::SecretBytes& credential, const ProviderEnvironment& env) {
                 return openCalDav(account, credential, env);
               });
  return registry;
}

}  // namespace calgate::accounts
