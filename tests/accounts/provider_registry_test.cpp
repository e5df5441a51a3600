// The provider registry: one opener per ProviderKind; a kind without an adapter is refused with a
// clear error, never opened as another.
#include "calgate/accounts/caldav_accounts.hpp"
#include "calgate/accounts/provider_registry.hpp"
#include "fakes/fake_provider.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::accounts;

namespace {

Account account(model::ProviderKind kind) {
  Account a;
  a.id = "acc_1";
  a.userId = "usr_1";
  a.provider = kind;
  a.email = "me@example.com";
  a.domain = "example.com";
  a.serverUrl = "https://dav.example.com/";
  return a;
}

vault::SecretBytes bytes(std::string_view s) { return vault::SecretBytes(s.begin(), s.end()); }

}  // namespace

TEST_CASE("the built-in registry opens CalDAV accounts and refuses kinds without an adapter", "[accounts][registry]") {
  const ProviderRegistry registry = builtinProviders();
  const ProviderEnvironment env;
  CHECK(registry.supports(model::ProviderKind::CalDav));
  CHECK_FALSE(registry.supports(model::ProviderKind::Google));
  CHECK_FALSE(registry.supports(model::ProviderKind::Microsoft));

  const auto credential = caldavCredential({"https://dav.example.com/", "me", "app-password-1234"});
  auto dav = registry.open(account(model::ProviderKind::CalDav), credential, env);
  REQUIRE(dav);
  CHECK((*dav)->kind() == model::ProviderKind::CalDav);  // opening connects to nothing yet

  for (const auto kind : {model::ProviderKind::Google, model::ProviderKind::Microsoft}) {
    auto refused = registry.open(account(kind), credential, env);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == core::ErrorCode::Unavailable);
    CHECK(refused.error().message ==
          "no adapter for " + std::string(model::toString(kind)) + " accounts in this version");
  }
}

TEST_CASE("a CalDAV credential that is not a login is refused without echoing it", "[accounts][registry]") {
  auto opened = builtinProviders().open(account(model::ProviderKind::CalDav), bytes("not-json-s3cr3t"), {});
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code == core::ErrorCode::Unauthorized);
  CHECK_THAT(opened.error().message, Catch::Contains("account acc_1"));
  CHECK_THAT(opened.error().message, !Catch::Contains("s3cr3t"));
}

TEST_CASE("registering an opener for a kind is all it takes to open that kind", "[accounts][registry]") {
  ProviderRegistry registry;
  CHECK_FALSE(registry.supports(model::ProviderKind::Google));
  std::string seenAccount;
  registry.add(model::ProviderKind::Google,
               [&](const Account& a, const vault::SecretBytes&, const ProviderEnvironment& env)
                   -> core::Result<std::unique_ptr<providers::Provider>> {
                 seenAccount = a.id;
                 CHECK(env.allowPrivateNetworks);
                 return std::unique_ptr<providers::Provider>(std::make_unique<test::FakeProvider>(
                     model::ProviderKind::Google));
               });
  ProviderEnvironment env;
  env.allowPrivateNetworks = true;
  auto opened = registry.open(account(model::ProviderKind::Google), bytes("token"), env);
  REQUIRE(opened);
  CHECK((*opened)->kind() == model::ProviderKind::Google);
  CHECK(seenAccount == "acc_1");
  CHECK_FALSE(registry.open(account(model::ProviderKind::CalDav), bytes("x"), env));
}
