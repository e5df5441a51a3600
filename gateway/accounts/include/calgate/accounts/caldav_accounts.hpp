#pragma once
/// CalDAV logins as calgate keeps and uses them: the one place that knows how a CalDAV credential
/// is laid out in the vault (JSON {"username", "password"}), how discovery is run for a login and
/// how the adapter is opened for a stored account (the HTTP client with the configured network
/// guard). Used by the REST API, calgate-admin and the provider registry. Thread-safe.

#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/provider_registry.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/model/identity.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/providers/provider.hpp"
#include "calgate/vault/sealed_box.hpp"

#include <chrono>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace calgate::accounts {

struct CalDavLogin {
  std::string serverUrl;
  std::string username;
  std::string password;
};

/// The credential to seal in the vault for a login (server URL excluded: it is the account's).
vault::SecretBytes caldavCredential(const CalDavLogin& login);
/// The login of a stored CalDAV account from its opened credential. Unauthorized (without echoing
/// anything of the credential) when it is not the expected JSON.
core::Result<CalDavLogin> caldavLogin(const std::string& serverUrl, const vault::SecretBytes& credential);

/// HTTP client options for CalDAV servers: loopback and private networks only when
/// `allowPrivateNetworks` (the configuration's sync.allow_private_networks) is set.
providers::HttpClientOptions caldavHttpOptions(bool allowPrivateNetworks);

/// What discovery found: the calendars, and who the account proves to be (the server's
/// registrable domain and the principal's calendar-user-address-set, model::caldavIdentities).
struct CalDavDiscovery {
  std::vector<providers::CalendarInfo> calendars;
  std::vector<model::Identity> identities;
};

/// Runs discovery for a login and lists its calendars. `totalTimeout` bounds each request (a
/// person waiting on an API call wants an answer sooner than a sync job does).
core::Result<CalDavDiscovery> discoverCalDav(const CalDavLogin& login, bool allowPrivateNetworks,
                                             const core::Clock& clock, std::chrono::milliseconds totalTimeout);

/// The CalDAV adapter for a stored account: its login from the vaulted credential, an HTTP client
/// of its own. Unauthorized (naming the account, never the credential) for a credential that is
/// not a CalDAV login. The CalDAV entry of builtinProviders() (provider_registry.hpp). With a
/// deadline in `environment`, every request gets at most what is left until then (BudgetExceeded
/// after it); its pull budgets bound every pull.
core::Result<std::unique_ptr<providers::Provider>> openCalDav(const Account& account,
                                                              const vault::SecretBytes& credential,
                                                              const ProviderEnvironment& environment);

}  // namespace calgate::accounts
