#include "calgate/accounts/google_accounts.hpp"

#include "calgate/providers/google/google_provider.hpp"

#include "oauth_adapters.hpp"

#include <algorithm>


namespace calgate::accounts {
namespace {

using core::ErrorCode;

providers::HttpClientOptions apiHttpOptions(const GoogleConfig& config, const ProviderEnvironment* environment) {
  return detail::apiHttpOptions(config.allowInsecureLoopback, environment);
}

using OwnedGoogle = detail::OwnedAdapter<providers::google::GoogleProvider, providers::google::GoogleEndpoints,
                                         providers::google::GoogleOptions>;

}  // namespace

const std::vector<std::string>& googleScopes() {
  static const std::vector<std::string> scopes = {"openid", "email",
                                                  "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
                                                  "https://www.googleapis.com/auth/calendar.events"};
  return scopes;
}

core::Result<oauth::Secret> readGoogleClientSecret(const GoogleConfig& config) {
  return detail::readClientSecret(config.clientSecretFile, "google.client_secret_file");
}

core::Result<OAuthProvider> googleOAuthProvider(const GoogleConfig& config, oauth::Secret clientSecret,
                                                const std::string& redirectUri, providers::HttpClient& http) {
  if (config.clientId.empty()) return core::fail(ErrorCode::Invalid, "google.client_id is not set");
  auto endpoints = oauth::discover(http, config.issuer, config.allowInsecureLoopback);
  if (!endpoints) return std::unexpected(endpoints.error());
  OAuthProvider p;
  p.kind = model::ProviderKind::Google;
  p.client.clientId = config.clientId;
  p.client.clientSecret = std::move(clientSecret);
  p.client.redirectUri = redirectUri;
  p.client.scopes = googleScopes();
  p.client.endpoints = *endpoints;
  p.client.extraAuthorizationParams = {{"access_type", "offline"}, {"prompt", "consent"}};
  p.calendars = [config](const oauth::Secret& accessToken) -> core::Result<std::vector<providers::CalendarInfo>> {
    providers::CurlHttpClient api(apiHttpOptions(config, nullptr));
    detail::OneToken token(accessToken);
    providers::google::GoogleProvider google(api, token, core::systemClock(), {config.apiRoot});
    return google.listCalendars();
  };
  return p;
}

core::Result<bool> offerGoogle(const GoogleConfig& config, const std::string& publicUrl, providers::HttpClient& http,
                               OAuthConnections& connections) {
  if (config.clientId.empty()) return false;
  if (publicUrl.empty()) {
    return core::fail(ErrorCode::Invalid,
                      "google.client_id needs server.public_url (the OAuth redirect URI is <public_url>/oauth/callback)");
  }
  auto secret = readGoogleClientSecret(config);
  if (!secret) return std::unexpected(secret.error());
  auto provider = googleOAuthProvider(config, std::move(*secret), publicUrl + "/oauth/callback", http);
  if (!provider) {
    if (provider.error().cause == core::Cause::UrlRejected) {
      return core::fail(ErrorCode::Invalid, "google.issuer: " + provider.error().message);
    }
    return std::unexpected(provider.error());
  }
  connections.add(std::move(*provider));
  return true;
}

core::Result<std::unique_ptr<providers::Provider>> openGoogle(const Account& account, TokenBroker& broker,
                                                              const GoogleConfig& config,
                                                              const ProviderEnvironment& environment) {
  if (config.clientId.empty()) {
    return core::fail(ErrorCode::Unavailable, "account " + account.id + ": Google accounts are not configured (google.client_id)");
  }
  providers::google::GoogleOptions o;
  o.maxPullBytes = environment.pullMaxBytes;
  o.maxPullEvents = environment.pullMaxEvents;
  o.pacer = providers::sharedPacer("google:" + account.id, o.requestsPerMinute);  // one rate per account
  // status events (out of office) exist for Google Workspace accounts only: the proven `hd` claim
  o.statusEvents = std::any_of(account.identities.begin(), account.identities.end(),
                               [](const model::Identity& i) { return i.kind == model::IdentityKind::HostedDomain; });
  return std::unique_ptr<providers::Provider>(std::make_unique<OwnedGoogle>(
      apiHttpOptions(config, &environment), broker, account.id, *environment.clock, providers::google::GoogleEndpoints{config.apiRoot}, o));
}

}  // namespace calgate::accounts
