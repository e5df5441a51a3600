#include "calgate/accounts/caldav_accounts.hpp"

#include "calgate/providers/caldav/caldav_provider.hpp"
#include "calgate/providers/forwarding_provider.hpp"

#include <nlohmann/json.hpp>

namespace calgate::accounts {
namespace {

/// A CalDAV adapter that owns its HTTP client.
class OwnedCalDav final : public providers::ForwardingProvider {
 public:
  OwnedCalDav(providers::HttpClientOptions options, providers::caldav::CalDavAccount account, const core::Clock& clock,
              providers::caldav::CalDavOptions davOptions)
      : ForwardingProvider(adapter_), http_(options), adapter_(http_, std::move(account), clock, davOptions) {}

 private:
  providers::CurlHttpClient http_;
  providers::caldav::CalDavProvider adapter_;
};

providers::caldav::CalDavAccount davAccount(const CalDavLogin& login) {
  providers::caldav::CalDavAccount dav;
  dav.serverUrl = login.serverUrl;
  dav.username = login.username;
  dav.password.assign(login.password.begin(), login.password.end());
  return dav;
}

}  // namespace

vault::SecretBytes caldavCredential(const CalDavLogin& login) {
  const std::string json = nlohmann::json{{"username", login.username}, {"password", login.password}}.dump();
  return vault::SecretBytes(json.begin(), json.end());
}

core::Result<CalDavLogin> caldavLogin(const std::string& serverUrl, const vault::SecretBytes& credential) {
  const auto j = nlohmann::json::parse(credential.begin(), credential.end(), nullptr, false);
  if (!j.is_object() || !j.contains("username") || !j["username"].is_string() || !j.contains("password") ||
      !j["password"].is_string()) {
    // never echo the credential
    return core::fail(core::ErrorCode::Unauthorized, "the stored CalDAV credential is not {username, password}");
  }
  return CalDavLogin{serverUrl, j["username"].get<std::string>(), j["password"].get<std::string>()};
}

providers::HttpClientOptions caldavHttpOptions(bool allowPrivateNetworks) {
  providers::HttpClientOptions options;
  options.allowLoopback = allowPrivateNetworks;
  options.allowPrivateNetworks = allowPrivateNetworks;
  // plain http only where the operator allowed servers on the local network (self-hosted ones)
  options.allowPlainHttp = allowPrivateNetworks;
  return options;
}

core::Result<CalDavDiscovery> discoverCalDav(const CalDavLogin& login, bool allowPrivateNetworks,
                                             const core::Clock& clock, std::chrono::milliseconds totalTimeout) {
  auto options = caldavHttpOptions(allowPrivateNetworks);
  options.totalTimeout = totalTimeout;
  providers::CurlHttpClient http(options);
  providers::caldav::CalDavProvider provider(http, davAccount(login), clock);
  auto calendars = provider.listCalendars();
  if (!calendars) return std::unexpected(calendars.error());
  auto addresses = provider.userAddresses();  // known after listing: discovery read them
  if (!addresses) return std::unexpected(addresses.error());
  return CalDavDiscovery{std::move(*calendars), model::caldavIdentities(login.serverUrl, *addresses)};
}

core::Result<std::unique_ptr<providers::Provider>> openCalDav(const Account& account,
                                                              const vault::SecretBytes& credential,
                                                              const ProviderEnvironment& environment) {
  auto login = caldavLogin(account.serverUrl.value_or(""), credential);
  if (!login) return core::fail(login.error().code, "account " + account.id + ": " + login.error().message);
  auto options = caldavHttpOptions(environment.allowPrivateNetworks);
  options.deadline = environment.deadline;
  providers::caldav::CalDavOptions davOptions;
  davOptions.maxPullBytes = environment.pullMaxBytes;
  davOptions.maxPullEvents = environment.pullMaxEvents;
  return std::unique_ptr<providers::Provider>(
      std::make_unique<OwnedCalDav>(options, davAccount(*login), *environment.clock, davOptions));
}

}  // namespace calgate::accounts
