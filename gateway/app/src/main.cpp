// calgate: the gateway server.
#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/caldav_accounts.hpp"
#include "calgate/accounts/database_slots.hpp"
#include "calgate/accounts/google_accounts.hpp"
#include "calgate/accounts/provider_registry.hpp"
#include "calgate/accounts/token_broker.hpp"
#include "calgate/api/routes.hpp"
#include "calgate/app/bootstrap.hpp"
#include "calgate/app/cli.hpp"
#include "calgate/audit/checkpoints.hpp"
#include "calgate/feeds/feed_store.hpp"
#include "calgate/app/oauth_offers.hpp"
#include "calgate/core/log.hpp"
#include "calgate/core/version.hpp"
#include "calgate/http/dispatcher.hpp"
#include "calgate/http/server.hpp"
#include "calgate/orgpolicy/dns_setup.hpp"
#include "calgate/orgpolicy/sql_pin_store.hpp"
#include "calgate/portal/login_links.hpp"
#include "calgate/portal/oidc_signin.hpp"
#include "calgate/portal/session_store.hpp"
#include "calgate/sync/sync_engine.hpp"
#include "calgate/sync/sync_service.hpp"
#include "calgate/vault/vault.hpp"

#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

using namespace calgate;
using namespace calgate::app;

namespace {

// Loads the configuration, or prints the one-line reason (the caller exits with kExitUsage).
std::optional<Config> loadOrReport(const std::optional<std::filesystem::path>& configPath) {
  const Environment env = processEnvironment();
  auto config = loadConfig(chooseConfigFile(configPath, env), env);
  if (!config) {
    std::cerr << "calgate: configuration error: " << config.error().message << "\n";
    return std::nullopt;
  }
  return *config;
}

// Every client connection, calendar server connection and DNS socket is a descriptor; the usual
// soft limit of 1024 is far below what a server with many clients needs. Raise it to the hard
// limit, as servers do (nothing in calgate waits with select(), so any descriptor number works).
void raiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 1 << 20);
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    core::log::info("server.descriptor_limit", {{"from", static_cast<long long>(before)},
                                                {"to", static_cast<long long>(limit.rlim_cur)}});
  }
}

