#include "calgate/gateway/caldav_accounts.hpp"

#include "calgate/providers/caldav/caldav_provider.hpp"

#include <nlohmann/json.hpp>

namespace calgate::gateway {

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

providers::HttpClientOptions caldavHttpOptions(const SyncConfig& sync) {
  providers::HttpClientOptions options;
  options.allowLoopback = sync.allowPrivateNetworks;
  options.allowPrivateNetworks = sync.allowPrivateNetworks;
  return options;
}

core::Result<std::vector<providers::CalendarInfo>> discoverCalDav(const CalDavLogin& login, const SyncConfig& sync,
                                                                  const core::Clock& clock,
                                                                  std::chrono::milliseconds totalTimeout) {
  auto options = caldavHttpOptions(sync);
  options.totalTimeout = totalTimeout;
  providers::CurlHttpClient http(options);
  providers::caldav::CalDavAccount dav;
  dav.serverUrl = login.serverUrl;
  dav.username = login.username;
  dav.password.assign(login.password.begin(), login.password.end());
  return providers::caldav::CalDavProvider(http, dav, clock).listCalendars();
}

}  // namespace calgate::gateway
