// Connected accounts over a real store (SQLite, or PostgreSQL when CG_TEST_POSTGRES_URL_FILE is set):
// the provider is a ProviderKind from the one parse function, in the database as on the way in.
#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/vault/vault.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

using namespace calgate;
using namespace calgate::accounts;
using namespace calgate::store;
using calgate::test::TestDatabase;

namespace {

vault::SecretBytes bytes(std::string_view s) { return vault::SecretBytes(s.begin(), s.end()); }

struct Fixture {
  TestDatabase t;
  std::unique_ptr<vault::Vault> v;
  std::unique_ptr<AccountStore> accounts;
  std::string userId;
  Fixture() {
    REQUIRE(Migrator(t.db(), builtinMigrations(t.dialect()), core::systemClock()).migrate());
    userId = UserStore(t.db(), core::systemClock()).addUser("owner@example.com", "default")->first.id;
    auto opened = vault::Vault::open(
        t.db(), vault::MasterKeyMaterial{vault::MasterKeyMaterial::Kind::Raw, vault::SecretBytes(vault::kKeyBytes, 3), "test"},
        core::systemClock());
    REQUIRE(opened);
    v = std::move(*opened);
    accounts = std::make_unique<AccountStore>(t.db(), *v, core::systemClock());
  }
  // What a newer calgate with another provider would leave in the table (the schema's CHECK is
  // lifted the way such a migration would lift it).
  void storeProvider(const std::string& accountId, const std::string& provider) {
    REQUIRE(t.db().withSession([&](soci::session& s) -> core::Result<void> {
      if (t.dialect() == Dialect::Sqlite) {
        s << "PRAGMA ignore_check_constraints = ON";
      } else {
        s << "ALTER TABLE accounts DROP CONSTRAINT IF EXISTS accounts_provider_check";
      }
      s << "UPDATE accounts SET provider = :p WHERE id = :i", soci::use(provider), soci::use(accountId);
      if (t.dialect() == Dialect::Sqlite) s << "PRAGMA ignore_check_constraints = OFF";
      return {};
    }));
  }
};

}  // namespace

TEST_CASE("an account's provider is stored and read back as its kind", "[store][accounts][provider]") {
  Fixture f;
  for (const auto kind : model::kProviderKinds) {
    INFO(model::toString(kind));
    auto created = f.accounts->create({f.userId, kind, "me@" + std::string(model::toString(kind)) + ".example", {}},
                                      bytes("secret"));
    REQUIRE(created);
    CHECK(created->provider == kind);
    CHECK(f.accounts->get(created->id)->provider == kind);
    CHECK(f.accounts->credential(created->id));  // the vault binding names the same provider
  }
  auto stored = f.t.db().withSession([&](soci::session& s) -> core::Result<std::vector<std::string>> {
    std::vector<std::string> names(3);
    s << "SELECT provider FROM accounts ORDER BY provider", soci::into(names);
    return names;
  });
  REQUIRE(stored);
  CHECK(*stored == std::vector<std::string>{"caldav", "google", "microsoft"});
}

TEST_CASE("a provider this version does not know is an error when read, never taken for another",
          "[store][accounts][provider]") {
  Fixture f;
  auto account = f.accounts->create({f.userId, model::ProviderKind::CalDav, "me@example.com", "https://dav.example/"},
                                    bytes("secret"));
  REQUIRE(account);
  auto calendar = sync::CalendarStore(f.t.db(), core::systemClock()).upsert(account->id, "https://dav.example/c/",
                                                                            "Work", "UTC", true);
  REQUIRE(calendar);
  REQUIRE(calendar->provider == model::ProviderKind::CalDav);

  f.storeProvider(account->id, "exchange");
  auto read = f.accounts->get(account->id);
  REQUIRE_FALSE(read);
  CHECK(read.error().code == core::ErrorCode::Internal);
  CHECK_THAT(read.error().message, Catch::Contains("unknown provider \"exchange\""));
  CHECK_FALSE(f.accounts->listForUser(f.userId));
  CHECK_FALSE(f.accounts->credential(account->id));
  auto cal = sync::CalendarStore(f.t.db(), core::systemClock()).get(calendar->id);
  REQUIRE_FALSE(cal);
  CHECK_THAT(cal.error().message, Catch::Contains("unknown provider"));
  CHECK_FALSE(sync::CalendarStore(f.t.db(), core::systemClock()).listForAccount(account->id));
}

TEST_CASE("a refused write names its cause: a duplicate, or a key retired meanwhile", "[store][accounts][vault]") {
  Fixture f;
  const NewAccount in{f.userId, model::ProviderKind::CalDav, "dup@example.com", std::nullopt};
  REQUIRE(f.accounts->create(in, bytes("one")));
  auto duplicate = f.accounts->create(in, bytes("two"));
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().code == core::ErrorCode::Conflict);
  CHECK(duplicate.error().message == "this caldav account (dup@example.com) is already connected");

  // Another process rotates and retires the key this store's vault still seals with: the store
  // learns it from the database (RetiredVaultKey), reloads the ring and seals again.
  const std::string oldKey = f.v->currentKeyId();
  {
    auto admin = vault::Vault::open(
        f.t.db(), vault::MasterKeyMaterial{vault::MasterKeyMaterial::Kind::Raw, vault::SecretBytes(vault::kKeyBytes, 3), "test"},
        core::systemClock());
    REQUIRE(admin);
    REQUIRE((*admin)->rotate(10)->remaining == 0);
    REQUIRE((*admin)->retire(oldKey));
  }
  auto created = f.accounts->create({f.userId, model::ProviderKind::CalDav, "late@example.com", std::nullopt},
                                    bytes("three"));
  INFO((created ? std::string() : created.error().describe()));
  REQUIRE(created);
  CHECK(created->credentialKeyId != oldKey);
}

