#include "calgate/accounts/provider_registry.hpp"

#include "calgate/accounts/caldav_accounts.hpp"

#include <string>

namespace calgate::accounts {

void ProviderRegistry::add(model::ProviderKind kind, ProviderOpener opener) { openers_[kind] = std::move(opener); }

core::Result<std::unique_ptr<providers::Provider>> ProviderRegistry::open(const Account& account,
                                                                          const vault::SecretBytes& credential,
                                                                          const ProviderEnvironment& environment) const {
  const auto it = openers_.find(account.provider);
  if (it == openers_.end()) {
    return core::fail(core::ErrorCode::Unavailable,
                      "no adapter for " + std::string(model::toString(account.provider)) + " accounts in this version");
  }
  return it->second(account, credential, environment);
}

ProviderRegistry builtinProviders() {
  ProviderRegistry registry;
  registry.add(model::ProviderKind::CalDav,
               [](const Account& account, const vault::SecretBytes& credential, const ProviderEnvironment& env) {
                 return openCalDav(account, credential, env.allowPrivateNetworks, *env.clock);
               });
  return registry;
}

}  // namespace calgate::accounts
