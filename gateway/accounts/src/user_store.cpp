#include "calgate/accounts/user_store.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <cctype>

namespace calgate::accounts {
using core::ErrorCode;
using core::fail;

namespace {

constexpr std::string_view kTokenPrefix = "cgt";
constexpr long long kLastUsedResolutionSeconds = 60;

std::optional<long long> fromIndicator(long long value, soci::indicator ind) {
  if (ind == soci::i_null) return std::nullopt;
  return value;
}

struct TokenRow {
  std::string id, userId, label;
  long long createdAt = 0, lastUsedAt = 0, revokedAt = 0;
  soci::indicator lastUsedInd = soci::i_null, revokedInd = soci::i_null;
  ApiToken toToken() const {
    return ApiToken{id, userId, label, createdAt, fromIndicator(lastUsedAt, lastUsedInd),
                    fromIndicator(revokedAt, revokedInd)};
  }
};

core::Result<IssuedToken> insertToken(soci::session& sql, const std::string& userId, std::string_view label,
                                      long long now) {
  IssuedToken issued;
  issued.secret = core::newSecret(kTokenPrefix);
  issued.token = ApiToken{core::newId("tok"), userId, std::string(label.substr(0, 200)), now, std::nullopt,
                          std::nullopt};
  const std::string hash = core::sha256Hex(issued.secret);
  sql << "INSERT INTO api_tokens (id, user_id, token_sha256, label, created_at) VALUES (:i, :u, :h, :l, :c)",
      soci::use(issued.token.id), soci::use(userId), soci::use(hash), soci::use(issued.token.label),
      soci::use(now);
  return issued;
}

}  // namespace

core::Result<std::string> normaliseEmail(std::string_view email) {
  std::size_t b = 0, e = email.size();
  while (b < e && std::isspace(static_cast<unsigned char>(email[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(email[e - 1]))) --e;
  std::string out(email.substr(b, e - b));
  if (out.empty()) return fail(ErrorCode::Invalid, "email address is empty");
  if (out.size() > 254) return fail(ErrorCode::Invalid, "email address is longer than 254 characters");
  const auto at = out.find('@');
  if (at == std::string::npos || out.find('@', at + 1) != std::string::npos) {
    return fail(ErrorCode::Invalid, "email address must contain exactly one '@'");
  }
  if (at == 0 || at > 64) return fail(ErrorCode::Invalid, "email address local part must be 1 to 64 characters");
  const std::string domain = out.substr(at + 1);
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string::npos) {
    return fail(ErrorCode::Invalid, "email address has an invalid domain");
  }
  for (unsigned char c : out) {
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == ':' || c == '\\' || c == '"' || c == '[' || c == ']') {
      return fail(ErrorCode::Invalid, "email address contains a character that is not allowed");
    }
  }
  for (char c : domain) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && static_cast<unsigned char>(c) < 0x80) {
      return fail(ErrorCode::Invalid, "email address domain may hold only letters, digits, '-' and '.'");
    }
  }
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

