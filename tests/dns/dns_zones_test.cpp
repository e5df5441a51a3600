// The DNS policy module against real DNSSEC-signed zones served by nsd on loopback
// (tests/services/dns-zones.sh, started by the services.dns CTest fixture).
#include "calgate/dns/cares_transport.hpp"
#include "calgate/dns/org_policy_service.hpp"
#include "calgate/dns/validator.hpp"
#include "fakes/fake_clock.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <ldns/ldns.h>

#include <cstdlib>
#include <functional>
#include <memory>

using namespace calgate;
using namespace calgate::dns;
using namespace std::chrono;
using policy::OrgLevel;
using policy::Validation;

namespace {

std::string stateDir() {
  const char* dir = std::getenv("CG_TEST_DNS_STATE");
  REQUIRE(dir != nullptr);
  return dir;
}

std::string server() {
  std::string port = test::readFile(stateDir() + "/port");
  while (!port.empty() && port.back() == '\n') port.pop_back();
  return "127.0.0.1:" + port;
}

void useVariant(const std::string& variant) {
  const std::string cmd = std::string(CALGATE_SOURCE_DIR) + "/tests/services/dns-zones.sh use " + stateDir() + " " +
                          variant + " >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// Passes queries to the real transport, except those it was told to tamper with.
class TamperingTransport final : public Transport {
 public:
  explicit TamperingTransport(Transport& inner) : inner_(inner) {}
  enum class Mode { None, BareNxdomain, Timeout, Forge };
  Mode mode = Mode::None;
  bool withEdns = true;  // forged answers carry an OPT record (an attacker would add one)
  std::string target;  // the name whose answers are tampered with (TXT only, except Timeout: all types)
  RrType forgeType = RrType::TXT;
  std::function<std::vector<std::uint8_t>(const std::vector<std::uint8_t>&)> forge;  // real answer -> forged

  core::Result<std::vector<std::uint8_t>> query(const std::string& name, RrType type) override {
    if (mode == Mode::None || name != target) return inner_.query(name, type);
    if (mode == Mode::Timeout) return core::fail(core::ErrorCode::Timeout, "no answer (simulated)");
    if (mode == Mode::Forge) {
      auto real = inner_.query(name, type);
      if (type != forgeType || !real) return real;
      return forge(*real);
    }
    if (type != RrType::TXT) return inner_.query(name, type);
    // an on-path responder: a bare NXDOMAIN, no NSEC/NSEC3, no signatures
    auto real = inner_.query(name, type);
    REQUIRE(real);
    ldns_pkt* pkt = nullptr;
    REQUIRE(ldns_wire2pkt(&pkt, real->data(), real->size()) == LDNS_STATUS_OK);
    ldns_pkt* forged = ldns_pkt_new();
    ldns_pkt_set_id(forged, ldns_pkt_id(pkt));
    ldns_pkt_set_qr(forged, true);
    ldns_pkt_set_aa(forged, true);
    ldns_pkt_set_rcode(forged, LDNS_RCODE_NXDOMAIN);
    if (withEdns) {
      ldns_pkt_set_edns_udp_size(forged, 1232);
      ldns_pkt_set_edns_do(forged, true);
    }
    ldns_pkt_push_rr(forged, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    REQUIRE(ldns_pkt2wire(&wire, forged, &size) == LDNS_STATUS_OK);
    std::vector<std::uint8_t> out(wire, wire + size);
    std::free(wire);
    ldns_pkt_free(forged);
    ldns_pkt_free(pkt);
    return out;
  }

 private:
  Transport& inner_;
};

struct Fixture {
  test::FakeClock clock = test::FakeClock::at(2026y / June / 1, 12h);
  std::unique_ptr<CaresTransport> real;
  std::unique_ptr<TamperingTransport> transport;
  std::unique_ptr<Validator> validator;
  MemoryPinStore pins;
  std::unique_ptr<OrgPolicyService> service;

  explicit Fixture(ServiceOptions options = {}) {
    auto t = CaresTransport::create({{server()}, milliseconds(1500), 2});
    REQUIRE(t);
    real = std::move(*t);
    transport = std::make_unique<TamperingTransport>(*real);
    auto anchor = loadTrustAnchor(stateDir() + "/anchor.ds");
    REQUIRE(anchor);
    CHECK(anchor->zone == "test.");
    validator = std::make_unique<Validator>(*transport, *anchor, clock);
    service = std::make_unique<OrgPolicyService>(*validator, pins, clock, options);
  }
};

bool mentions(const std::vector<std::string>& lines, std::string_view text) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("a secure record applies, is cached for its TTL and pinned for ma", "[dns][zones]") {
  Fixture f;
  const auto report = f.service->inspect("ACME.test.");
  INFO(report.answer.reason);
  CHECK(report.answer.security == Security::Secure);
  CHECK(report.answer.cause == core::Cause::None);
  CHECK(report.policy.level == OrgLevel::Private);
  CHECK(report.policy.validation == Validation::Secure);
  CHECK(report.policy.label == std::optional<std::string>("Busy"));
  CHECK(report.policy.allow == std::vector<std::string>{"partner.test"});
  CHECK(report.cacheFor == seconds(300));
  REQUIRE(report.pin);
  CHECK(report.pin->expiresAt == f.clock.nowUnixSeconds() + 600);
  CHECK(mentions(report.answer.chain, "DNSKEY test. verified with the trust anchor"));
  CHECK(mentions(report.answer.chain, "DS acme.test. verified with test."));
  CHECK(mentions(report.answer.chain, "TXT _calendar-privacy.acme.test. verified with acme.test."));
}

TEST_CASE("a record split over several strings is joined without separator", "[dns][zones]") {
  Fixture f;
  const auto p = f.service->lookup("split.test");
  CHECK(p.validation == Validation::Secure);
  CHECK(p.level == OrgLevel::Block);
  CHECK(p.allow == std::vector<std::string>{"partner.test"});
}

TEST_CASE("secure NXDOMAIN and secure NODATA (NSEC3) mean no policy", "[dns][zones]") {
  Fixture f;
  auto nx = f.service->inspect("nxd.test");
  CHECK(nx.answer.security == Security::Secure);
  CHECK(nx.answer.kind == TxtAnswer::Kind::NoName);
  CHECK(nx.policy.level == OrgLevel::None);
  CHECK(nx.policy.validation == Validation::NoRecord);
  auto nodata = f.service->inspect("nodata.test");
  CHECK(nodata.answer.security == Security::Secure);
  CHECK(nodata.answer.kind == TxtAnswer::Kind::NoData);
  CHECK(nodata.policy.level == OrgLevel::None);
  auto nsec = f.service->inspect("nopolicy.test");  // NSEC
  CHECK(nsec.answer.security == Security::Secure);
  CHECK(nsec.policy.level == OrgLevel::None);
}

TEST_CASE("an unsigned delegated zone is Insecure: its record may only tighten", "[dns][zones]") {
  Fixture tighten;
  auto r = tighten.service->inspect("unsigned.test");
  INFO(r.answer.reason);
  CHECK(r.answer.security == Security::Insecure);
  CHECK(r.policy.validation == Validation::Insecure);
  CHECK(r.policy.level == OrgLevel::Block);
  CHECK_FALSE(r.policy.trusted());
  CHECK(mentions(r.answer.chain, "unsigned delegation"));
  Fixture ignore(ServiceOptions{UnsignedMode::Ignore});
  CHECK(ignore.service->lookup("unsigned.test").level == OrgLevel::None);
}

TEST_CASE("tampered, expired and forged answers are Bogus and fail closed", "[dns][zones]") {
  Fixture f;
  auto altered = f.service->inspect("altered.test");
  CHECK(altered.answer.security == Security::Bogus);
  CHECK_THAT(altered.answer.reason, Catch::Contains("does not verify"));
  CHECK(altered.answer.cause == core::Cause::DnssecBadSignature);
  CHECK(altered.policy.level == OrgLevel::Private);  // fail closed
  CHECK(altered.policy.failClosed());

  auto expired = f.service->inspect("expired.test");
  CHECK(expired.answer.security == Security::Bogus);
  CHECK_THAT(expired.answer.reason, Catch::Contains("expired"));
  CHECK(expired.answer.cause == core::Cause::DnssecSignatureTime);
  CHECK(expired.policy.level == OrgLevel::Private);

  // an on-path responder turns the TXT answer into a bare NXDOMAIN
  f.transport->mode = TamperingTransport::Mode::BareNxdomain;
  f.transport->target = "_calendar-privacy.acme.test.";
  auto forged = f.service->inspect("acme.test");
  CHECK(forged.answer.security == Security::Bogus);
  CHECK_THAT(forged.answer.reason, Catch::Contains("without proof"));
  CHECK(forged.answer.cause == core::Cause::DnssecBareDenial);
  CHECK(forged.policy.level == OrgLevel::Private);

  // an answer that lost EDNS on the way (e.g. a FORMERR downgrade) cannot carry DNSSEC: unproven
  f.transport->withEdns = false;
  auto stripped = f.service->inspect("acme.test");
  CHECK(stripped.answer.security == Security::Indeterminate);
  CHECK_THAT(stripped.answer.reason, Catch::Contains("without EDNS"));
  CHECK(stripped.answer.cause == core::Cause::DnssecLookupFailed);
  CHECK(stripped.policy.level == OrgLevel::Private);
  f.transport->withEdns = true;

  f.transport->mode = TamperingTransport::Mode::Timeout;
  f.transport->target = "_calendar-privacy.nopolicy.test.";
  auto silent = f.service->inspect("nopolicy.test");
  CHECK(silent.answer.security == Security::Indeterminate);
  CHECK(silent.policy.level == OrgLevel::Private);
  CHECK(silent.cacheFor == seconds(60));  // retried soon
}

TEST_CASE("several records, malformed and oversized records", "[dns][zones]") {
  Fixture f;
  auto multi = f.service->inspect("multi.test");
  CHECK(multi.policy.level == OrgLevel::Block);
  CHECK(multi.policy.label == std::optional<std::string>("Blocked"));
  CHECK(multi.records.size() == 3);  // the google-site-verification record is not ours
  CHECK(mentions(multi.notes, "several valid records"));

  auto malformed = f.service->inspect("malformed.test");
  CHECK(malformed.answer.security == Security::Secure);
  REQUIRE(malformed.records.size() == 1);
  CHECK(malformed.records[0].kind == ParsedRecord::Kind::Invalid);
  CHECK_THAT(malformed.records[0].error, Catch::Contains("\"p\" appears more than once"));
  CHECK(malformed.policy.level == OrgLevel::None);

  auto big = f.service->inspect("big.test");
  REQUIRE(big.records.size() == 1);
  CHECK(big.records[0].kind == ParsedRecord::Kind::Invalid);
  CHECK_THAT(big.records[0].error, Catch::Contains("at most 1024"));
}

TEST_CASE("after a secure denial the organisational domain's sp= applies", "[dns][zones]") {
  Fixture f;
  auto r = f.service->inspect("calendar.org.test");
  CHECK(r.queriedName == "_calendar-privacy.org.test.");
  CHECK(r.policy.level == OrgLevel::Block);  // sp=block, although p=none
  CHECK(r.policy.label == std::optional<std::string>("Org"));
  CHECK(mentions(r.notes, "trying the organisational domain org.test"));
  CHECK(f.service->lookup("org.test").level == OrgLevel::None);  // the domain itself: p=none
}

TEST_CASE("NSEC3 with too many iterations is not accepted as proof", "[dns][zones]") {
  Fixture f;
  auto r = f.service->inspect("iter.test");
  CHECK(r.answer.security == Security::Bogus);
  CHECK_THAT(r.answer.reason, Catch::Contains("150 iterations"));
  CHECK(r.answer.cause == core::Cause::DnssecIterationCap);
  CHECK(r.policy.level == OrgLevel::Private);
}

TEST_CASE("signature times are checked against the clock with a bounded skew", "[dns][zones][clock]") {
  Fixture f;  // skew.test is signed for 2026-01-01 00:00 .. 2026-02-01 00:00, allowance 300 s
  auto at = [&](std::chrono::year_month_day day, seconds time) {
    f.clock.set(core::TimePoint(sys_days(day) + time));
    return f.service->inspect("skew.test");
  };
  CHECK(at(2026y / February / 1, 4min).answer.security == Security::Secure);   // 240 s late: allowed
  CHECK(at(2026y / February / 1, 6min).answer.security == Security::Bogus);    // 360 s late
  CHECK(at(2025y / December / 31, 23h + 56min).answer.security == Security::Secure);  // 240 s early
  CHECK(at(2025y / December / 31, 23h + 54min).answer.security == Security::Bogus);
  // cached no longer than the signatures last
  auto late = at(2026y / January / 31, 23h + 58min);
  CHECK(late.answer.security == Security::Secure);
  CHECK(late.cacheFor <= seconds(120));
}

TEST_CASE("a pinned strict policy survives unproven or denying answers until p=none or expiry", "[dns][zones][pin]") {
  Fixture f;
  useVariant("base");
  auto first = f.service->inspect("pinned.test");
  REQUIRE(first.policy.level == OrgLevel::Block);
  REQUIRE(first.pin);

  useVariant("pin-bogus");
  auto bogus = f.service->inspect("pinned.test");
  CHECK(bogus.answer.security == Security::Bogus);
  CHECK(bogus.policy.level == OrgLevel::Block);
  CHECK(bogus.policy.pinned);

  f.transport->mode = TamperingTransport::Mode::Timeout;
  f.transport->target = "_calendar-privacy.pinned.test.";
  auto silent = f.service->inspect("pinned.test");
  CHECK(silent.answer.security == Security::Indeterminate);
  CHECK(silent.policy.level == OrgLevel::Block);
  f.transport->mode = TamperingTransport::Mode::None;

  useVariant("pin-insecure");  // delegation now unsigned, record says p=none
  auto insecure = f.service->inspect("pinned.test");
  CHECK(insecure.answer.security == Security::Insecure);
  CHECK(insecure.policy.level == OrgLevel::Block);
  CHECK(mentions(insecure.policy.reasons, "cannot lower a pinned policy"));

  useVariant("pin-denied");  // record removed (secure NXDOMAIN)
  auto denied = f.service->inspect("pinned.test");
  CHECK(denied.answer.security == Security::Secure);
  CHECK(denied.policy.level == OrgLevel::Block);
  CHECK(denied.policy.pinned);

  useVariant("pin-none");  // a secure p=none ends it
  auto none = f.service->inspect("pinned.test");
  CHECK(none.policy.level == OrgLevel::None);
  CHECK_FALSE(none.pin);

  // ... and so does expiry
  useVariant("base");
  REQUIRE(f.service->inspect("pinned.test").policy.level == OrgLevel::Block);
  useVariant("pin-denied");
  f.clock.advance(seconds(3599));
  CHECK(f.service->inspect("pinned.test").policy.level == OrgLevel::Block);
  f.clock.advance(seconds(2));
  CHECK(f.service->inspect("pinned.test").policy.level == OrgLevel::None);
  useVariant("base");
}

TEST_CASE("attack: an older record replayed while its signature is valid never lowers a pin", "[dns][zones][pin][attack]") {
  Fixture f;
  useVariant("pin-resigned");  // the organisation re-signed p=block on 2026-03-01
  auto strict = f.service->inspect("pinned.test");
  REQUIRE(strict.policy.level == OrgLevel::Block);
  REQUIRE(strict.pin);
  CHECK(strict.pin->signedAt == 1772323200);  // 2026-03-01T00:00:00Z, the inception it was signed with
  REQUIRE(strict.answer.signedAt);

  useVariant("pin-none");  // an on-path attacker replays p=none, signed 2025-06-01 and still valid
  auto replay = f.service->inspect("pinned.test");
  CHECK(replay.answer.security == Security::Secure);  // the signature itself is fine
  CHECK(replay.policy.level == OrgLevel::Block);
  CHECK(replay.policy.pinned);
  CHECK(mentions(replay.policy.reasons, "an older answer cannot lower a pinned policy"));
  REQUIRE(replay.pin);
  CHECK(replay.pin->level == OrgLevel::Block);
  CHECK(f.pins.load("pinned.test")->value().level == OrgLevel::Block);

  useVariant("pin-none-newer");  // the organisation itself lowers it later: that applies
  auto lowered = f.service->inspect("pinned.test");
  CHECK(lowered.policy.level == OrgLevel::None);
  CHECK_FALSE(lowered.pin);
  useVariant("base");
}

namespace {

// Real, validly signed records taken from another answer (what an on-path attacker can replay).
std::vector<ldns_rr*> recordsOf(Transport& t, const std::string& name, RrType type, ldns_rr_type keep) {
  auto wire = t.query(name, type);
  REQUIRE(wire);
  ldns_pkt* pkt = nullptr;
  REQUIRE(ldns_wire2pkt(&pkt, wire->data(), wire->size()) == LDNS_STATUS_OK);
  std::vector<ldns_rr*> out;
  for (auto* list : {ldns_pkt_authority(pkt), ldns_pkt_answer(pkt)}) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(list, i);
      const auto t2 = ldns_rr_get_type(rr);
      const auto covered = t2 == LDNS_RR_TYPE_RRSIG ? ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) : t2;
      if (covered == keep) out.push_back(ldns_rr_clone(rr));
    }
  }
  ldns_pkt_free(pkt);
  return out;
}

// A response to the query in `real` with the given rcode and records in the authority section.
std::vector<std::uint8_t> negativeWith(const std::vector<std::uint8_t>& real, ldns_pkt_rcode rcode,
                                       const std::vector<ldns_rr*>& authority) {
  ldns_pkt* pkt = nullptr;
  REQUIRE(ldns_wire2pkt(&pkt, real.data(), real.size()) == LDNS_STATUS_OK);
  ldns_pkt* forged = ldns_pkt_new();
  ldns_pkt_set_id(forged, ldns_pkt_id(pkt));
  ldns_pkt_set_qr(forged, true);
  ldns_pkt_set_rcode(forged, rcode);
  ldns_pkt_set_edns_udp_size(forged, 1232);
  ldns_pkt_set_edns_do(forged, true);
  ldns_pkt_push_rr(forged, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
  for (ldns_rr* rr : authority) ldns_pkt_push_rr(forged, LDNS_SECTION_AUTHORITY, ldns_rr_clone(rr));
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  REQUIRE(ldns_pkt2wire(&wire, forged, &size) == LDNS_STATUS_OK);
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);
  ldns_pkt_free(forged);
  ldns_pkt_free(pkt);
  return out;
}

void freeAll(std::vector<ldns_rr*>& rrs) {
  for (ldns_rr* rr : rrs) ldns_rr_free(rr);
  rrs.clear();
}

}  // namespace