int serve(const std::optional<std::filesystem::path>& configPath) {
  auto config = loadOrReport(configPath);
  if (!config) return kExitUsage;
  core::log::setLevel(config->log.level);
  raiseDescriptorLimit();
  // No master key, no start: credentials could be neither stored nor read.
  auto masterKey = vault::loadMasterKey(config->vault, config->dataDir, processEnvironment());
  vault::protectProcessSecrets();
  if (!masterKey) {
    std::cerr << "calgate: refusing to start: " << masterKey.error().message << "\n";
    return kExitUsage;
  }

  auto db = openConfiguredDatabase(*config);
  if (!db) {
    core::log::error("server.start_failed", {{"error", db.error().message}});
    std::cerr << "calgate: " << db.error().message << "\n";
    return kExitFailure;
  }
  store::Migrator migrator(**db, store::builtinMigrations((*db)->dialect()), core::systemClock());
  if (config->database.autoMigrate) {
    auto applied = migrator.migrate([](const store::Migration& m) {
      core::log::info("db.migrating", {{"version", m.version}, {"name", m.name}});
    });
    if (!applied) {
      core::log::error("server.start_failed", {{"error", applied.error().message}});
      std::cerr << "calgate: refusing to start: " << applied.error().message << "\n";
      return kExitFailure;
    }
  } else {
    auto status = migrator.status();
    if (!status) {
      std::cerr << "calgate: " << status.error().message << "\n";
      return kExitFailure;
    }
    if (!status->unknownApplied.empty()) {
      std::cerr << "calgate: refusing to start: " << status->problem() << "\n";
      return kExitFailure;
    }
    if (!status->current()) core::log::warn("db.not_current", {{"problem", status->problem()}});
  }

  // The vault lives in the schema: with migrations pending (auto_migrate off) the server starts
  // not-ready and nothing can use credentials yet; otherwise a wrong master key stops it here.
  std::unique_ptr<vault::Vault> credentialVault;
  std::shared_ptr<const policy::ContentHasher> contentHasher;
  std::string hashKey;  // the vault's key of keyed hashes (raw bytes)
  if (auto current = migrator.verifyCurrent(); current) {
    auto opened = vault::Vault::open(**db, *masterKey, core::systemClock());
    if (!opened) {
      core::log::error("server.start_failed", {{"error", opened.error().message}});
      std::cerr << "calgate: refusing to start: " << opened.error().message << "\n";
      return kExitFailure;
    }
    credentialVault = std::move(*opened);
    core::log::info("vault.opened", {{"key_source", masterKey->origin}, {"current_key", credentialVault->currentKeyId()}});
  } else {
    core::log::warn("vault.deferred", {{"reason", "schema not current; the vault opens after migration"}});
  }

  accounts::UserStore users(**db, core::systemClock());
  http::HttpMetrics metrics;
  // the web portal's sessions and one-time sign-in links (signing in with Google or Microsoft
  // needs the OAuth clients, below)
  portal::SessionStore portalSessions(**db, core::systemClock(), config->portal.sessionLifetime);
  portal::LoginLinks loginLinks(**db, core::systemClock());
  std::unique_ptr<portal::OidcSignIn> oidcSignIn;

  // The sync engine: a scheduler and job workers (only with an open vault: they need credentials).
  orgpolicy::SqlPinStore pins(**db);
  std::optional<orgpolicy::OrgPolicyStack> orgStack;
  std::unique_ptr<accounts::AccountStore> accountStore;
  // OAuth sign-ins and tokens: Google and Microsoft 365, each when the operator configured its OAuth
  // client (google.*, microsoft.*); one whose issuer is down at start is offered once it answers.
  providers::CurlHttpClient oauthHttp(
      oauth::httpClientOptions(config->google.allowInsecureLoopback || config->microsoft.allowInsecureLoopback));
  std::unique_ptr<accounts::OAuthConnections> oauthConnections;
  std::unique_ptr<accounts::TokenBroker> tokenBroker;
  accounts::ProviderRegistry registry = accounts::builtinProviders();
  std::unique_ptr<sync::ProviderFactory> providerFactory;
  std::unique_ptr<sync::SyncService> syncService;
  std::unique_ptr<app::OAuthOffers> oauthOffers;  // its late offers stop before what they fill goes
  if (credentialVault) {
    auto stack = orgpolicy::makeOrgPolicyStack(config->dns, pins, core::systemClock());
    if (!stack) {
      std::cerr << "calgate: " << stack.error().message << "\n";
      return kExitUsage;
    }
    orgStack.emplace(std::move(*stack));
    accountStore = std::make_unique<accounts::AccountStore>(**db, *credentialVault, core::systemClock());
    oauthConnections = std::make_unique<accounts::OAuthConnections>(**db, *credentialVault, *accountStore, oauthHttp,
                                                                    core::systemClock());
    tokenBroker = std::make_unique<accounts::TokenBroker>(**db, *accountStore, *oauthConnections, oauthHttp,
                                                          core::systemClock());
    oidcSignIn = std::make_unique<portal::OidcSignIn>(**db, *credentialVault, *oauthConnections, oauthHttp,
                                                      core::systemClock());
    oauthOffers = std::make_unique<app::OAuthOffers>(*config, oauthHttp, *oauthConnections, *tokenBroker, registry);
    if (auto offered = oauthOffers->start(); !offered) {
      std::cerr << "calgate: refusing to start: " << offered.error().message << "\n";
      return kExitUsage;
    }
    // credentials sealed before they were bound to their server are bound now (once)
    if (auto bound = accountStore->bindCredentialsToServers(); !bound) {
      core::log::warn("vault.bind_failed", {{"error", bound.error().describe()}});
    } else if (*bound > 0) {
      core::log::info("vault.bound_to_servers", {{"credentials", static_cast<long long>(*bound)}});
    }
    accounts::ProviderEnvironment environment{config->sync.allowPrivateNetworks, &core::systemClock(), std::nullopt,
                                              config->sync.pullMaxBytes, config->sync.pullMaxEvents};
    // processes sharing a PostgreSQL database count a mailbox's requests in flight together
    if ((*db)->dialect() == store::Dialect::Postgresql) {
      environment.requestSlots = std::make_shared<accounts::DatabaseSlots>(**db, core::systemClock());
    }
    providerFactory = sync::makeVaultProviderFactory(*accountStore, registry, environment);
    syncService = std::make_unique<sync::SyncService>(**db, *orgStack->service, *providerFactory, core::systemClock(),
                                                      config->sync, sync::ProcessIdentity::current(config->dataDir));
    metrics.setExtraSource([svc = syncService.get()] { return svc->renderMetrics(); });
    // the key of the copies' fingerprints (never a plain hash of what a copy holds)
    if (auto key = credentialVault->serverSecret(policy::kHashKeyPurpose)) {
      hashKey.assign(key->begin(), key->end());
      contentHasher = std::make_shared<const policy::ContentHasher>(hashKey);
      syncService->setContentHasher(contentHasher);
    } else {
      // never fall back to plain hashes of what copies hold (they would replace the keyed ones)
      std::cerr << "calgate: refusing to start: the key of keyed hashes is not available: " << key.error().message << "\n";
      return kExitFailure;
    }
    // revoked feeds (with their PIN counters), stale PIN counters and ended portal sessions go with
    // the purge job
    syncService->setRetention([database = db->get(), days = config->sync.revokedDays, &portalSessions](long long now)
                                  -> core::Result<std::size_t> {
      const long long cutoff = now - static_cast<long long>(days) * 86400;
      auto feeds = feeds::FeedStore(*database, core::systemClock()).purge(cutoff, now - 86400);
      if (!feeds) return feeds;
      auto sessions = portalSessions.purge(cutoff);
      if (!sessions) return sessions;
      return *feeds + *sessions;
    });
    // the audit chain's signing key: checkpoints hourly, retention after a checkpoint
    if (auto seed = credentialVault->serverSecret(audit::kSigningPurpose)) {
      auto key = core::SigningKey::fromSeed(std::string_view(reinterpret_cast<const char*>(seed->data()), seed->size()));
      if (key) syncService->setAuditKey(std::make_shared<const core::SigningKey>(std::move(*key)));
    } else {
      core::log::warn("audit.key_unavailable", {{"error", seed.error().describe()}});
    }
  }
  http::RateLimiter tokenLimiter(config->server.rateLimitPerMinute);
  http::RateLimiter feedLimiter(config->server.rateLimitPerMinute);
  // A fresh DNSSEC lookup holds the policy service's resolver (shared with the sync engine).
  http::RateLimiter policyLimiter(config->server.rateLimitPerMinute == 0 ? 0 : 10);
  api::Services services;
  services.db = db->get();
  services.migrator = &migrator;
  services.users = &users;
  services.metrics = &metrics;
  services.clock = &core::systemClock();
  services.accounts = accountStore.get();
  services.providers = providerFactory.get();
  services.orgPolicies = orgStack ? orgStack->service.get() : nullptr;
  sync::SyncOptions syncOptions = sync::syncOptionsFrom(config->sync);
  syncOptions.hasher = contentHasher;  // the preview plans with the fingerprints the workers record
  services.syncOptions = &syncOptions;
  services.orgPolicyService = orgStack ? orgStack->service.get() : nullptr;
  services.feedLimiter = &feedLimiter;
  services.jobSignal = syncService ? &syncService->signal() : nullptr;
  services.outboundBudget = config->server.outboundBudget;
  services.limits = config->limits;
  services.metricsToken = config->server.metricsToken;
  services.publicUrl = config->server.publicUrl;
  services.oauth = oauthConnections.get();
  services.tokens = tokenBroker.get();
  http::RateLimiter unknownFeedLimiter(config->server.rateLimitPerMinute == 0 ? 0 : 60);
  services.unknownFeedLimiter = &unknownFeedLimiter;
  http::RateLimiter webhookLimiter(config->server.rateLimitPerMinute == 0 ? 0 : 60);
  services.webhookLimiter = &webhookLimiter;
  services.pushMetrics = syncService ? &syncService->pushMetrics() : nullptr;
  services.hashKey = hashKey;
  services.policyLimiter = &policyLimiter;
  services.sessions = &portalSessions;
  services.loginLinks = &loginLinks;
  services.signIn = oidcSignIn.get();
  services.portalConfig = &config->portal;
  http::RateLimiter signInLimiter(config->server.rateLimitPerMinute == 0 ? 0 : 30);
  services.signInLimiter = &signInLimiter;
  services.discoverCalDav = [allowPrivate = config->sync.allowPrivateNetworks](const accounts::CalDavLogin& login) {
    // A person waits for this answer (and a request thread with them): a slow server fails sooner.
    return accounts::discoverCalDav(login, allowPrivate, core::systemClock(), std::chrono::seconds(15));
  };
  const http::Router router = api::buildRouter(services);
  http::Dispatcher dispatcher(router, api::bearerAuthenticator(users), metrics, config->server.maxBodyBytes,
                              &tokenLimiter, api::sessionAuthenticator(services));
  http::Server server(dispatcher, config->server);
  if (auto started = server.start(); !started) {
    core::log::error("server.start_failed", {{"error", started.error().message}});
    std::cerr << "calgate: " << started.error().message << "\n";
    return kExitFailure;
  }
  core::log::info("server.started", {{"address", config->server.address},
                                     {"port", static_cast<int>(server.port())},
                                     {"database", (*db)->displayName()},
                                     {"version", core::versionString()}});

  if (syncService) {
    syncService->start();
    core::log::info("sync.started", {{"workers", static_cast<long long>(config->sync.workers)},
                                     {"poll_interval_seconds", static_cast<long long>(config->sync.pollInterval.count())}});
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  core::log::info("server.stopping", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"},
                                      {"grace_seconds", static_cast<long long>(config->server.shutdownGrace.count())}});
  if (syncService) syncService->stop();  // running jobs finish; their leases are released
  const std::size_t unfinished = server.shutdown(config->server.shutdownGrace);
  if (unfinished > 0) {
    // Handlers still hold database sessions: leave without tearing anything down under them.
    core::log::error("server.stopped", {{"unfinished_requests", unfinished}});
    std::_Exit(kExitFailure);
  }
  metrics.setExtraSource({});
  syncService.reset();
  credentialVault.reset();
  db->reset();
  core::log::info("server.stopped", {{"unfinished_requests", 0}});
  return kExitOk;
}