UserStore::UserStore(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

core::Result<std::pair<User, IssuedToken>> UserStore::addUser(std::string_view email, std::string_view tokenLabel) {
  std::optional<IssuedToken> token;
  auto user = insertUser(email, [&](soci::session& sql, const User& u) -> core::Result<void> {
    auto issued = insertToken(sql, u.id, tokenLabel, u.createdAt);
    if (!issued) return std::unexpected(issued.error());
    token = std::move(*issued);
    return {};
  });
  if (!user) return std::unexpected(user.error());
  return std::make_pair(std::move(*user), std::move(*token));
}

core::Result<User> UserStore::createUser(std::string_view email) {
  return insertUser(email, [](soci::session&, const User&) -> core::Result<void> { return {}; });
}

core::Result<User> UserStore::insertUser(std::string_view email,
                                         const std::function<core::Result<void>(soci::session&, const User&)>& also) {
  auto normalised = normaliseEmail(email);
  if (!normalised) return std::unexpected(normalised.error());
  const long long now = clock_.nowUnixSeconds();
  const User user{core::newId("usr"), *normalised, now, std::nullopt};
  const auto exists = [&] { return fail(ErrorCode::Conflict, "a user with email " + user.email + " already exists"); };
  auto created = db_.withSession([&](soci::session& sql) -> core::Result<User> {
    store::WriteTransaction tx(sql, db_.dialect());
    int existing = 0;
    sql << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(user.email), soci::into(existing);
    if (existing > 0) return exists();
    sql << "INSERT INTO users (id, email, created_at) VALUES (:i, :e, :c)", soci::use(user.id),
        soci::use(user.email), soci::use(now);
    if (auto ok = also(sql, user); !ok) return std::unexpected(ok.error());
    tx.commit();
    return user;
  });
  // A concurrent insert of the same email (PostgreSQL) surfaces as a constraint violation.
  if (!created && created.error().code == ErrorCode::Conflict) return exists();
  return created;
}

core::Result<std::vector<User>> UserStore::listUsers() {
  return db_.withSession([](soci::session& sql) -> core::Result<std::vector<User>> {
    std::vector<User> users;
    User u;
    long long disabled = 0;
    soci::indicator disabledInd = soci::i_null;
    soci::statement st = (sql.prepare << "SELECT id, email, created_at, disabled_at FROM users ORDER BY email",
                          soci::into(u.id), soci::into(u.email), soci::into(u.createdAt),
                          soci::into(disabled, disabledInd));
    st.execute();
    while (st.fetch()) {
      u.disabledAt = fromIndicator(disabled, disabledInd);
      users.push_back(u);
    }
    return users;
  });
}

core::Result<User> UserStore::findUserByEmail(std::string_view email) {
  auto normalised = normaliseEmail(email);
  if (!normalised) return std::unexpected(normalised.error());
  return db_.withSession([&](soci::session& sql) -> core::Result<User> {
    User u;
    long long disabled = 0;
    soci::indicator disabledInd = soci::i_null;
    sql << "SELECT id, email, created_at, disabled_at FROM users WHERE email = :e", soci::use(*normalised),
        soci::into(u.id), soci::into(u.email), soci::into(u.createdAt), soci::into(disabled, disabledInd);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no user with email " + *normalised);
    u.disabledAt = fromIndicator(disabled, disabledInd);
    return u;
  });
}

core::Result<User> UserStore::getUser(std::string_view id) {
  const std::string key(id);
  return db_.withSession([&](soci::session& sql) -> core::Result<User> {
    User u;
    long long disabled = 0;
    soci::indicator disabledInd = soci::i_null;
    sql << "SELECT id, email, created_at, disabled_at FROM users WHERE id = :i", soci::use(key), soci::into(u.id),
        soci::into(u.email), soci::into(u.createdAt), soci::into(disabled, disabledInd);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no user with id " + key);
    u.disabledAt = fromIndicator(disabled, disabledInd);
    return u;
  });
}

core::Result<IssuedToken> UserStore::issueToken(std::string_view email, std::string_view label) {
  auto user = findUserByEmail(email);
  if (!user) return std::unexpected(user.error());
  return db_.withSession([&](soci::session& sql) -> core::Result<IssuedToken> {
    return insertToken(sql, user->id, label, clock_.nowUnixSeconds());
  });
}

core::Result<std::vector<ApiToken>> UserStore::listTokens(std::string_view email) {
  auto user = findUserByEmail(email);
  if (!user) return std::unexpected(user.error());
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<ApiToken>> {
    std::vector<ApiToken> tokens;
    TokenRow r;
    soci::statement st =
        (sql.prepare << "SELECT id, user_id, label, created_at, last_used_at, revoked_at FROM api_tokens "
                        "WHERE user_id = :u ORDER BY created_at, id",
         soci::use(user->id), soci::into(r.id), soci::into(r.userId), soci::into(r.label), soci::into(r.createdAt),
         soci::into(r.lastUsedAt, r.lastUsedInd), soci::into(r.revokedAt, r.revokedInd));
    st.execute();
    while (st.fetch()) tokens.push_back(r.toToken());
    return tokens;
  });
}

core::Result<std::size_t> UserStore::purgeRevokedTokens(long long before) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    soci::statement st = (sql.prepare << "DELETE FROM api_tokens WHERE revoked_at IS NOT NULL AND revoked_at < :b",
                          soci::use(before));
    st.execute(true);
    return static_cast<std::size_t>(st.get_affected_rows());
  });
}

core::Result<ApiToken> UserStore::revokeToken(std::string_view tokenId) {
  const std::string id(tokenId);
  return db_.withSession([&](soci::session& sql) -> core::Result<ApiToken> {
    const long long now = clock_.nowUnixSeconds();
    sql << "UPDATE api_tokens SET revoked_at = :t WHERE id = :i AND revoked_at IS NULL", soci::use(now),
        soci::use(id);
    TokenRow r;
    sql << "SELECT id, user_id, label, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = :i",
        soci::use(id), soci::into(r.id), soci::into(r.userId), soci::into(r.label), soci::into(r.createdAt),
        soci::into(r.lastUsedAt, r.lastUsedInd), soci::into(r.revokedAt, r.revokedInd);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no token with id " + id);
    return r.toToken();
  });
}

