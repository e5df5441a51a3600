#include "calgate/portal/oidc_signin.hpp"

#include "calgate/accounts/user_store.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

#include <algorithm>

namespace calgate::portal {
namespace {

using core::ErrorCode;
using core::fail;

vault::Binding stateBinding(const std::string& stateHash) { return vault::Binding{"", "portal-signin", stateHash, ""}; }

std::string param(const std::map<std::string, std::string>& query, const std::string& name) {
  const auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

struct PendingSignIn {
  model::ProviderKind provider = model::ProviderKind::Google;
  oauth::Secret verifier;
  std::string nonce;
};

// Whether the provider manages the mailbox of the address it proved, today: a Google Workspace
// account (`hd`: its domains are verified by the organisation, which can take the account away)
// or a Gmail address; a Microsoft work account in its own tenant. A consumer Google account made
// years ago with a work address stays "verified" after the mailbox left its owner: it signs in
// nowhere.
core::Result<void> managedAddress(model::ProviderKind kind, const std::string& email,
                                  const std::vector<model::Identity>& identities) {
  const auto has = [&](model::IdentityKind k) {
    return std::any_of(identities.begin(), identities.end(), [k](const model::Identity& i) { return i.kind == k && i.member; });
  };
  if (kind == model::ProviderKind::Microsoft) {
    if (has(model::IdentityKind::WorkAccount)) return {};
    return fail(ErrorCode::Invalid, "this Microsoft account is not a work or school account of its own organisation; "
                                    "sign in with another account or ask your operator for a sign-in link");
  }
  const std::string domain = email.substr(email.find('@') + 1);
  if (has(model::IdentityKind::HostedDomain) || domain == "gmail.com" || domain == "googlemail.com") return {};
  return fail(ErrorCode::Invalid, "this Google account's address (" + email + ") is not one Google manages (a Google "
                                  "Workspace or Gmail address); ask your operator for a sign-in link");
}

}  // namespace

oauth::ClientConfig signInClient(const oauth::ClientConfig& client) {
  oauth::ClientConfig out = client;
  out.scopes = {"openid", "email", "profile"};
  // no prompt: the provider decides (its account chooser when several are signed in); a standard
  // provider may refuse values beyond login, consent and none
  out.extraAuthorizationParams.clear();
  return out;
}

OidcSignIn::OidcSignIn(store::Database& db, vault::Vault& vault, const accounts::OAuthConnections& connections,
                       providers::HttpClient& http, const core::Clock& clock, std::chrono::seconds ttl)
    : db_(db), vault_(vault), connections_(connections), http_(http), clock_(clock), ttl_(ttl) {}

bool OidcSignIn::offers(model::ProviderKind kind) const { return connections_.offers(kind); }

core::Result<SignInStart> OidcSignIn::begin(model::ProviderKind kind) {
  const accounts::OAuthProvider* p = connections_.provider(kind);
  if (!p) return fail(ErrorCode::NotFound, "signing in with " + std::string(model::toString(kind)) + " is not offered here");
  auto start = oauth::startAuthorization(signInClient(p->client));
  if (!start) return std::unexpected(start.error());
  const std::string stateHash = core::sha256Hex(start->state);
  auto sealed = vault_.seal(vault::SecretBytes(start->codeVerifier.begin(), start->codeVerifier.end()), stateBinding(stateHash));
  if (!sealed) return std::unexpected(sealed.error());
  SignInStart out{start->url, core::newSecret("cgb")};
  const std::string browserHash = core::sha256Hex(out.browserSecret), provider(model::toString(kind));
  const long long now = clock_.nowUnixSeconds(), expires = now + ttl_.count();
  auto stored = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    sql << "DELETE FROM signin_states WHERE expires_at < :n", soci::use(now);
    sql << "INSERT INTO signin_states (state_hash, browser_hash, provider, verifier, nonce, created_at, expires_at) "
           "VALUES (:s, :b, :p, :v, :n, :c, :e)",
        soci::use(stateHash), soci::use(browserHash), soci::use(provider), soci::use(sealed->blob),
        soci::use(start->nonce), soci::use(now), soci::use(expires);
    tx.commit();
    return {};
  });
  if (!stored) return std::unexpected(stored.error());
  return out;
}

