#include "calgate/accounts/oauth_connections.hpp"

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/core/log.hpp"
#include "calgate/oauth/id_token.hpp"
#include "calgate/store/transaction.hpp"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

namespace calgate::accounts {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::string_view kStatePurpose = "oauth-state";

vault::Binding stateBinding(const std::string& userId, const std::string& stateHash) {
  return vault::Binding{userId, std::string(kStatePurpose), stateHash, ""};
}

// What the provider's `error` parameter means for the person who was sent there.
core::Error providerRefusal(const std::string& error) {
  if (error == "access_denied") {
    return {ErrorCode::Invalid, "consent was denied at the provider; nothing was connected (start again to allow access)",
            std::nullopt};
  }
  return {ErrorCode::Invalid, "the provider refused the sign-in (" + shownProviderError(error) + "); nothing was connected",
          std::nullopt};
}

std::string param(const std::map<std::string, std::string>& query, const std::string& name) {
  const auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

}  // namespace

std::string shownProviderError(std::string_view error) {
  std::string shown;
  for (char c : error.substr(0, 64)) shown += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '?';
  return shown;
}

vault::SecretBytes oauthCredential(const oauth::Secret& refreshToken) {
  nlohmann::json j = {{"refresh_token", std::string(refreshToken.begin(), refreshToken.end())}};
  const std::string text = j.dump();
  vault::SecretBytes out(text.begin(), text.end());
  return out;
}

core::Result<oauth::Secret> refreshTokenOf(const vault::SecretBytes& credential) {
  const auto j = nlohmann::json::parse(credential.begin(), credential.end(), nullptr, false);
  const auto it = j.is_object() ? j.find("refresh_token") : j.end();
  if (!j.is_object() || it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return fail(ErrorCode::Unauthorized, "the stored credential is not an OAuth refresh token; connect the account again");
  }
  const auto& token = it->get_ref<const std::string&>();
  return oauth::Secret(token.begin(), token.end());
}

OAuthConnections::OAuthConnections(store::Database& db, vault::Vault& vault, AccountStore& accounts,
                                   providers::HttpClient& http, const core::Clock& clock, std::chrono::seconds stateTtl)
    : db_(db), vault_(vault), accounts_(accounts), http_(http), clock_(clock), stateTtl_(stateTtl) {}

void OAuthConnections::add(OAuthProvider provider) {
  std::unique_lock lock(providersMutex_);
  const auto kind = provider.kind;
  providers_.try_emplace(kind, std::move(provider));
  awaiting_.erase(kind);
}

void OAuthConnections::awaiting(model::ProviderKind kind, std::string reason) {
  std::unique_lock lock(providersMutex_);
  if (!providers_.contains(kind)) awaiting_[kind] = std::move(reason);
}

std::optional<std::string> OAuthConnections::awaitingReason(model::ProviderKind kind) const {
  std::shared_lock lock(providersMutex_);
  const auto it = awaiting_.find(kind);
  return it == awaiting_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

bool OAuthConnections::offers(model::ProviderKind kind) const { return provider(kind) != nullptr; }

const OAuthProvider* OAuthConnections::provider(model::ProviderKind kind) const {
  std::shared_lock lock(providersMutex_);
  const auto it = providers_.find(kind);
  return it == providers_.end() ? nullptr : &it->second;
}

core::Result<OAuthStart> OAuthConnections::begin(const std::string& userId, model::ProviderKind kind) {
  const OAuthProvider* p = provider(kind);
  if (!p) return fail(ErrorCode::NotFound, std::string(model::toString(kind)) + " is not configured on this gateway");
  auto start = oauth::startAuthorization(p->client);
  if (!start) return std::unexpected(start.error());
  const std::string stateHash = core::sha256Hex(start->state);
  const std::string handoff = core::newSecret("cgo");
  const vault::SecretBytes verifier(start->codeVerifier.begin(), start->codeVerifier.end());
  auto sealedVerifier = vault_.seal(verifier, stateBinding(userId, stateHash));
  if (!sealedVerifier) return std::unexpected(sealedVerifier.error());
  auto sealedUrl = vault_.seal(vault::SecretBytes(start->url.begin(), start->url.end()), stateBinding(userId, stateHash));
  if (!sealedUrl) return std::unexpected(sealedUrl.error());
  const long long now = clock_.nowUnixSeconds();
  const long long expires = now + stateTtl_.count();
  const std::string provider(model::toString(kind)), handoffHash = core::sha256Hex(handoff);
  auto stored = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    sql << "DELETE FROM oauth_states WHERE expires_at < :n", soci::use(now);
    sql << "INSERT INTO oauth_states (state_hash, handoff_hash, authorization_url, user_id, provider, verifier, nonce, "
           "created_at, expires_at) VALUES (:s, :h, :a, :u, :p, :v, :n, :c, :e)",
        soci::use(stateHash), soci::use(handoffHash), soci::use(sealedUrl->blob), soci::use(userId),
        soci::use(provider), soci::use(sealedVerifier->blob), soci::use(start->nonce), soci::use(now),
        soci::use(expires);
    tx.commit();
    return {};
  });
  if (!stored) return std::unexpected(stored.error());
  return OAuthStart{handoff, expires};
}