namespace {

// The token whose `column` (token_sha256 or id) is `value`, with its user; nullopt when none.
// Revoked tokens and disabled users are returned as they are: callers decide.
struct PrincipalRow {
  Principal p;
  bool revoked = false;
  bool disabled = false;
};

std::optional<PrincipalRow> selectPrincipal(soci::session& sql, const char* column, const std::string& value) {
  PrincipalRow out;
  TokenRow r;
  long long disabled = 0;
  soci::indicator disabledInd = soci::i_null;
  sql << std::string("SELECT t.id, t.user_id, t.label, t.created_at, t.last_used_at, t.revoked_at, "
                     "u.email, u.created_at, u.disabled_at "
                     "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.") +
             column + " = :v",
      soci::use(value), soci::into(r.id), soci::into(r.userId), soci::into(r.label), soci::into(r.createdAt),
      soci::into(r.lastUsedAt, r.lastUsedInd), soci::into(r.revokedAt, r.revokedInd), soci::into(out.p.user.email),
      soci::into(out.p.user.createdAt), soci::into(disabled, disabledInd);
  if (!sql.got_data()) return std::nullopt;
  out.revoked = r.revokedInd != soci::i_null;
  out.disabled = disabledInd != soci::i_null;
  out.p.token = r.toToken();
  out.p.user.id = r.userId;
  out.p.user.disabledAt = fromIndicator(disabled, disabledInd);
  return out;
}

}  // namespace

core::Result<User> UserStore::setDisabled(std::string_view email, bool disabled) {
  auto normalised = normaliseEmail(email);
  if (!normalised) return std::unexpected(normalised.error());
  auto updated = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    store::WriteTransaction tx(sql, db_.dialect());
    soci::statement st =
        disabled ? (sql.prepare << "UPDATE users SET disabled_at = COALESCE(disabled_at, :t) WHERE email = :e",
                    soci::use(now), soci::use(*normalised))
                 : (sql.prepare << "UPDATE users SET disabled_at = NULL WHERE email = :e", soci::use(*normalised));
    st.execute(true);
    if (st.get_affected_rows() == 0) return fail(ErrorCode::NotFound, "no such user");
    if (disabled) {
      // signed out for good: reinstating the user must not bring back a stolen browser's session
      sql << "UPDATE portal_sessions SET revoked_at = :t WHERE revoked_at IS NULL AND user_id = "
             "(SELECT id FROM users WHERE email = :e)",
          soci::use(now), soci::use(*normalised);
      sql << "DELETE FROM login_links WHERE user_id = (SELECT id FROM users WHERE email = :e)", soci::use(*normalised);
    }
    tx.commit();
    return {};
  });
  if (!updated) return std::unexpected(updated.error());
  return findUserByEmail(*normalised);
}

core::Result<Principal> UserStore::authenticate(std::string_view secret) {
  const auto unauthorized = [] { return fail(ErrorCode::Unauthorized, "missing or invalid bearer token"); };
  if (secret.size() < 10 || secret.size() > 200) return unauthorized();
  const std::string hash = core::sha256Hex(secret);
  return db_.withSession([&](soci::session& sql) -> core::Result<Principal> {
    auto row = selectPrincipal(sql, "token_sha256", hash);
    if (!row || row->revoked || row->disabled) return unauthorized();
    Principal& p = row->p;
    const long long now = clock_.nowUnixSeconds();
    if (!p.token.lastUsedAt || now - *p.token.lastUsedAt >= kLastUsedResolutionSeconds) {
      sql << "UPDATE api_tokens SET last_used_at = :t WHERE id = :i", soci::use(now), soci::use(p.token.id);
      p.token.lastUsedAt = now;
    }
    return p;
  });
}

core::Result<Principal> UserStore::principalOfToken(std::string_view tokenId) {
  const std::string id(tokenId);
  return db_.withSession([&](soci::session& sql) -> core::Result<Principal> {
    auto row = selectPrincipal(sql, "id", id);
    if (!row) return fail(ErrorCode::NotFound, "no token with id " + id);
    return row->p;
  });
}

}  // namespace calgate::accounts
