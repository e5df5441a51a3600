// The vault over a real store (SQLite, or PostgreSQL when CG_TEST_POSTGRES_URL_FILE is set).
#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/vault/vault.hpp"
#include "support/test_database.hpp"

#include <botan/base64.h>
#include <botan/hex.h>
#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>

using namespace calgate;
using namespace calgate::accounts;
using namespace calgate::store;
using namespace calgate::vault;
using calgate::test::TestDatabase;

namespace {

MasterKeyMaterial rawKey(std::uint8_t fill) {
  return MasterKeyMaterial{MasterKeyMaterial::Kind::Raw, SecretBytes(kKeyBytes, fill), "test key"};
}
SecretBytes bytes(std::string_view s) { return SecretBytes(s.begin(), s.end()); }
std::string text(const SecretBytes& b) { return std::string(b.begin(), b.end()); }

struct Fixture {
  TestDatabase t;
  std::string userId;
  Fixture() {
    Migrator m(t.db(), builtinMigrations(t.dialect()), core::systemClock());
    REQUIRE(m.migrate());
    UserStore users(t.db(), core::systemClock());
    userId = users.addUser("owner@example.com", "default")->first.id;
  }
  std::unique_ptr<Vault> vault(std::uint8_t fill = 9) {
    auto v = Vault::open(t.db(), rawKey(fill), core::systemClock());
    INFO((v ? std::string() : v.error().message));
    REQUIRE(v);
    return std::move(*v);
  }
};

std::string secretFor(int i) { return "app-specific-password-" + std::to_string(i) + "-qwxz"; }

}  // namespace

TEST_CASE("the vault initialises once and then accepts only its master key", "[store][vault]") {
  Fixture f;
  auto first = f.vault();
  const std::string key = first->currentKeyId();
  CHECK_FALSE(key.empty());
  CHECK(f.vault()->currentKeyId() == key);  // reopened, not re-initialised
  auto wrong = Vault::open(f.t.db(), rawKey(10), core::systemClock());
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == core::ErrorCode::Unauthorized);
  CHECK_THAT(wrong.error().message, Catch::Contains("does not match"));
  auto passphrase = Vault::open(f.t.db(),
                                MasterKeyMaterial{MasterKeyMaterial::Kind::Passphrase, bytes("a long passphrase!"), "env"},
                                core::systemClock());
  REQUIRE_FALSE(passphrase);
  CHECK_THAT(passphrase.error().message, Catch::Contains("initialised with a master key"));
}

TEST_CASE("a passphrase-derived vault records its scrypt salt and parameters", "[store][vault]") {
  TestDatabase t;
  REQUIRE(Migrator(t.db(), builtinMigrations(t.dialect()), core::systemClock()).migrate());
  const ScryptParams cheap{1 << 10, 8, 1};  // real parameters are 2^15; tests keep it fast
  const MasterKeyMaterial good{MasterKeyMaterial::Kind::Passphrase, bytes("correct horse battery staple"), "env"};
  REQUIRE(Vault::open(t.db(), good, core::systemClock(), cheap));
  {
    auto s = t.db().acquire();
    std::string kdf, salt;
    long long n = 0;
    **s << "SELECT kdf, kdf_salt, kdf_n FROM vault_meta", soci::into(kdf), soci::into(salt), soci::into(n);
    CHECK(kdf == "scrypt");
    CHECK(salt.size() >= 20);
    CHECK(n == 1024);
  }
  // reopening uses the recorded parameters, whatever the caller's defaults
  CHECK(Vault::open(t.db(), good, core::systemClock()));
  const MasterKeyMaterial bad{MasterKeyMaterial::Kind::Passphrase, bytes("incorrect horse battery"), "env"};
  auto wrong = Vault::open(t.db(), bad, core::systemClock(), cheap);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == core::ErrorCode::Unauthorized);
}

TEST_CASE("credentials are bound to their account", "[store][vault]") {
  Fixture f;
  auto v = f.vault();
  AccountStore accounts(f.t.db(), *v, core::systemClock());
  auto a = accounts.create({f.userId, model::ProviderKind::CalDav, "me@icloud.com", "https://caldav.icloud.com/"}, bytes(secretFor(1)));
  auto b = accounts.create({f.userId, model::ProviderKind::CalDav, "me@fastmail.com", "https://caldav.fastmail.com/"}, bytes(secretFor(2)));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->domain == "icloud.com");
  CHECK(text(*accounts.credential(a->id)) == secretFor(1));
  CHECK(text(*accounts.credential(b->id)) == secretFor(2));
  CHECK(accounts.create({f.userId, model::ProviderKind::CalDav, "me@icloud.com", std::nullopt}, bytes("x")).error().code ==
        core::ErrorCode::Conflict);
  CHECK_FALSE(model::parseProviderKind("myspace"));  // an unknown provider is refused where it is parsed

  // copy b's ciphertext into a's row: it must not open as a's credential
  {
    auto s = f.t.db().acquire();
    **s << "UPDATE accounts SET credential_ciphertext = (SELECT credential_ciphertext FROM accounts WHERE id = :b) "
           "WHERE id = :a",
        soci::use(b->id), soci::use(a->id);
  }
  auto moved = accounts.credential(a->id);
  REQUIRE_FALSE(moved);
  CHECK(moved.error().code == core::ErrorCode::Invalid);
  CHECK(moved.error().message.find(secretFor(2)) == std::string::npos);

  // a blob naming a key that is not in the ring
  REQUIRE(accounts.replaceCredential(a->id, bytes(secretFor(1))));
  auto blob = v->seal(bytes(secretFor(1)), Binding{f.userId, "caldav", a->id});
  auto other = seal(SecretBytes(kKeyBytes, 5), "k-not-in-ring", bytes(secretFor(1)),
                    bindingContext(Binding{f.userId, "caldav", a->id}));
  auto unknown = v->open(*other, Binding{f.userId, "caldav", a->id});
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("k-not-in-ring") && Catch::Contains("not in the vault's key ring"));
  CHECK(accounts.remove(a->id));
  CHECK(accounts.credential(a->id).error().code == core::ErrorCode::NotFound);
}

