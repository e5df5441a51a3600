#pragma once
/// The OAuth providers the operator configured (google.*, microsoft.*), offered to users: the
/// sign-in entry (OAuthConnections) and the adapter (ProviderRegistry) of each. A configuration
/// mistake stops the start (Invalid from start()). A provider whose issuer does not answer at start
/// (an outage, the network not up yet) does not: the gateway serves everything else, logs
/// `<provider>.unavailable` with the next try, and keeps trying in the background (after
/// `firstRetry`, doubling up to `maxRetry`) until the issuer answers, then logs `<provider>.offered`
/// and offers it from then on. Before that, its sign-in answers "not configured" and its accounts'
/// pairs fail with "no adapter", which their jobs retry.
///
/// Thread-safety: start() once, from one thread; the background tries run on a thread of their
/// own, stopped (and joined) by the destructor. The connections, broker, registry and HTTP client
/// must outlive this object.

#include "calgate/accounts/oauth_connections.hpp"
#include "calgate/accounts/provider_registry.hpp"
#include "calgate/accounts/token_broker.hpp"
#include "calgate/app/config.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace calgate::app {

class OAuthOffers {
 public:
  OAuthOffers(const Config& config, providers::HttpClient& http, accounts::OAuthConnections& connections,
              accounts::TokenBroker& broker, accounts::ProviderRegistry& registry,
              std::chrono::seconds firstRetry = std::chrono::seconds(2),
              std::chrono::seconds maxRetry = std::chrono::minutes(10));
  ~OAuthOffers();
  OAuthOffers(const OAuthOffers&) = delete;
  OAuthOffers& operator=(const OAuthOffers&) = delete;

  /// Offers every configured provider whose issuer answers; schedules the others. Invalid (and
  /// nothing offered) for a configuration mistake.
  core::Result<void> start();

 private:
  /// One provider's attempt: Invalid, Unavailable and the like as the offer function says; true
  /// when offered, false when not configured.
  using Attempt = std::function<core::Result<bool>()>;
  struct Pending {
    std::string name;
    model::ProviderKind kind;
    std::string issuer;
    Attempt attempt;
  };
  void retryLoop();

  const Config& config_;
  providers::HttpClient& http_;
  accounts::OAuthConnections& connections_;
  accounts::TokenBroker& broker_;
  accounts::ProviderRegistry& registry_;
  std::chrono::seconds firstRetry_, maxRetry_;
  std::vector<Pending> pending_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread retries_;
};

}  // namespace calgate::app
