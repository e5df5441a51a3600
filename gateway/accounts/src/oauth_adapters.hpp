#pragma once
// What the OAuth providers' accounts (Google, Microsoft 365) share, private to accounts/: the HTTP
// options of an adapter (no redirects: the bearer token goes to the API root and nowhere else),
// access tokens from the TokenBroker or the one fresh token of a sign-in, an adapter that owns
// its HTTP client and tokens, and the operator's client secret file.

#include "calgate/accounts/provider_registry.hpp"
#include "calgate/accounts/token_broker.hpp"
#include "calgate/oauth/client.hpp"
#include "calgate/providers/http/access_tokens.hpp"
#include "calgate/providers/forwarding_provider.hpp"
#include "calgate/providers/http/curl_http_client.hpp"

#include <filesystem>
#include <string>

namespace calgate::accounts::detail {

inline providers::HttpClientOptions apiHttpOptions(bool allowInsecureLoopback, const ProviderEnvironment* environment) {
  providers::HttpClientOptions o;
  o.allowLoopback = allowInsecureLoopback;
  o.allowPlainHttp = allowInsecureLoopback;
  o.maxRedirects = 0;  // the bearer token goes to the API root and nowhere else
  if (environment) o.deadline = environment->deadline;
  return o;
}

/// The broker's access tokens of one account.
class BrokerTokens final : public providers::AccessTokens {
 public:
  BrokerTokens(TokenBroker& broker, std::string accountId) : broker_(broker), accountId_(std::move(accountId)) {}
  core::Result<Botan::secure_vector<char>> token() override { return broker_.accessToken(accountId_); }
  void rejected() override { broker_.forget(accountId_); }

 private:
  TokenBroker& broker_;
  std::string accountId_;
};

/// One access token, as OAuthConnections hands it to calendar discovery right after the sign-in.
class OneToken final : public providers::AccessTokens {
 public:
  explicit OneToken(const oauth::Secret& token) : token_(token) {}
  core::Result<Botan::secure_vector<char>> token() override {
    if (refused_) return core::fail(core::ErrorCode::Unauthorized, "the provider refused the new access token");
    return token_;
  }
  void rejected() override { refused_ = true; }

 private:
  oauth::Secret token_;
  bool refused_ = false;
};

/// An adapter (GoogleProvider, GraphProvider) that owns its HTTP client and the broker's tokens.
template <class Adapter, class Endpoints, class Options>
class OwnedAdapter final : public providers::ForwardingProvider {
 public:
  OwnedAdapter(providers::HttpClientOptions options, TokenBroker& broker, const std::string& accountId, const core::Clock& clock,
               Endpoints endpoints, Options o)
      : ForwardingProvider(adapter_), http_(options), tokens_(broker, accountId),
        adapter_(http_, tokens_, clock, std::move(endpoints), std::move(o)) {}

 private:
  providers::CurlHttpClient http_;
  BrokerTokens tokens_;
  Adapter adapter_;
};

/// The OAuth client secret in `file` (one line; `setting` names the configuration key for
/// messages): Invalid when the file is missing, empty, holds more than one line, or is readable by
/// group or others (like the vault's key file).
core::Result<oauth::Secret> readClientSecret(const std::filesystem::path& file, const std::string& setting);

}  // namespace calgate::accounts::detail