TEST_CASE("rotation interrupted half-way leaves every credential readable and resumes", "[store][vault][rotation]") {
  Fixture f;
  auto v = f.vault();
  AccountStore accounts(f.t.db(), *v, core::systemClock());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto a = accounts.create({f.userId, model::ProviderKind::CalDav, "u" + std::to_string(i) + "@example.com", std::nullopt},
                             bytes(secretFor(i)));
    REQUIRE(a);
    ids.push_back(a->id);
  }
  const std::string oldKey = v->currentKeyId();
  auto allReadable = [&](AccountStore& store) {
    for (int i = 0; i < 5; ++i) {
      auto c = store.credential(ids[static_cast<std::size_t>(i)]);
      INFO(i << (c ? "" : ": " + c.error().message));
      REQUIRE(c);
      CHECK(text(*c) == secretFor(i));
    }
  };

  // a second process that has not seen the rotation
  auto stale = f.vault();
  AccountStore staleAccounts(f.t.db(), *stale, core::systemClock());

  std::size_t batches = 0;
  auto partial = v->rotate(2, 1, [&](const RotationReport&) { ++batches; });  // stop after one batch
  REQUIRE(partial);
  CHECK_FALSE(partial->resumed);
  CHECK(partial->toKey != oldKey);
  CHECK(partial->reencrypted == 2);
  CHECK(partial->remaining == 3);
  CHECK(batches == 1);
  allReadable(accounts);
  allReadable(staleAccounts);  // reloads the ring when it meets the new key id

  auto status = v->status();
  REQUIRE(status);
  REQUIRE(status->size() == 2);
  CHECK(status->at(0).id == oldKey);
  CHECK(status->at(0).credentials == 3);
  CHECK(status->at(1).current);
  CHECK(status->at(1).credentials == 2);

  auto refused = v->retire(oldKey);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == core::ErrorCode::Conflict);
  CHECK_THAT(refused.error().message, Catch::Contains("still seals 3 credential(s)"));

  auto resumed = v->rotate(2);
  REQUIRE(resumed);
  CHECK(resumed->resumed);
  CHECK(resumed->toKey == partial->toKey);  // no third key
  CHECK(resumed->reencrypted == 3);
  CHECK(resumed->remaining == 0);
  allReadable(accounts);

  CHECK(v->retire(resumed->toKey).error().code == core::ErrorCode::Conflict);  // current key
  CHECK(v->retire("k-nope").error().code == core::ErrorCode::NotFound);
  REQUIRE(v->retire(oldKey));
  CHECK(v->status()->size() == 1);
  allReadable(accounts);

  // a plain rotation afterwards adds a key and moves everything
  auto again = v->rotate(100);
  REQUIRE(again);
  CHECK_FALSE(again->resumed);
  CHECK(again->reencrypted == 5);
  allReadable(accounts);
}

TEST_CASE("no credential reaches the database in clear", "[store][vault][scan]") {
  Fixture f;
  std::vector<std::string> secrets;
  {
    auto v = f.vault();
    AccountStore accounts(f.t.db(), *v, core::systemClock());
    for (int i = 0; i < 3; ++i) {
      secrets.push_back("Zq8-oauth-refresh-token-" + std::to_string(i) + "-Plm4");
      REQUIRE(accounts.create({f.userId, model::ProviderKind::Google, "g" + std::to_string(i) + "@gmail.com", std::nullopt},
                              bytes(secrets.back())));
    }
    REQUIRE(v->rotate(2));  // rotation rewrites rows: still nothing in clear
  }
  std::string dump;
  if (f.t.dialect() == Dialect::Sqlite) {
    f.t.close();  // checkpoints the WAL into the file
    dump = calgate::test::readFile(f.t.sqliteFile());
    dump += calgate::test::readFile(f.t.sqliteFile().string() + "-wal");
  } else {
    std::string pgDump;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql")) {
      if (std::filesystem::exists(entry.path() / "bin/pg_dump")) pgDump = (entry.path() / "bin/pg_dump").string();
    }
    REQUIRE(!pgDump.empty());
    f.t.close();
    FILE* pipe = ::popen((pgDump + " --no-owner '" + f.t.url() + "'").c_str(), "r");
    REQUIRE(pipe);
    std::array<char, 4096> buf{};
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) dump.append(buf.data(), n);
    REQUIRE(::pclose(pipe) == 0);
  }
  REQUIRE(dump.size() > 1000);
  CHECK(dump.find("credential_ciphertext") != std::string::npos);
  for (const auto& secret : secrets) {
    INFO(secret);
    CHECK(dump.find(secret) == std::string::npos);
    CHECK(dump.find("oauth-refresh-token") == std::string::npos);
    // nor encoded: base64 at each of the three alignments, and hex
    for (std::size_t shift = 0; shift < 3; ++shift) {
      const std::string encoded = Botan::base64_encode(
          reinterpret_cast<const std::uint8_t*>(secret.data()) + shift, secret.size() - shift);
      CHECK(dump.find(encoded.substr(4, 16)) == std::string::npos);
    }
    CHECK(dump.find(Botan::hex_encode(reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size(), false)) ==
          std::string::npos);
  }
}