TEST_CASE("attack: a parent's signed delegation NSEC replayed as NXDOMAIN proves nothing", "[dns][zones][attack]") {
  Fixture f;
  // "acme0.test" sorts right after "acme.test" in test.: its NXDOMAIN carries test.'s genuine
  // "acme.test. NSEC altered.test. NS DS RRSIG NSEC", which covers _calendar-privacy.acme.test.
  auto replay = recordsOf(*f.real, "acme0.test.", RrType::TXT, LDNS_RR_TYPE_NSEC);
  REQUIRE_FALSE(replay.empty());
  for (RrType type : {RrType::TXT, RrType::DS}) {
    f.transport->mode = TamperingTransport::Mode::Forge;
    f.transport->target = "_calendar-privacy.acme.test.";
    f.transport->forgeType = type;
    f.transport->forge = [&](const std::vector<std::uint8_t>& real) {
      return negativeWith(real, LDNS_RCODE_NXDOMAIN, replay);
    };
    auto r = f.service->inspect("acme.test");
    INFO(static_cast<int>(type) << ": " << r.answer.reason);
    CHECK(r.answer.security == Security::Bogus);
    CHECK(r.policy.level == OrgLevel::Private);  // fail closed, not "no policy"
  }
  freeAll(replay);
}

TEST_CASE("attack: a signature naming another signer is refused", "[dns][zones][attack]") {
  Fixture f;
  f.transport->mode = TamperingTransport::Mode::Forge;
  f.transport->target = "_calendar-privacy.acme.test.";
  f.transport->forgeType = RrType::TXT;
  f.transport->forge = [&](const std::vector<std::uint8_t>& real) {
    ldns_pkt* pkt = nullptr;
    REQUIRE(ldns_wire2pkt(&pkt, real.data(), real.size()) == LDNS_STATUS_OK);
    ldns_rr_list* answer = ldns_pkt_answer(pkt);
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
        // claim the record is signed by a "zone" at its own name (which has no DS: genuine NODATA)
        ldns_rr_rrsig_set_signame(rr, ldns_rdf_clone(ldns_rr_owner(rr)));  // frees the old name
      }
    }
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    REQUIRE(ldns_pkt2wire(&wire, pkt, &size) == LDNS_STATUS_OK);
    std::vector<std::uint8_t> out(wire, wire + size);
    std::free(wire);
    ldns_pkt_free(pkt);
    return out;
  };
  auto r = f.service->inspect("acme.test");
  INFO(r.answer.reason);
  CHECK(r.answer.security == Security::Bogus);
  CHECK_THAT(r.answer.reason, Catch::Contains("not by the zone acme.test."));
  CHECK(r.answer.cause == core::Cause::DnssecWrongSigner);
  CHECK(r.policy.level == OrgLevel::Private);
}

TEST_CASE("attack: a child cannot prove its own DS away (downgrade to insecure)", "[dns][zones][attack]") {
  Fixture f;
  // acme.test's own NSEC records (apex: NS SOA ... no DS), signed by acme.test itself
  auto childProof = recordsOf(*f.real, "nothing-here.acme.test.", RrType::TXT, LDNS_RR_TYPE_NSEC);
  REQUIRE_FALSE(childProof.empty());
  f.transport->mode = TamperingTransport::Mode::Forge;
  f.transport->target = "acme.test.";
  f.transport->forgeType = RrType::DS;
  f.transport->forge = [&](const std::vector<std::uint8_t>& real) {
    return negativeWith(real, LDNS_RCODE_NOERROR, childProof);
  };
  auto r = f.service->inspect("acme.test");
  INFO(r.answer.reason);
  CHECK(r.answer.security == Security::Bogus);
  CHECK(r.answer.cause != core::Cause::None);
  CHECK(r.policy.level == OrgLevel::Private);
  freeAll(childProof);
}
