// Pinned organisation policies live in the database and survive a restart.
#include "calgate/core/clock.hpp"
#include "calgate/dns/org_policy_service.hpp"
#include "calgate/orgpolicy/sql_pin_store.hpp"
#include "calgate/store/migrator.hpp"
#include "fakes/fake_clock.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::orgpolicy;
using namespace calgate::store;
using namespace std::chrono;

namespace {

class OneAnswer final : public dns::TxtSource {
 public:
  dns::TxtAnswer answer;
  dns::TxtAnswer lookupTxt(const std::string&) override { return answer; }
};

}  // namespace

TEST_CASE("a pinned policy survives a restart of the gateway", "[store][dns][pin]") {
  test::TestDatabase t;
  REQUIRE(Migrator(t.db(), builtinMigrations(t.dialect()), core::systemClock()).migrate());
  auto clock = test::FakeClock::at(2026y / June / 1);
  OneAnswer source;
  source.answer.security = dns::Security::Secure;
  source.answer.kind = dns::TxtAnswer::Kind::Records;
  source.answer.records = {{"v=CALPRIV1; p=block; ma=86400; label=Acme; allow=partner.com,partner.de"}};
  source.answer.ttl = seconds(300);
  source.answer.signedAt = core::TimePoint(seconds(1772323200));
  {
    SqlPinStore pins(t.db());
    dns::OrgPolicyService service(source, pins, clock);
    REQUIRE(service.lookup("acme.com").level == policy::OrgLevel::Block);
  }
  // restart: new objects over the same database; DNS now fails to validate
  source.answer = dns::TxtAnswer{};
  source.answer.security = dns::Security::Bogus;
  source.answer.reason = "scripted";
  SqlPinStore pins(t.db());
  auto stored = pins.load("acme.com");
  REQUIRE(stored);
  REQUIRE(*stored);
  CHECK((*stored)->label == std::optional<std::string>("Acme"));
  CHECK((*stored)->allow == std::vector<std::string>{"partner.com", "partner.de"});
  CHECK((*stored)->signedAt == 1772323200);  // what a replayed older record is measured against
  dns::OrgPolicyService restarted(source, pins, clock);
  auto p = restarted.lookup("acme.com");
  CHECK(p.level == policy::OrgLevel::Block);
  CHECK(p.pinned);
  CHECK(p.validation == policy::Validation::Bogus);
  REQUIRE(pins.remove("acme.com"));
  CHECK_FALSE(*pins.load("acme.com"));
}