core::Result<bool> OidcSignIn::owns(const std::string& state) {
  if (state.empty() || state.size() > 256) return false;
  const std::string stateHash = core::sha256Hex(state);
  return db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    int n = 0;
    sql << "SELECT COUNT(*) FROM signin_states WHERE state_hash = :s", soci::use(stateHash), soci::into(n);
    return n > 0;
  });
}

core::Result<SignedIn> OidcSignIn::complete(const std::map<std::string, std::string>& query,
                                            const std::string& browserSecret) {
  const std::string state = param(query, "state");
  if (state.empty() || state.size() > 256) return fail(ErrorCode::Invalid, "the callback carries no valid state; sign in again");
  const std::string stateHash = core::sha256Hex(state);
  struct Row {
    std::string browserHash, provider, verifier, nonce;
    long long expiresAt = 0;
  } row;
  auto taken = db_.withSession([&](soci::session& sql) -> core::Result<bool> {  // single use: consumed first
    store::WriteTransaction tx(sql, db_.dialect());
    sql << "SELECT browser_hash, provider, verifier, nonce, expires_at FROM signin_states WHERE state_hash = :s",
        soci::use(stateHash), soci::into(row.browserHash), soci::into(row.provider), soci::into(row.verifier),
        soci::into(row.nonce), soci::into(row.expiresAt);
    if (!sql.got_data()) return false;
    soci::statement del = (sql.prepare << "DELETE FROM signin_states WHERE state_hash = :s", soci::use(stateHash));
    del.execute(true);
    const bool mine = del.get_affected_rows() == 1;
    tx.commit();
    return mine;
  });
  if (!taken) return std::unexpected(taken.error());
  if (!*taken) return fail(ErrorCode::Invalid, "this sign-in is unknown or was already used; sign in again");
  if (row.expiresAt <= clock_.nowUnixSeconds()) return fail(ErrorCode::Invalid, "this sign-in took too long (it expired); sign in again");
  if (browserSecret.empty() || !core::constantTimeEquals(core::sha256Hex(browserSecret), row.browserHash)) {
    return fail(ErrorCode::Unauthorized, "this sign-in was started in another browser; sign in again here");
  }
  if (const auto error = param(query, "error"); !error.empty()) {
    if (error == "access_denied") return fail(ErrorCode::Invalid, "the sign-in was cancelled at the provider");
    return fail(ErrorCode::Invalid, "the provider refused the sign-in (" + accounts::shownProviderError(error) + "); try again");
  }
  auto kind = model::parseProviderKind(row.provider);
  if (!kind) return std::unexpected(kind.error());
  const accounts::OAuthProvider* p = connections_.provider(*kind);
  if (!p) return fail(ErrorCode::Invalid, "signing in with " + row.provider + " is no longer offered");
  auto verifier = vault_.open(row.verifier, stateBinding(stateHash));
  if (!verifier) return std::unexpected(verifier.error());
  auto who = accounts::proveSignIn(http_, signInClient(p->client), *kind, param(query, "code"),
                                   oauth::Secret(verifier->begin(), verifier->end()), row.nonce, clock_);
  if (!who) return std::unexpected(who.error());
  auto email = accounts::normaliseEmail(who->label);
  if (!email) return fail(ErrorCode::Invalid, "the provider proved no usable address for this account");
  SignedIn out{*kind, *email, ""};
  for (const auto& identity : who->identities) {
    // the address signs in only when the provider proved it: Google's verified email, or the UPN
    // of a work account in its own tenant
    if (identity.member && !identity.domain.empty() && out.memberDomain.empty()) out.memberDomain = identity.domain;
  }
  if (auto ok = managedAddress(*kind, out.email, who->identities); !ok) return std::unexpected(ok.error());
  return out;
}

}  // namespace calgate::portal