core::Result<OAuthConnections::PendingStart> OAuthConnections::describe(const std::string& handoffSecret) {
  if (handoffSecret.empty() || handoffSecret.size() > 128) return fail(ErrorCode::Invalid, "this start link is not valid; start again");
  const std::string handoffHash = core::sha256Hex(handoffSecret);
  std::string userId, provider;
  long long expiresAt = 0;
  auto found = db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    sql << "SELECT user_id, provider, expires_at FROM oauth_states WHERE handoff_hash = :h", soci::use(handoffHash),
        soci::into(userId), soci::into(provider), soci::into(expiresAt);
    return sql.got_data();
  });
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail(ErrorCode::Invalid, "this start link is unknown or was already used; start again");
  if (expiresAt <= clock_.nowUnixSeconds()) return fail(ErrorCode::Invalid, "this start link expired; start again");
  auto kind = model::parseProviderKind(provider);
  if (!kind) return std::unexpected(kind.error());
  return PendingStart{userId, *kind};
}

core::Result<OAuthHandoff> OAuthConnections::handoff(const std::string& handoffSecret) {
  if (handoffSecret.empty() || handoffSecret.size() > 128) return fail(ErrorCode::Invalid, "this start link is not valid; start again");
  const std::string handoffHash = core::sha256Hex(handoffSecret);
  const std::string browser = core::newSecret("cgb");
  const std::string browserHash = core::sha256Hex(browser);
  std::string stateHash, userId, url;
  long long expiresAt = 0;
  auto taken = db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    store::WriteTransaction tx(sql, db_.dialect());
    sql << "SELECT state_hash, user_id, authorization_url, expires_at FROM oauth_states WHERE handoff_hash = :h",
        soci::use(handoffHash), soci::into(stateHash), soci::into(userId), soci::into(url), soci::into(expiresAt);
    if (!sql.got_data()) return false;
    soci::statement bind = (sql.prepare << "UPDATE oauth_states SET handoff_hash = NULL, browser_hash = :b "
                                           "WHERE state_hash = :s AND handoff_hash = :h",
                            soci::use(browserHash), soci::use(stateHash), soci::use(handoffHash));
    bind.execute(true);
    const bool mine = bind.get_affected_rows() == 1;  // once only, also against a concurrent opening
    tx.commit();
    return mine;
  });
  if (!taken) return std::unexpected(taken.error());
  if (!*taken) return fail(ErrorCode::Invalid, "this start link is unknown or was already used; start again");
  if (expiresAt <= clock_.nowUnixSeconds()) return fail(ErrorCode::Invalid, "this start link expired; start again");
  auto opened = vault_.open(url, stateBinding(userId, stateHash));
  if (!opened) return std::unexpected(opened.error());
  return OAuthHandoff{std::string(opened->begin(), opened->end()), browser};
}

core::Result<OAuthConnections::Pending> OAuthConnections::consume(const std::string& state,
                                                                  const std::string& browserSecret) {
  if (state.empty() || state.size() > 256) return fail(ErrorCode::Invalid, "the callback carries no valid state; start again");
  const std::string stateHash = core::sha256Hex(state);
  struct Row {
    std::string browserHash, userId, provider, verifier, nonce;
    long long expiresAt = 0;
    soci::indicator browserInd = soci::i_null;
  } row;
  auto taken = db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    store::WriteTransaction tx(sql, db_.dialect());
    sql << "SELECT browser_hash, user_id, provider, verifier, nonce, expires_at FROM oauth_states WHERE state_hash = :s",
        soci::use(stateHash), soci::into(row.browserHash, row.browserInd), soci::into(row.userId), soci::into(row.provider),
        soci::into(row.verifier), soci::into(row.nonce), soci::into(row.expiresAt);
    if (!sql.got_data()) return false;
    soci::statement del = (sql.prepare << "DELETE FROM oauth_states WHERE state_hash = :s", soci::use(stateHash));
    del.execute(true);
    const bool mine = del.get_affected_rows() == 1;  // single use, also against a concurrent callback
    tx.commit();
    return mine;
  });
  if (!taken) return std::unexpected(taken.error());
  if (!*taken) return fail(ErrorCode::Invalid, "this sign-in is unknown or was already used; start again");
  if (row.expiresAt <= clock_.nowUnixSeconds()) return fail(ErrorCode::Invalid, "this sign-in took too long (it expired); start again");
  if (row.browserInd != soci::i_ok || browserSecret.empty() || core::sha256Hex(browserSecret) != row.browserHash) {
    return fail(ErrorCode::Unauthorized, "this sign-in was started in another browser or by another user; start again here");
  }
  auto kind = model::parseProviderKind(row.provider);
  if (!kind) return std::unexpected(kind.error());
  auto verifier = vault_.open(row.verifier, stateBinding(row.userId, stateHash));
  if (!verifier) return std::unexpected(verifier.error());
  return Pending{row.userId, *kind, oauth::Secret(verifier->begin(), verifier->end()), row.nonce};
}

