#pragma once
/// Opens the provider adapter for a connected account. One opener per ProviderKind, registered in
/// one place (builtinProviders()): adding a provider means its adapter and one line there.

#include "calgate/accounts/account_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/model/provider_kind.hpp"
#include "calgate/providers/http/request_slots.hpp"
#include "calgate/providers/provider.hpp"
#include "calgate/vault/sealed_box.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <shared_mutex>

namespace calgate::accounts {

/// What every adapter is opened with besides its account.
struct ProviderEnvironment {
  bool allowPrivateNetworks = false;  ///< sync.allow_private_networks: servers on loopback/LAN addresses
  const core::Clock* clock = &core::systemClock();
  /// Everything the adapter does must be over by then (a feed render, a sync run); unset: no budget.
  std::optional<std::chrono::steady_clock::time_point> deadline{};
  std::size_t pullMaxBytes = 64 * 1024 * 1024;  ///< sync.pull_max_bytes: what one pull of a calendar may read
  std::size_t pullMaxEvents = 20000;            ///< sync.pull_max_events: resources one pull may list
  /// Where a mailbox's requests in flight are counted (Microsoft 365: 4 at once): the database's
  /// slots when several processes share it (DatabaseSlots); null: this process's localSlots().
  std::shared_ptr<providers::RequestSlots> requestSlots{};
};

/// Makes the adapter for one account from its opened credential.
using ProviderOpener = std::function<core::Result<std::unique_ptr<providers::Provider>>(
    const Account& account, const vault::SecretBytes& credential, const ProviderEnvironment& environment)>;

/// Thread-safe: an opener may be added while accounts are opened (a provider whose sign-in could
/// not be set up at start joins later).
class ProviderRegistry {
 public:
  ProviderRegistry() = default;
  ProviderRegistry(ProviderRegistry&& other) noexcept : openers_(std::move(other.openers_)) {}
  ProviderRegistry(const ProviderRegistry&) = delete;
  ProviderRegistry& operator=(const ProviderRegistry&) = delete;

  /// Registers the opener for `kind`, replacing any earlier one.
  void add(model::ProviderKind kind, ProviderOpener opener);

  bool supports(model::ProviderKind kind) const;
  /// The same as an error: Unavailable ("no adapter for google accounts in this version") for a
  /// kind nothing is registered for. Lets a caller refuse before it opens a credential.
  core::Result<void> require(model::ProviderKind kind) const;

  /// The adapter for `account`. Unavailable ("no adapter for google accounts in this version") for
  /// a kind nothing is registered for; otherwise what the opener returns.
  core::Result<std::unique_ptr<providers::Provider>> open(const Account& account, const vault::SecretBytes& credential,
                                                          const ProviderEnvironment& environment) const;

 private:
  mutable std::shared_mutex mutex_;
  std::map<model::ProviderKind, ProviderOpener> openers_;
};

/// Every adapter this build has. CalDAV today; Google and Microsoft join here.
ProviderRegistry builtinProviders();

}  // namespace calgate::accounts