TEST_CASE("a credential is bound to its server: a server_url changed in the database does not open it",
          "[store][accounts][vault]") {
  Fixture f;
  auto account = f.accounts->create({f.userId, model::ProviderKind::CalDav, "me@example.com",
                                     std::string("https://caldav.example.com/dav/")},
                                    bytes(R"({"username":"me","password":"app-password"})"));
  REQUIRE(account);
  REQUIRE(f.accounts->credential(account->id));
  auto setServer = [&](const std::string& url) {
    REQUIRE(f.t.db().withSession([&](soci::session& s) -> core::Result<void> {
      s << "UPDATE accounts SET server_url = :u WHERE id = :i", soci::use(url), soci::use(account->id);
      return {};
    }));
  };
  // the same server written differently (case, default port, another path) is the same server
  setServer("HTTPS://CalDAV.example.com:443/other/path/");
  CHECK(f.accounts->credential(account->id));
  // someone with write access to the database points the account at their own host
  setServer("https://attacker.example.net/dav/");
  auto refused = f.accounts->credential(account->id);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == core::ErrorCode::Invalid);
  CHECK_THAT(refused.error().message, Catch::Contains("another server"));
  CHECK(refused.error().message.find("app-password") == std::string::npos);
  long long audited = 0;
  REQUIRE(f.t.db().withSession([&](soci::session& s) -> core::Result<void> {
    s << "SELECT COUNT(*) FROM audit_log WHERE action = 'account.credential_refused'", soci::into(audited);
    return {};
  }));
  CHECK(audited == 1);
  setServer("https://caldav.example.com/dav/");
  CHECK(f.accounts->credential(account->id));
}

TEST_CASE("credentials sealed before the binding are bound to their server once", "[store][accounts][vault]") {
  Fixture f;
  auto account = f.accounts->create({f.userId, model::ProviderKind::CalDav, "old@example.com",
                                     std::string("https://caldav.example.com/")},
                                    bytes(R"({"username":"old","password":"pw"})"));
  REQUIRE(account);
  // what an older calgate left: sealed without the endpoint, binding version 1
  auto legacy = f.v->seal(bytes(R"({"username":"old","password":"pw"})"), vault::Binding{f.userId, "caldav", account->id});
  REQUIRE(legacy);
  REQUIRE(f.t.db().withSession([&](soci::session& s) -> core::Result<void> {
    s << "UPDATE accounts SET credential_ciphertext = :c, credential_binding = 1 WHERE id = :i", soci::use(legacy->blob),
        soci::use(account->id);
    return {};
  }));
  CHECK(f.accounts->credential(account->id));  // still readable as it was sealed
  auto bound = f.accounts->bindCredentialsToServers();
  REQUIRE(bound);
  CHECK(*bound == 1);
  CHECK(*f.accounts->bindCredentialsToServers() == 0);  // once
  CHECK(f.accounts->credential(account->id));
  REQUIRE(f.t.db().withSession([&](soci::session& s) -> core::Result<void> {
    s << "UPDATE accounts SET server_url = 'https://elsewhere.example/' WHERE id = :i", soci::use(account->id);
    return {};
  }));
  CHECK_FALSE(f.accounts->credential(account->id));  // now bound
  CHECK(vault::canonicalOrigin("https://Cal.Example.com:443/x") == "https://cal.example.com");
  CHECK(vault::canonicalOrigin("http://10.0.0.5:5232/dav") == "http://10.0.0.5:5232");
  CHECK(vault::canonicalOrigin("https://user@[::1]:8443/") == "https://[::1]:8443");
  CHECK(vault::canonicalOrigin("ftp://x/").empty());
}

TEST_CASE("credential and status changes can be conditional on the credential they started from", "[store][vault]") {
  Fixture f;
  auto account = f.accounts->create({f.userId, model::ProviderKind::Google, "me@gmail.example", std::nullopt}, bytes("one"));
  REQUIRE(account);
  auto before = f.accounts->versionedCredential(account->id);
  REQUIRE(before);
  CHECK(std::string(before->secret.begin(), before->secret.end()) == "one");
  // re-authorised meanwhile (a new grant): what a refresh of the old grant wanted no longer applies
  REQUIRE(f.accounts->replaceCredential(account->id, bytes("two")));
  auto stale = f.accounts->replaceCredentialIf(account->id, bytes("rotated-old-grant"), before->version);
  REQUIRE(stale);
  CHECK_FALSE(*stale);
  auto marked = f.accounts->setStatusIf(account->id, "needs_reauth", "refused", before->version);
  REQUIRE(marked);
  CHECK_FALSE(*marked);
  auto now = f.accounts->versionedCredential(account->id);
  REQUIRE(now);
  CHECK(std::string(now->secret.begin(), now->secret.end()) == "two");
  CHECK(f.accounts->get(account->id)->status == "active");
  // from the current version both apply
  CHECK(*f.accounts->replaceCredentialIf(account->id, bytes("three"), now->version));
  auto latest = f.accounts->versionedCredential(account->id);
  CHECK(*f.accounts->setStatusIf(account->id, "needs_reauth", "refused", latest->version));
  CHECK(f.accounts->get(account->id)->statusReason == "refused");
}
