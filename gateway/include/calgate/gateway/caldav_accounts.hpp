#pragma once
/// CalDAV logins as calgate keeps and uses them: the one place that knows how a CalDAV credential
/// is laid out in the vault (JSON {"username", "password"}) and how discovery is run for a login
/// (the HTTP client with the configured network guard). Used by the REST API, calgate-admin and
/// the sync service's provider factory.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/gateway/config.hpp"
#include "calgate/gateway/vault/sealed_box.hpp"
#include "calgate/providers/http_client.hpp"
#include "calgate/providers/provider.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace calgate::gateway {

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

/// HTTP client options for CalDAV servers under `sync` (loopback and private networks only when
/// sync.allow_private_networks is set).
providers::HttpClientOptions caldavHttpOptions(const SyncConfig& sync);

/// Runs discovery for a login and lists its calendars. `totalTimeout` bounds each request (a
/// person waiting on an API call wants an answer sooner than a sync job does).
core::Result<std::vector<providers::CalendarInfo>> discoverCalDav(const CalDavLogin& login, const SyncConfig& sync,
                                                                  const core::Clock& clock,
                                                                  std::chrono::milliseconds totalTimeout);

}  // namespace calgate::gateway