int checkConfig(const std::optional<std::filesystem::path>& configPath) {
  auto config = loadOrReport(configPath);
  if (!config) return kExitUsage;
  auto target = store::resolveDatabaseUrl(config->database.url, config->dataDir);
  if (!target) {
    std::cerr << "calgate: configuration error: database.url: " << target.error().message << "\n";
    return kExitUsage;
  }
  std::cout << "configuration OK" << (config->source ? " (" + config->source->string() + ")" : " (defaults)")
            << "\n  listen   " << config->server.address << ":" << config->server.port << "\n  database "
            << target->displayName << "\n";
  return kExitOk;
}

// Every route the server answers, from the same table `serve` uses (the OpenAPI test reads it).
int listRoutes(bool json) {
  api::Services none;  // handlers are not called: nothing is dereferenced
  const http::Router router = api::buildRouter(none);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : router.routes()) {
    if (json) {
      out.push_back({{"method", r.method}, {"pattern", r.pattern}, {"authenticated", r.authenticated}});
    } else {
      std::cout << r.method << " " << r.pattern << " " << (r.authenticated ? "bearer/session" : "none") << "\n";
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // Credentials and the database live under the data directory: nothing we create is for others.
  ::umask(077);
  // Block the shutdown signals before any thread starts, so only sigwait() in serve() sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"calgate: a self-hosted, policy-driven calendar gateway", "calgate"};
  app.require_subcommand(1);
  app.set_version_flag("--version", versionText());
  std::optional<std::filesystem::path> configPath;

  auto* serveCmd = app.add_subcommand("serve", "Run the gateway's HTTP server until SIGINT/SIGTERM");
  serveCmd->add_option("-c,--config", configPath, "YAML configuration file (default: $CALGATE_CONFIG, else built-in defaults)");

  auto* configCmd = app.add_subcommand("config", "Inspect the configuration");
  configCmd->require_subcommand(1);
  auto* checkCmd = configCmd->add_subcommand("check", "Validate the configuration and print what would be used");
  checkCmd->add_option("-c,--config", configPath, "YAML configuration file");

  bool routesJson = false;
  auto* routesCmd = app.add_subcommand("routes", "List every HTTP route the server answers (method, path, auth)");
  routesCmd->add_flag("--json", routesJson, "Print JSON");

  if (auto stop = parseCommandLine(app, argc, argv)) return *stop;
  if (routesCmd->parsed()) return listRoutes(routesJson);
  if (serveCmd->parsed()) return serve(configPath);
  if (checkCmd->parsed()) return checkConfig(configPath);
  return kExitUsage;
}
