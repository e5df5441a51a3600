// /v1/accounts: connecting a CalDAV account is checked by real discovery before anything is
// stored, which also proves who the account is (model::caldavIdentities); the credential goes
// only into the vault; a new app-specific password goes the same way (PATCH). Google and Microsoft
// connect through OAuth (oauth_routes.cpp).

#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/identities.hpp"
#include "calgate/accounts/token_broker.hpp"
#include "calgate/sync/sync_service.hpp"
#include "calgate/core/log.hpp"
#include "support.hpp"

#include <algorithm>
#include <cctype>

namespace calgate::api {
namespace {

using core::ErrorCode;

http::Response connectProblem(std::string_view slug, std::string_view detail) {
  return http::fieldProblem(422, slug, "Unprocessable Content", detail, "server_url");
}

// Why discovery failed, as the caller can act on it. Messages never hold the password (the HTTP
// client strips userinfo and never logs credentials).
http::Response discoveryFailure(const core::Error& e) {
  if (e.cause == core::Cause::AddressRefused) {
    // Not the address itself: it would tell callers how the gateway's network resolves names.
    return connectProblem("address-not-allowed",
                          "the server resolves to a private, loopback or link-local address; the operator can allow "
                          "that with sync.allow_private_networks");
  }
  if (e.cause == core::Cause::UrlRejected) {
    return connectProblem("address-not-allowed", e.message);
  }
  switch (e.code) {
    case ErrorCode::Unauthorized:
      return http::fieldProblem(422, "caldav-unauthorized", "Unprocessable Content",
                                "the CalDAV server rejected the username or password (use an app-specific password)",
                                "password");
    case ErrorCode::Timeout:
    case ErrorCode::Unavailable:
    case ErrorCode::RateLimited:
      return connectProblem("caldav-unreachable", "the CalDAV server could not be reached: " + e.message);
    default:
      return connectProblem("caldav-discovery-failed", "no CalDAV calendars found there: " + e.message);
  }
}

// Why listing an OAuth account's calendars failed, as the caller can act on it.
http::Response providerFailure(const core::Error& e) {
  if (e.code == ErrorCode::Unauthorized) {
    return http::problem(422, "provider-reauth-needed", "Unprocessable Content",
                         "the provider no longer accepts calgate's access to this account: connect it again "
                         "(POST /v1/accounts/oauth/{provider})");
  }
  return http::problem(422, "provider-unreachable", "Unprocessable Content",
                       "the provider could not list the calendars now: " + e.message);
}

Reply<std::string> checkServerUrl(const std::string& url) {
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return std::unexpected(invalidField("server_url", "must be an http:// or https:// URL"));
  }
  const auto rest = std::string_view(url).substr(url.find("://") + 3);
  const auto authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return std::unexpected(invalidField("server_url", "must name a host"));
  if (authority.find('@') != std::string_view::npos) {
    return std::unexpected(invalidField("server_url", "must not hold a user name or password; send them as fields"));
  }
  if (url.find_first_of(" \t") != std::string::npos) return std::unexpected(invalidField("server_url", "must not contain spaces"));
  if (url.find_first_of("?#") != std::string::npos) {
    return std::unexpected(invalidField("server_url", "must not carry a query or fragment"));
  }
  return url;
}

std::string domainOf(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

std::string joinDomains(const std::vector<std::string>& domains) {
  std::string out;
  for (const auto& d : domains) out += (out.empty() ? "" : ",") + d;
  return out;
}

// The typed address is a label; it may not contradict what is proven. A login name that is an
// address names the account the server authenticated, so the label must be in its domain.
Reply<void> checkLabelAgainstLogin(const std::string& username, const std::optional<std::string>& email) {
  if (!email || domainOf(username).empty()) return {};
  auto login = accounts::normaliseEmail(username);
  auto label = accounts::normaliseEmail(*email);
  if (!login || !label || domainOf(*login) == domainOf(*label)) return {};
  return std::unexpected(http::fieldProblem(422, "domain-mismatch", "Unprocessable Content",
                                            "email must be in the same domain as the username (" + domainOf(*login) +
                                                ")",
                                            "email"));
}

// The label of a new account: the typed address, else the first address the server reports for
// the principal, else the login name if it is an address. A typed address the server's own
// addresses contradict is refused: it would mislead whoever reads the account list.
Reply<std::string> accountLabel(const std::optional<std::string>& email, const std::string& username,
                                const std::vector<model::Identity>& identities) {
  std::vector<std::string> reported;
  for (const auto& i : identities) {
    if (i.kind == model::IdentityKind::CalDavAddress) reported.push_back(i.address);
  }
  std::string address = email.value_or(reported.empty() ? username : reported.front());
  auto normalised = accounts::normaliseEmail(address);
  if (!normalised) {
    if (email) return std::unexpected(invalidField("email", normalised.error().message));
    return std::unexpected(http::fieldProblem(400, "missing-field", "Bad Request",
                                              "email is required when the username is not an email address and the "
                                              "server reports no address for the account (it labels the account)",
                                              "email"));
  }
  if (email && !reported.empty() && std::find(reported.begin(), reported.end(), *normalised) == reported.end()) {
    return std::unexpected(http::fieldProblem(
        422, "domain-mismatch", "Unprocessable Content",
        "the server reports this account as " + reported.front() + ", not " + *normalised +
            "; use that address or leave email out (organisation policies follow what the server proves)",
        "email"));
  }
  return *normalised;
}

http::Response connect(Services& services, http::Request& request) {
  if (auto ok = requireVault(services); !ok) return ok.error();
  if (auto over = overLimit(countOf(services.accounts->listForUser(callerId(request))),
                            services.limits.accountsPerUser, "calendar accounts", "accounts_per_user", request)) {
    return *over;
  }
  auto body = readJsonObject(request);
  if (!body) return body.error();
  ObjectReader in(*body);
  if (auto ok = in.only({"provider", "server_url", "username", "password", "email"}); !ok) return ok.error();
  auto providerName = in.optionalString("provider", 1, 32);
  if (!providerName) return providerName.error();
  if (!*providerName) return http::fieldProblem(400, "missing-field", "Bad Request", "provider is required", "provider");
  auto provider = model::parseProviderKind(**providerName);
  if (!provider) return invalidField("provider", "must be one of " + std::string(model::providerKindList()));
  if (*provider != model::ProviderKind::CalDav) {
    return http::fieldProblem(422, "provider-not-supported", "Unprocessable Content",
                              **providerName + " accounts connect through OAuth: POST /v1/accounts/oauth/" + **providerName,
                              "provider");
  }
  auto serverUrl = in.requiredString("server_url", 1, 2048);
  if (!serverUrl) return serverUrl.error();
  if (auto ok = checkServerUrl(*serverUrl); !ok) return ok.error();
  auto username = in.requiredString("username", 1, 256);
  if (!username) return username.error();
  auto password = in.requiredString("password", 1, 1024);
  if (!password) return password.error();
  auto email = in.optionalString("email", 3, 254);
  if (!email) return email.error();
  if (auto ok = checkLabelAgainstLogin(*username, *email); !ok) return ok.error();
  if (*email && !accounts::normaliseEmail(**email)) return invalidField("email", "must be an email address");

  // Discover first: an account whose calendars cannot be listed is not stored.
  const accounts::CalDavLogin login{*serverUrl, *username, *password};
  auto found = services.discoverCalDav(login);
  if (!found) {
    core::log::info("api.account_rejected", {{"request_id", request.requestId},
                                             {"code", core::errorCodeName(found.error().code)}});
    return discoveryFailure(found.error());
  }
  auto label = accountLabel(*email, *username, found->identities);
  if (!label) return label.error();
  const auto* calendars = &found->calendars;
  auto account = services.accounts->create(
      {callerId(request), model::ProviderKind::CalDav, *label, *serverUrl,
       accounts::withTypedFallback(found->identities, *label)},
      accounts::caldavCredential(login));
  if (!account) {
    if (account.error().code == ErrorCode::Conflict) {
      return http::problem(409, "account-exists", "Conflict", "this CalDAV account is already connected");
    }
    if (account.error().code == ErrorCode::Invalid) return invalidField("email", account.error().message);
    return failure(account.error(), request);
  }
  sync::CalendarStore store(*services.db, *services.clock);
  nlohmann::json out = accountJson(*account);
  out["calendars"] = nlohmann::json::array();
  for (const auto& c : *calendars) {
    auto saved = store.upsert(account->id, c);
    if (!saved) {
      (void)services.accounts->remove(account->id);  // all or nothing
      return failure(saved.error(), request);
    }
    out["calendars"].push_back(calendarJson(*saved));
  }
  auditCaller(services, request, "account.connect", "account/" + account->id, "connected",
              {{"provider", std::string(model::toString(model::ProviderKind::CalDav))},
               {"calendars", std::to_string(calendars->size())},
               {"domains", joinDomains(model::policyDomains(account->identities))}});
  http::Response r = jsonResponse(201, out);
  r.headers.emplace_back("Location", "/v1/accounts/" + account->id);
  return r;
}

// PATCH /v1/accounts/{id} {"password"}: a CalDAV account's new app-specific password (the old one
// was revoked, or expired). Checked by discovery with the new password first; only then does the
// vault get it, and the account its proofs and calendars as the server shows them now.
http::Response changePassword(Services& services, http::Request& request) {
  if (auto ok = requireVault(services); !ok) return ok.error();
  auto account = ownedAccount(services, request, request.params["id"]);
  if (!account) return account.error();
  auto body = readJsonObject(request);
  if (!body) return body.error();
  ObjectReader in(*body);
  if (auto ok = in.only({"password"}); !ok) return ok.error();
  auto password = in.requiredString("password", 1, 1024);
  if (!password) return password.error();
  if (account->provider != model::ProviderKind::CalDav) {
    return http::problem(422, "provider-not-supported", "Unprocessable Content",
                         "this account signs in at its provider: connect it again (POST /v1/accounts/oauth/" +
                             std::string(model::toString(account->provider)) + ")");
  }
  auto secret = services.accounts->credential(account->id);
  if (!secret) return failure(secret.error(), request);
  auto login = accounts::caldavLogin(account->serverUrl.value_or(""), *secret);
  if (!login) return failure(login.error(), request);
  login->password = *password;
  auto found = services.discoverCalDav(*login);
  if (!found) return discoveryFailure(found.error());
  if (auto ok = services.accounts->replaceCredential(account->id, accounts::caldavCredential(*login)); !ok) {
    return failure(ok.error(), request);
  }
  if (auto ok = services.accounts->setIdentities(account->id, accounts::withTypedFallback(found->identities, account->email));
      !ok) {
    return failure(ok.error(), request);
  }
  if (auto ok = services.accounts->setStatus(account->id, "active", ""); !ok) return failure(ok.error(), request);
  sync::CalendarStore store(*services.db, *services.clock);
  for (const auto& c : found->calendars) {
    if (auto saved = store.upsert(account->id, c); !saved) return failure(saved.error(), request);
  }
  auditCaller(services, request, "account.password", "account/" + account->id, "replaced");
  auto updated = services.accounts->get(account->id);
  if (!updated) return failure(updated.error(), request);
  auto calendars = store.listForAccount(account->id);
  if (!calendars) return failure(calendars.error(), request);
  nlohmann::json out = accountJson(*updated);
  out["calendars"] = nlohmann::json::array();
  for (const auto& c : *calendars) out["calendars"].push_back(calendarJson(c));
  return jsonResponse(200, out);
}

}  // namespace

void addAccountRoutes(http::Router& router, Services& services) {
  router.add({"PATCH", "/v1/accounts/{id}", true,
              [&services](http::Request& request) { return changePassword(services, request); }, /*outbound=*/true});
  router.add({"POST", "/v1/accounts", true, [&services](http::Request& request) { return connect(services, request); },
              /*outbound=*/true});

  router.add({"GET", "/v1/accounts", true, [&services](http::Request& request) {
                if (auto ok = requireVault(services); !ok) return ok.error();
                auto accounts = services.accounts->listForUser(callerId(request));
                if (!accounts) return failure(accounts.error(), request);
                nlohmann::json list = nlohmann::json::array();
                for (const auto& a : *accounts) list.push_back(accountJson(a));
                return jsonResponse(200, {{"accounts", list}});
              }});

  router.add({"GET", "/v1/accounts/{id}", true, [&services](http::Request& request) {
                auto account = ownedAccount(services, request, request.params["id"]);
                if (!account) return account.error();
                auto calendars = sync::CalendarStore(*services.db, *services.clock).listForAccount(account->id);
                if (!calendars) return failure(calendars.error(), request);
                nlohmann::json out = accountJson(*account);
                out["calendars"] = nlohmann::json::array();
                for (const auto& c : *calendars) out["calendars"].push_back(calendarJson(c));
                return jsonResponse(200, out);
              }});

  router.add({"GET", "/v1/accounts/{id}/calendars", true, [&services](http::Request& request) {
                auto account = ownedAccount(services, request, request.params["id"]);
                if (!account) return account.error();
                auto query = parseQuery(request.query);
                if (!query) return http::problem(400, "invalid-query", "Bad Request", "malformed query string");
                bool refresh = false;
                for (const auto& [k, v] : *query) {
                  if (k != "refresh" || (v != "true" && v != "false")) {
                    return http::problem(400, "invalid-query", "Bad Request", "the only parameter is refresh=true|false");
                  }
                  refresh = v == "true";
                }
                sync::CalendarStore store(*services.db, *services.clock);
                if (refresh && account->provider != model::ProviderKind::CalDav) {
                  // an OAuth account: its adapter lists the calendars (identities were proven at sign-in)
                  if (!services.providers) return http::problem(503, "unavailable", "Service Unavailable", "the vault is not open");
                  sync::CalendarRef ref;
                  ref.accountId = account->id;
                  ref.provider = account->provider;
                  auto provider = services.providers->open(ref, std::chrono::steady_clock::now() + std::chrono::seconds(15));
                  if (!provider) return providerFailure(provider.error());
                  auto found = (*provider)->listCalendars();
                  if (!found) return providerFailure(found.error());
                  for (const auto& c : *found) {
                    auto saved = store.upsert(account->id, c);
                    if (!saved) return failure(saved.error(), request);
                  }
                } else if (refresh) {
                  auto secret = services.accounts->credential(account->id);
                  if (!secret) return failure(secret.error(), request);
                  auto login = accounts::caldavLogin(account->serverUrl.value_or(""), *secret);
                  if (!login) return failure(login.error(), request);
                  auto found = services.discoverCalDav(*login);
                  if (!found) return discoveryFailure(found.error());
                  // proven again: what the server shows now (a legacy account gets its proofs here)
                  if (auto ok = services.accounts->setIdentities(
                          account->id, accounts::withTypedFallback(found->identities, account->email));
                      !ok) {
                    return failure(ok.error(), request);
                  }
                  for (const auto& c : found->calendars) {
                    auto saved = store.upsert(account->id, c);
                    if (!saved) return failure(saved.error(), request);
                  }
                }
                auto calendars = store.listForAccount(account->id);
                if (!calendars) return failure(calendars.error(), request);
                nlohmann::json list = nlohmann::json::array();
                for (const auto& c : *calendars) list.push_back(calendarJson(c));
                return jsonResponse(200, {{"calendars", list}});
              },
              /*outbound=*/true});

  router.add({"DELETE", "/v1/accounts/{id}", true, [&services](http::Request& request) {
                auto account = ownedAccount(services, request, request.params["id"]);
                if (!account) return account.error();
                auto calendars = sync::CalendarStore(*services.db, *services.clock).listForAccount(account->id);
                if (!calendars) return failure(calendars.error(), request);
                // its push channels stop while its credential can still stop them
                if (auto ok = stopChannels(services, *calendars); !ok) return failure(ok.error(), request);
                if (account->provider != model::ProviderKind::CalDav && services.tokens) {
                  // the provider forgets calgate's access too; the account goes regardless
                  if (auto revoked = services.tokens->revoke(account->id); !revoked) {
                    core::log::warn("oauth.revoke_failed",
                                    {{"account", account->id}, {"error", revoked.error().describe()}});
                  }
                }
                if (auto ok = services.accounts->remove(account->id); !ok) return failure(ok.error(), request);
                std::vector<std::string> gone;
                for (const auto& c : *calendars) gone.push_back(c.id);
                if (auto ok = feeds::FeedStore(*services.db, *services.clock).forgetCalendars(callerId(request), gone);
                    !ok) {
                  return failure(ok.error(), request);
                }
                auditCaller(services, request, "account.delete", "account/" + account->id, "deleted");
                return noContent();
              },
              /*outbound=*/true});
}

}  // namespace calgate::api
