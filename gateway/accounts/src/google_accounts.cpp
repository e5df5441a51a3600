#include "calgate/accounts/google_accounts.hpp"

#include "calgate/providers/forwarding_provider.hpp"
#include "calgate/providers/google/google_provider.hpp"
#include "calgate/providers/http/curl_http_client.hpp"

#include "calgate/vault/master_key.hpp"

#include <algorithm>

namespace calgate::accounts {
namespace {

using core::ErrorCode;

providers::HttpClientOptions apiHttpOptions(const GoogleConfig& config, const ProviderEnvironment* environment) {
  providers::HttpClientOptions o;
  o.allowLoopback = config.allowInsecureLoopback;
  o.allowPlainHttp = config.allowInsecureLoopback;
  o.maxRedirects = 0;  // the bearer token goes to the API root and nowhere else
  if (environment) o.deadline = environment->deadline;
  return o;
}

/// The broker's access tokens of one account.
class BrokerTokens final : public providers::google::AccessTokens {
 public:
  BrokerTokens(TokenBroker& broker, std::string accountId) : broker_(broker), accountId_(std::move(accountId)) {}
  core::Result<Botan::secure_vector<char>> token() override { return broker_.accessToken(accountId_); }
  void rejected() override { broker_.forget(accountId_); }

 private:
  TokenBroker& broker_;
  std::string accountId_;
};

/// One access token, as OAuthConnections hands it to calendar discovery right after the sign-in.
class OneToken final : public providers::google::AccessTokens {
 public:
  explicit OneToken(const oauth::Secret& token) : token_(token) {}
  core::Result<Botan::secure_vector<char>> token() override {
    if (refused_) return core::fail(ErrorCode::Unauthorized, "Google refused the new access token");
    return token_;
  }
  void rejected() override { refused_ = true; }

 private:
  oauth::Secret token_;
  bool refused_ = false;
};

/// A Google adapter that owns its HTTP client and tokens.
class OwnedGoogle final : public providers::ForwardingProvider {
 public:
  OwnedGoogle(providers::HttpClientOptions options, TokenBroker& broker, const std::string& accountId,
              const core::Clock& clock, providers::google::GoogleEndpoints endpoints, providers::google::GoogleOptions o)
      : ForwardingProvider(adapter_), http_(options), tokens_(broker, accountId),
        adapter_(http_, tokens_, clock, std::move(endpoints), std::move(o)) {}

 private:
  providers::CurlHttpClient http_;
  BrokerTokens tokens_;
  providers::google::GoogleProvider adapter_;
};

}  // namespace

const std::vector<std::string>& googleScopes() {
  static const std::vector<std::string> scopes = {"openid", "email",
                                                  "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
                                                  "https://www.googleapis.com/auth/calendar.events"};
  return scopes;
}

core::Result<oauth::Secret> readGoogleClientSecret(const GoogleConfig& config) {
  if (config.clientSecretFile.empty()) return core::fail(ErrorCode::Invalid, "google.client_secret_file is not set");
  auto text = vault::readSecretFile(config.clientSecretFile, "google.client_secret_file " + config.clientSecretFile.string(), 1024);
  if (!text) return core::fail(ErrorCode::Invalid, text.error().message);
  std::size_t n = text->size();
  while (n > 0 && (text->at(n - 1) == '\n' || text->at(n - 1) == '\r' || text->at(n - 1) == ' ')) --n;
  if (n == 0 || n > 512 || std::find(text->begin(), text->begin() + static_cast<long>(n), '\n') != text->begin() + static_cast<long>(n)) {
    return core::fail(ErrorCode::Invalid, "google.client_secret_file " + config.clientSecretFile.string() + " does not hold one line of secret");
  }
  return oauth::Secret(text->begin(), text->begin() + static_cast<long>(n));
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
    OneToken token(accessToken);
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
  return std::unique_ptr<providers::Provider>(std::make_unique<OwnedGoogle>(
      apiHttpOptions(config, &environment), broker, account.id, *environment.clock, providers::google::GoogleEndpoints{config.apiRoot}, o));
}

}  // namespace calgate::accounts