TEST_CASE("a gateway with a stale key ring cannot seal with a retired key", "[store][vault][rotation]") {
  Fixture f;
  auto gateway = f.vault();  // a long-running process, loaded before the rotation
  AccountStore gatewayAccounts(f.t.db(), *gateway, core::systemClock());
  REQUIRE(gatewayAccounts.create({f.userId, model::ProviderKind::CalDav, "before@example.com", std::nullopt}, bytes(secretFor(0))));
  const std::string oldKey = gateway->currentKeyId();
  {
    auto admin = f.vault();  // calgate-admin: rotate and retire the old key
    REQUIRE(admin->rotate(10)->remaining == 0);
    REQUIRE(admin->retire(oldKey));
  }
  // the database refuses the retired key; the gateway reloads its ring and seals again
  auto created = gatewayAccounts.create({f.userId, model::ProviderKind::CalDav, "after@example.com", std::nullopt}, bytes(secretFor(1)));
  INFO((created ? std::string() : created.error().message));
  REQUIRE(created);
  CHECK(created->credentialKeyId != oldKey);
  auto fresh = f.vault();  // e.g. after a restart
  AccountStore freshAccounts(f.t.db(), *fresh, core::systemClock());
  CHECK(text(*freshAccounts.credential(created->id)) == secretFor(1));
  CHECK(gatewayAccounts.replaceCredential(created->id, bytes(secretFor(2))));
  CHECK(text(*freshAccounts.credential(created->id)) == secretFor(2));
}

TEST_CASE("the database itself guards the key ring", "[store][vault]") {
  Fixture f;
  auto v = f.vault();
  AccountStore accounts(f.t.db(), *v, core::systemClock());
  auto a = accounts.create({f.userId, model::ProviderKind::CalDav, "g@example.com", std::nullopt}, bytes(secretFor(0)));
  REQUIRE(a);
  auto s = f.t.db().acquire();
  CHECK_THROWS(**s << "DELETE FROM vault_keys WHERE id = '" + a->credentialKeyId + "'");
  CHECK_THROWS(**s << "UPDATE accounts SET credential_key_id = 'k-retired' WHERE id = '" + a->id + "'");
}

TEST_CASE("rotation skips unreadable credentials, reports them, and holds a lease", "[store][vault][rotation]") {
  Fixture f;
  auto v = f.vault();
  AccountStore accounts(f.t.db(), *v, core::systemClock());
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(accounts.create({f.userId, model::ProviderKind::CalDav, "r" + std::to_string(i) + "@example.com", std::nullopt},
                                  bytes(secretFor(i)))->id);
  }
  {
    // the smallest id gets another account's ciphertext: it cannot be opened for its own binding
    auto s = f.t.db().acquire();
    const auto first = *std::min_element(ids.begin(), ids.end());
    const auto other = *std::max_element(ids.begin(), ids.end());
    **s << "UPDATE accounts SET credential_ciphertext = (SELECT credential_ciphertext FROM accounts WHERE id = :o) "
           "WHERE id = :f",
        soci::use(other), soci::use(first);
  }
  auto report = v->rotate(1);
  REQUIRE(report);
  CHECK(report->unreadable.size() == 1);
  CHECK(report->reencrypted == 3);  // the others were not blocked by it
  CHECK(report->remaining == 1);
  // unfinished: the next run continues with the same key instead of adding one
  auto again = v->rotate(1);
  REQUIRE(again);
  CHECK(again->resumed);
  CHECK(again->toKey == report->toKey);

  // a second rotation while one holds the lease is refused
  {
    auto s = f.t.db().acquire();
    const long long until = core::systemClock().nowUnixSeconds() + 300;
    **s << "UPDATE vault_meta SET rotation_lease_until = :u WHERE id = 1", soci::use(until);
  }
  auto busy = v->rotate(1);
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == core::ErrorCode::Conflict);
  CHECK_THAT(busy.error().message, Catch::Contains("another vault rotation is running"));
}
