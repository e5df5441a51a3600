#include "calgate/app/oauth_offers.hpp"

#include "calgate/accounts/google_accounts.hpp"
#include "calgate/accounts/microsoft_accounts.hpp"
#include "calgate/core/log.hpp"

#include <algorithm>

namespace calgate::app {
namespace {

/// The sign-in entry and, once it is there, the adapter of one provider.
template <class Section, class Offer, class Open>
core::Result<bool> offerOne(model::ProviderKind kind, const Section& section, const Config& config, providers::HttpClient& http,
                            accounts::OAuthConnections& connections, accounts::TokenBroker& broker,
                            accounts::ProviderRegistry& registry, Offer offer, Open open) {
  auto offered = offer(section, config.server.publicUrl, http, connections);
  if (!offered || !*offered) return offered;
  registry.add(kind, [&broker, section, open](const accounts::Account& account, const vault::SecretBytes&,
                                              const accounts::ProviderEnvironment& environment) {
    return open(account, broker, section, environment);
  });
  return true;
}

}  // namespace

OAuthOffers::OAuthOffers(const Config& config, providers::HttpClient& http, accounts::OAuthConnections& connections,
                         accounts::TokenBroker& broker, accounts::ProviderRegistry& registry, std::chrono::seconds firstRetry,
                         std::chrono::seconds maxRetry)
    : config_(config),
      http_(http),
      connections_(connections),
      broker_(broker),
      registry_(registry),
      firstRetry_(std::max(firstRetry, std::chrono::seconds(1))),
      maxRetry_(std::max(maxRetry, firstRetry_)) {}

OAuthOffers::~OAuthOffers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (retries_.joinable()) retries_.join();
}

core::Result<void> OAuthOffers::start() {
  std::vector<Pending> all;
  all.push_back({"google", model::ProviderKind::Google, config_.google.issuer, [this] {
                   return offerOne(model::ProviderKind::Google, config_.google, config_, http_, connections_, broker_, registry_,
                                   accounts::offerGoogle, accounts::openGoogle);
                 }});
  all.push_back({"microsoft", model::ProviderKind::Microsoft, config_.microsoft.issuer, [this] {
                   return offerOne(model::ProviderKind::Microsoft, config_.microsoft, config_, http_, connections_, broker_,
                                   registry_, accounts::offerMicrosoft, accounts::openMicrosoft);
                 }});
  for (auto& p : all) {
    auto offered = p.attempt();
    if (!offered) {
      if (offered.error().code == core::ErrorCode::Invalid) return std::unexpected(offered.error());
      core::log::error(p.name + ".unavailable", {{"issuer", p.issuer},
                                                 {"error", offered.error().describe()},
                                                 {"next_try_seconds", static_cast<long long>(firstRetry_.count())}});
      connections_.awaiting(p.kind, offered.error().describe());
      pending_.push_back(std::move(p));
      continue;
    }
    if (*offered) core::log::info(p.name + ".offered", {{"issuer", p.issuer}});
  }
  if (!pending_.empty()) retries_ = std::thread([this] { retryLoop(); });
  return {};
}

void OAuthOffers::retryLoop() {
  auto delay = firstRetry_;
  std::unique_lock lock(mutex_);
  while (!pending_.empty()) {
    if (wake_.wait_for(lock, delay, [this] { return stopping_; })) return;
    lock.unlock();
    std::vector<Pending> still;
    for (auto& p : pending_) {
      auto offered = p.attempt();
      if (offered) {
        if (*offered) core::log::info(p.name + ".offered", {{"issuer", p.issuer}, {"late", true}});
        continue;
      }
      // a mistake that only shows now (the issuer's answer names endpoints calgate refuses) is
      // reported like an outage: the operator reads it in the log; the gateway keeps serving
      const auto next = std::min(delay * 2, maxRetry_);
      core::log::warn(p.name + ".unavailable", {{"issuer", p.issuer},
                                                {"error", offered.error().describe()},
                                                {"next_try_seconds", static_cast<long long>(next.count())}});
      connections_.awaiting(p.kind, offered.error().describe());
      still.push_back(std::move(p));
    }
    lock.lock();
    pending_ = std::move(still);
    delay = std::min(delay * 2, maxRetry_);
  }
}

}  // namespace calgate::app
