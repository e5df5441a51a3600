#include "calgate/accounts/microsoft_accounts.hpp"

#include "calgate/providers/microsoft/graph_provider.hpp"

#include "oauth_adapters.hpp"

namespace calgate::accounts {
namespace {

using core::ErrorCode;
using OwnedGraph = detail::OwnedAdapter<providers::microsoft::GraphProvider, providers::microsoft::GraphEndpoints,
                                        providers::microsoft::GraphOptions>;

}  // namespace

const std::vector<std::string>& microsoftScopes() {
  static const std::vector<std::string> scopes = {"openid", "email", "profile", "offline_access",
                                                  "https://graph.microsoft.com/Calendars.ReadWrite"};
  return scopes;
}

core::Result<OAuthProvider> microsoftOAuthProvider(const MicrosoftConfig& config, oauth::Secret clientSecret,
                                                   const std::string& redirectUri, providers::HttpClient& http) {
  if (config.clientId.empty()) return core::fail(ErrorCode::Invalid, "microsoft.client_id is not set");
  auto endpoints = oauth::discover(http, config.issuer, config.allowInsecureLoopback);
  if (!endpoints) return std::unexpected(endpoints.error());
  OAuthProvider p;
  p.kind = model::ProviderKind::Microsoft;
  p.client.clientId = config.clientId;
  p.client.clientSecret = std::move(clientSecret);
  p.client.redirectUri = redirectUri;
  p.client.scopes = microsoftScopes();
  p.client.endpoints = *endpoints;
  p.client.extraAuthorizationParams = {{"prompt", "select_account"}};
  p.calendars = [config](const oauth::Secret& accessToken) -> core::Result<std::vector<providers::CalendarInfo>> {
    providers::CurlHttpClient api(detail::apiHttpOptions(config.allowInsecureLoopback, nullptr));
    detail::OneToken token(accessToken);
    providers::microsoft::GraphProvider graph(api, token, core::systemClock(), {config.apiRoot});
    return graph.listCalendars();
  };
  return p;
}

core::Result<bool> offerMicrosoft(const MicrosoftConfig& config, const std::string& publicUrl, providers::HttpClient& http,
                                  OAuthConnections& connections) {
  if (config.clientId.empty()) return false;
  if (publicUrl.empty()) {
    return core::fail(ErrorCode::Invalid,
                      "microsoft.client_id needs server.public_url (the OAuth redirect URI is <public_url>/oauth/callback)");
  }
  auto secret = detail::readClientSecret(config.clientSecretFile, "microsoft.client_secret_file");
  if (!secret) return std::unexpected(secret.error());
  auto provider = microsoftOAuthProvider(config, std::move(*secret), publicUrl + "/oauth/callback", http);
  if (!provider) {
    if (provider.error().cause == core::Cause::UrlRejected) {
      return core::fail(ErrorCode::Invalid, "microsoft.issuer: " + provider.error().message);
    }
    return std::unexpected(provider.error());
  }
  connections.add(std::move(*provider));
  return true;
}

core::Result<std::unique_ptr<providers::Provider>> openMicrosoft(const Account& account, TokenBroker& broker,
                                                                 const MicrosoftConfig& config,
                                                                 const ProviderEnvironment& environment) {
  if (config.clientId.empty()) {
    return core::fail(ErrorCode::Unavailable, "account " + account.id + ": Microsoft 365 accounts are not configured (microsoft.client_id)");
  }
  providers::microsoft::GraphOptions o;
  o.maxPullBytes = environment.pullMaxBytes;
  o.maxPullEvents = environment.pullMaxEvents;
  // Outlook's 4 requests at once per mailbox, kept by every adapter of the account together
  o.slots = environment.requestSlots ? environment.requestSlots : providers::localSlots();
  o.slotKey = "graph:" + account.id;
  return std::unique_ptr<providers::Provider>(std::make_unique<OwnedGraph>(detail::apiHttpOptions(config.allowInsecureLoopback, &environment),
                                                                           broker, account.id, *environment.clock,
                                                                           providers::microsoft::GraphEndpoints{config.apiRoot}, o));
}

}  // namespace calgate::accounts
