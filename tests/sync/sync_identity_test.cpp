// The organisation policy follows who an account is proven to be, not the address typed when it
// was connected (issue 19). Each evasion a security review found, through the sync engine: the
// accounts carry the identities discovery or sign-in proves (model::caldavIdentities,
// googleIdentities), their labels are what the user typed, and the copies in the target show
// which policy applied.
#include "calgate/model/identity.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

using namespace calgate;
using namespace std::chrono;
using calgate::test::SyncFixture;
using calgate::test::timedEvent;

namespace {

const sys_seconds kMonday = sys_days{2026y / November / 23} + hours(9);

/// What connecting the account proved, and what the user typed as its address.
void connectedAs(SyncFixture& f, const sync::CalendarRef& calendar, const std::string& typed,
                 const std::vector<model::Identity>& proven) {
  accounts::AccountStore store(f.t.db(), *f.vault, f.clock);
  REQUIRE(store.setIdentities(calendar.accountId, proven));
  const std::string domain = typed.substr(typed.find('@') + 1);
  REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "UPDATE accounts SET email = :e, domain = :d WHERE id = :i", soci::use(typed), soci::use(domain),
        soci::use(calendar.accountId);
    return {};
  }));
}

policy::OrgPolicy published(const std::string& domain, policy::OrgLevel level) {
  policy::OrgPolicy p = policy::OrgPolicy::none(domain);
  p.level = level;
  p.validation = policy::Validation::Secure;
  return p;
}

/// The title of the only copy in the target, or "" when there is none.
std::string copyTitle(SyncFixture& f) {
  const auto resources = f.home.resources(SyncFixture::kHome);
  return resources.empty() ? std::string() : resources.front().front().title;
}

const auto kHomeServer = model::caldavIdentities("https://caldav.home.example/", {"mailto:me@home.example"});

}  // namespace

TEST_CASE("evasion: a gmail address typed for a calendar on the organisation's own server", "[sync][identity]") {
  SyncFixture f;
  f.orgs.byDomain["acme.com"] = published("acme.com", policy::OrgLevel::Block);
  // a login name that is not an address, and a typed gmail address: before, no policy applied
  connectedAs(f, f.workCal, "me@gmail.com", model::caldavIdentities("https://caldav.acme.com/", {"/alice/"}));
  connectedAs(f, f.homeCal, "me@home.example", kHomeServer);
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Merger talks", kMonday)});
  f.sync();
  CHECK(f.home.resources(SyncFixture::kHome).empty());  // acme.com (the server's) p=block
}

TEST_CASE("evasion: a policy published after the account was connected", "[sync][identity]") {
  SyncFixture f;
  connectedAs(f, f.workCal, "me@gmail.com", model::caldavIdentities("https://caldav.acme.com/", {}));
  connectedAs(f, f.homeCal, "me@home.example", kHomeServer);
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Merger talks", kMonday)});
  f.sync();
  CHECK(copyTitle(f) == "Merger talks");  // nothing published yet
  f.orgs.byDomain["acme.com"] = published("acme.com", policy::OrgLevel::Private);
  f.sync();
  CHECK(copyTitle(f) == "Busy");  // the next run applies it: the domains are proven, not checked once at connect
}