core::Result<OAuthConnected> OAuthConnections::complete(const std::map<std::string, std::string>& query,
                                                        const std::string& browserSecret) {
  auto pending = consume(param(query, "state"), browserSecret);  // first: an error answer uses it up too
  if (!pending) return std::unexpected(pending.error());
  if (const auto error = param(query, "error"); !error.empty()) return std::unexpected(providerRefusal(error));
  const OAuthProvider* p = provider(pending->provider);
  if (!p) return fail(ErrorCode::Invalid, std::string(model::toString(pending->provider)) + " is no longer configured");
  auto who = proveSignIn(http_, p->client, pending->provider, param(query, "code"), pending->verifier, pending->nonce,
                         clock_);
  if (!who) return std::unexpected(who.error());
  if (who->tokens.refreshToken.empty()) {
    return fail(ErrorCode::Invalid, "the provider granted no refresh token (offline access); connect again and allow it");
  }
  return store(*pending, *p, *who);
}

core::Result<ProvenSignIn> proveSignIn(providers::HttpClient& http, const oauth::ClientConfig& client,
                                       model::ProviderKind kind, const std::string& code, const oauth::Secret& verifier,
                                       const std::string& nonce, const core::Clock& clock) {
  if (code.empty() || code.size() > 4096) return fail(ErrorCode::Invalid, "the callback carries no authorization code");
  auto tokens = oauth::exchangeCode(http, client, code, verifier, clock);
  if (!tokens) return std::unexpected(tokens.error());
  if (tokens->idToken.empty()) return fail(ErrorCode::Invalid, "the provider sent no ID token (is the openid scope granted?)");
  auto jwks = oauth::fetchJwks(http, client.endpoints.jwks);
  if (!jwks) return std::unexpected(jwks.error());
  auto id = oauth::verifyIdToken(tokens->idToken, *jwks, client.endpoints.issuer, client.clientId, nonce, clock);
  if (!id) return std::unexpected(id.error());
  ProvenSignIn who{std::move(*tokens), id->issuer + "|" + id->subject, {}, {}};
  if (kind == model::ProviderKind::Microsoft) {
    who.label = id->preferredUsername;
    // A work account only as a member of its own tenant: a token issued by another tenant (a B2B
    // guest's) names the guest's home address, which that tenant does not control. Entra says so
    // with `idp` (the guest's own identity provider, unlike the issuer).
    const bool guest = !id->identityProvider.empty() && id->identityProvider != id->issuer;
    const bool ownTenant = !guest && !id->tenantId.empty() && id->issuer.find("/" + id->tenantId + "/") != std::string::npos;
    who.identities = model::microsoftIdentities(id->preferredUsername, ownTenant ? id->tenantId : "");
  } else {
    if (!id->emailVerified) {
      return fail(ErrorCode::Invalid, "the provider has not verified this account's email address; verify it there and "
                                      "try again");
    }
    who.label = id->email;
    who.identities = model::googleIdentities(id->email, id->emailVerified, id->hostedDomain);
  }
  if (who.identities.empty()) return fail(ErrorCode::Invalid, "the provider proved no address for this account");
  return who;
}

core::Result<OAuthConnected> OAuthConnections::store(const Pending& pending, const OAuthProvider& p,
                                                     const ProvenSignIn& who) {
  OAuthConnected out;
  auto calendars = p.calendars(who.tokens.accessToken);  // before anything is stored
  if (!calendars) return std::unexpected(calendars.error());
  out.calendars = std::move(*calendars);
  const auto credential = oauthCredential(who.tokens.refreshToken);
  auto existing = accounts_.findBySubject(pending.userId, pending.provider, who.subject);
  if (existing) {
    if (auto ok = accounts_.replaceCredential(existing->id, credential); !ok) return std::unexpected(ok.error());
    if (auto ok = accounts_.setIdentities(existing->id, who.identities); !ok) return std::unexpected(ok.error());
    if (auto ok = accounts_.setStatus(existing->id, "active", ""); !ok) return std::unexpected(ok.error());
    auto again = accounts_.get(existing->id);
    if (!again) return std::unexpected(again.error());
    out.account = std::move(*again);
    out.reauthorised = true;
  } else if (existing.error().code != ErrorCode::NotFound) {
    return std::unexpected(existing.error());
  } else {
    auto created = accounts_.create({pending.userId, pending.provider, who.label, p.client.endpoints.token,
                                     who.identities, who.subject},
                                    credential);
    if (!created) return std::unexpected(created.error());
    out.account = std::move(*created);
  }
  audit::AuditEntry e;
  e.userId = pending.userId;
  e.action = out.reauthorised ? "account.reauthorise" : "account.connect";
  e.objectRef = "account/" + out.account.id;
  e.decision = out.reauthorised ? "reauthorised" : "connected";
  e.facts["provider"] = std::string(model::toString(pending.provider));
  (void)audit::AuditLog(db_, clock_).append(e);
  return out;
}

}  // namespace calgate::accounts