TEST_CASE("evasion: an organisation address typed for a personal target", "[sync][identity]") {
  SyncFixture f;
  f.orgs.byDomain["acme.com"] = published("acme.com", policy::OrgLevel::Block);
  connectedAs(f, f.workCal, "me@acme.com", model::caldavIdentities("https://caldav.acme.com/", {"mailto:me@acme.com"}));
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Merger talks", kMonday)});

  SECTION("a foreign provider's server (iCloud): not inside acme.com whatever was typed") {
    connectedAs(f, f.homeCal, "boss@acme.com", model::caldavIdentities("https://caldav.icloud.com/", {"mailto:me@icloud.com"}));
    f.sync();
    CHECK(f.home.resources(SyncFixture::kHome).empty());
  }
  SECTION("a self-hosted server whose principal claims an acme.com address: a claim is not membership") {
    connectedAs(f, f.homeCal, "boss@acme.com", model::caldavIdentities("https://dav.mine.example/", {"mailto:me@acme.com"}));
    f.sync();
    CHECK(f.home.resources(SyncFixture::kHome).empty());
  }
  SECTION("a consumer Google account with a verified acme.com address but no hd claim") {
    connectedAs(f, f.homeCal, "boss@acme.com", model::googleIdentities("me@acme.com", true, ""));
    f.sync();
    CHECK(f.home.resources(SyncFixture::kHome).empty());
  }
  SECTION("control: acme's own server, or a Workspace account of acme.com, is inside") {
    const bool workspace = GENERATE(false, true);
    connectedAs(f, f.homeCal, "boss@acme.com",
                workspace ? model::googleIdentities("me@acme.com", true, "acme.com")
                          : model::caldavIdentities("https://caldav2.acme.com/", {"mailto:me@acme.com"}));
    f.sync();
    CHECK(copyTitle(f) == "Merger talks");
  }
}

TEST_CASE("evasion: a made-up subdomain does not reach the organisational record's sp=", "[sync][identity]") {
  SyncFixture f;
  // acme.com publishes p=block; sp=none (what a lookup of made-up.acme.com falls back to)
  f.orgs.byDomain["acme.com"] = published("acme.com", policy::OrgLevel::Block);
  f.orgs.byDomain["made-up.acme.com"] = published("made-up.acme.com", policy::OrgLevel::None);
  connectedAs(f, f.workCal, "x@made-up.acme.com",
              model::caldavIdentities("https://caldav.acme.com/", {"mailto:x@made-up.acme.com"}));
  connectedAs(f, f.homeCal, "me@home.example", kHomeServer);
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Merger talks", kMonday)});
  f.sync();
  CHECK(f.home.resources(SyncFixture::kHome).empty());  // the server's acme.com p=block is the strictest
}

TEST_CASE("a self-hosted source claiming an organisation address gets that organisation's policy too", "[sync][identity]") {
  SyncFixture f;
  f.orgs.byDomain["acme.com"] = published("acme.com", policy::OrgLevel::Private);
  connectedAs(f, f.workCal, "me@mine.example", model::caldavIdentities("https://dav.mine.example/", {"mailto:me@acme.com"}));
  connectedAs(f, f.homeCal, "me@home.example", kHomeServer);
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Merger talks", kMonday)});
  f.sync();
  CHECK(copyTitle(f) == "Busy");  // more policies only ever tighten
}

TEST_CASE("an account connected before proofs: its server's and its typed domain tighten, never admit", "[sync][identity]") {
  SyncFixture f;
  f.orgs.byDomain["acme.com"] = published("acme.com", policy::OrgLevel::Block);
  connectedAs(f, f.workCal, "me@acme.com", model::caldavIdentities("https://caldav.acme.com/", {}));
  // the target row as migration 0015 leaves it: typed boss@acme.com on a foreign server, no proofs
  REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "UPDATE accounts SET identities = NULL, email = 'boss@acme.com', domain = 'acme.com', "
           "server_url = 'https://caldav.icloud.com/' WHERE id = :i",
        soci::use(f.homeCal.accountId);
    return {};
  }));
  auto target = sync::CalendarStore(f.t.db(), f.clock).get(f.homeCal.id);
  REQUIRE(target);
  CHECK(model::memberDomains(target->identities) == std::vector<std::string>{"icloud.com"});
  CHECK(model::policyDomains(target->identities) == std::vector<std::string>{"icloud.com", "acme.com"});
  f.work.userPut(SyncFixture::kWork, {timedEvent("a", "Merger talks", kMonday)});
  f.sync();
  CHECK(f.home.resources(SyncFixture::kHome).empty());
}
