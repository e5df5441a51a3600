// The TXT record parser's accept/reject table, and the policy state machine with scripted
// validation results and a fake clock.
#include "calgate/dns/org_policy_service.hpp"
#include "calgate/dns/policy_record.hpp"
#include "fakes/fake_clock.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

using namespace calgate;
using namespace calgate::dns;
using namespace std::chrono;
using policy::OrgLevel;
using policy::Validation;

namespace {

ParsedRecord parse(std::string text) { return parsePolicyRecord({std::move(text)}); }

}  // namespace

TEST_CASE("policy record parser: accepted records", "[dns][record]") {
  auto r = parse("v=CALPRIV1; p=private; sp=block; ma=604800; label=Busy; allow=acme.com,ACME.de.; rua=mailto:cal@acme.com");
  REQUIRE(r.kind == ParsedRecord::Kind::Valid);
  CHECK(r.record.p == OrgLevel::Private);
  CHECK(r.record.sp == std::optional<OrgLevel>(OrgLevel::Block));
  CHECK(r.record.ma == seconds(604800));
  CHECK(r.record.label == std::optional<std::string>("Busy"));
  CHECK(r.record.allow == std::vector<std::string>{"acme.com", "acme.de"});
  CHECK(r.record.rua == std::vector<std::string>{"mailto:cal@acme.com"});
  CHECK(r.record.warnings.empty());

  CHECK(parsePolicyRecord({"v=CALPRIV1; p=bl", "ock"}).record.p == OrgLevel::Block);  // strings joined as-is
  CHECK(parse("V=CALPRIV1;P=NONE;").record.p == OrgLevel::None);                      // names and keywords: any case
  CHECK(parse("v=CALPRIV1 ;  p = private ; ").record.p == OrgLevel::Private);          // spaces around
  CHECK(parse("v=CALPRIV1; p=none; future=tag").kind == ParsedRecord::Kind::Valid);    // unknown tags ignored
  CHECK(parse("v=CALPRIV1; p=none").record.ma == seconds(86400));                      // default ma
  CHECK(parse("v=CALPRIV1; p=none; ma=0").record.ma == seconds(0));
  CHECK(parse("v=CALPRIV1; p=none; ma=31557600").record.ma == seconds(31557600));
  CHECK(parse(std::string("v=CALPRIV1; p=none; label=") + std::string(1000 - 26, 'x')).kind ==
        ParsedRecord::Kind::Valid);  // under 1024 bytes overall
}

TEST_CASE("policy record parser: strictest on doubt, warnings an admin can act on", "[dns][record]") {
  auto noP = parse("v=CALPRIV1; ma=600");
  CHECK(noP.kind == ParsedRecord::Kind::Valid);
  CHECK(noP.record.p == OrgLevel::Block);
  CHECK_THAT(noP.record.warnings.front(), Catch::Contains("no p= tag; treated as block"));
  auto unknownP = parse("v=CALPRIV1; p=privat");  // no prefixes, no typos
  CHECK(unknownP.record.p == OrgLevel::Block);
  CHECK_THAT(unknownP.record.warnings.front(), Catch::Contains("p=privat is not none, private or block"));
  CHECK(parse("v=CALPRIV1; p=none; sp=maybe").record.sp == std::optional<OrgLevel>(OrgLevel::Block));
  auto badMa = parse("v=CALPRIV1; p=none; ma=forever");
  CHECK(badMa.record.ma == seconds(86400));
  CHECK_THAT(badMa.record.warnings.front(), Catch::Contains("ma=forever"));
  CHECK(parse("v=CALPRIV1; p=none; ma=31557601").record.ma == seconds(86400));
  CHECK(parse("v=CALPRIV1; p=none; label=").record.label == std::nullopt);
  CHECK(parse("v=CALPRIV1; p=none; label=" + std::string(65, 'x')).record.label == std::nullopt);
  CHECK(parse("v=CALPRIV1; p=none; label=B\xc3\xbcro").record.label == std::nullopt);  // ASCII only
  const std::string head = "v=CALPRIV1; p=none; label=x; future=";
  CHECK(parse(head + std::string(1024 - head.size(), 'y')).kind == ParsedRecord::Kind::Valid);    // exactly 1024
  CHECK(parse(head + std::string(1025 - head.size(), 'y')).kind == ParsedRecord::Kind::Invalid);  // 1025
  auto badAllow = parse("v=CALPRIV1; p=none; allow=ok.com,not a domain,..x");
  CHECK(badAllow.record.allow == std::vector<std::string>{"ok.com"});
  CHECK(badAllow.record.warnings.size() == 2);
  CHECK(parse("v=CALPRIV1; p=none; rua=http://x,mailto:noat").record.rua.empty());
}

TEST_CASE("policy record parser: rejected and foreign records", "[dns][record]") {
  struct Case {
    std::string text;
    ParsedRecord::Kind kind;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"v=spf1 -all", ParsedRecord::Kind::NotPolicy, ""},
      {"p=private; v=CALPRIV1", ParsedRecord::Kind::NotPolicy, ""},  // v= must come first
      {"v=CALPRIV2; p=private", ParsedRecord::Kind::NotPolicy, ""},
      {"v=calpriv1; p=private", ParsedRecord::Kind::NotPolicy, ""},  // the version value is exact
      {"v=CALPRIV1x; p=private", ParsedRecord::Kind::NotPolicy, ""},
      {"", ParsedRecord::Kind::NotPolicy, ""},
      {"v=CALPRIV1; p=private; p=none", ParsedRecord::Kind::Invalid, "\"p\" appears more than once"},
      {"v=CALPRIV1; p=private; P=block", ParsedRecord::Kind::Invalid, "\"p\" appears more than once"},
      {"v=CALPRIV1; v=CALPRIV1", ParsedRecord::Kind::Invalid, "\"v\" appears more than once"},
      {"v=CALPRIV1; p", ParsedRecord::Kind::Invalid, "has no '='"},
      {"v=CALPRIV1;; p=none", ParsedRecord::Kind::Invalid, "two ';' in a row"},
      {"v=CALPRIV1; =none", ParsedRecord::Kind::Invalid, "no name before '='"},
      {"v=CALPRIV1; p=none; label=" + std::string(1100, 'x'), ParsedRecord::Kind::Invalid, "at most 1024"},
  };
  for (const auto& c : cases) {
    INFO(c.text.substr(0, 60));
    const auto r = parse(c.text);
    CHECK(r.kind == c.kind);
    if (!c.error.empty()) CHECK_THAT(r.error, Catch::Contains(c.error));
  }
}

namespace {

// Scripted validation results per queried name.
class ScriptedSource final : public TxtSource {
 public:
  std::map<std::string, TxtAnswer> answers;
  int calls = 0;
  TxtAnswer lookupTxt(const std::string& name) override {
    ++calls;
    auto it = answers.find(name);
    if (it != answers.end()) return it->second;
    TxtAnswer denial;
    denial.security = Security::Secure;
    denial.kind = TxtAnswer::Kind::NoName;
    denial.ttl = seconds(300);
    return denial;
  }
};

TxtAnswer records(Security s, std::vector<std::string> texts, seconds ttl = seconds(300)) {
  TxtAnswer a;
  a.security = s;
  a.kind = TxtAnswer::Kind::Records;
  for (auto& t : texts) a.records.push_back({t});
  a.ttl = ttl;
  return a;
}

TxtAnswer failed(Security s) {
  TxtAnswer a;
  a.security = s;
  a.reason = "scripted failure";
  return a;
}

const std::string kName = "_calendar-privacy.acme.com.";

}  // namespace

TEST_CASE("state machine: secure records apply and pin; the cache follows the TTL", "[dns][state]") {
  auto clock = test::FakeClock::at(2026y / June / 1);
  ScriptedSource source;
  MemoryPinStore pins;
  OrgPolicyService service(source, pins, clock);
  source.answers[kName] = records(Security::Secure, {"v=CALPRIV1; p=private; ma=1000; label=Away"}, seconds(120));
  auto p = service.lookup("acme.com");
  CHECK(p.level == OrgLevel::Private);
  CHECK(p.validation == Validation::Secure);
  CHECK(p.label == std::optional<std::string>("Away"));
  CHECK(source.calls == 1);
  service.lookup("ACME.com.");
  CHECK(source.calls == 1);  // cached
  clock.advance(seconds(121));
  service.lookup("acme.com");
  CHECK(source.calls == 2);  // TTL over
  auto pin = pins.load("acme.com");
  REQUIRE(pin);
  REQUIRE(*pin);
  CHECK((*pin)->level == OrgLevel::Private);
  CHECK((*pin)->expiresAt == clock.nowUnixSeconds() + 1000);
}

TEST_CASE("state machine: a pin holds against every unproven or denying answer", "[dns][state]") {
  auto clock = test::FakeClock::at(2026y / June / 1);
  ScriptedSource source;
  MemoryPinStore pins;
  OrgPolicyService service(source, pins, clock);
  source.answers[kName] = records(Security::Secure, {"v=CALPRIV1; p=block; ma=3600; allow=partner.com"});
  REQUIRE(service.inspect("acme.com").policy.level == OrgLevel::Block);

  const std::vector<std::pair<std::string, TxtAnswer>> later = {
      {"bogus", failed(Security::Bogus)},
      {"indeterminate", failed(Security::Indeterminate)},
      {"insecure p=none", records(Security::Insecure, {"v=CALPRIV1; p=none"})},
      {"insecure p=private", records(Security::Insecure, {"v=CALPRIV1; p=private"})},
      {"secure denial", TxtAnswer{Security::Secure, TxtAnswer::Kind::NoName, {}, seconds(300), {}, {}, {}}},
      {"secure, only an invalid record", records(Security::Secure, {"v=CALPRIV1; p=none; p=none"})},
  };
  for (const auto& [name, answer] : later) {
    INFO(name);
    source.answers[kName] = answer;
    const auto r = service.inspect("acme.com");
    CHECK(r.policy.level == OrgLevel::Block);
    CHECK(r.policy.pinned);
    CHECK(r.policy.allow == std::vector<std::string>{"partner.com"});  // the pinned, proven allow-list
  }
  // expiry ends it
  source.answers[kName] = failed(Security::Bogus);
  clock.advance(seconds(3601));
  auto expired = service.inspect("acme.com");
  CHECK_FALSE(expired.policy.pinned);
  CHECK(expired.policy.level == OrgLevel::Private);  // fail closed, no longer pinned
  // a secure record replaces a pin, even a looser one
  source.answers[kName] = records(Security::Secure, {"v=CALPRIV1; p=block; ma=3600"});
  service.inspect("acme.com");
  source.answers[kName] = records(Security::Secure, {"v=CALPRIV1; p=none; ma=0"});
  auto none = service.inspect("acme.com");
  CHECK(none.policy.level == OrgLevel::None);
  CHECK_FALSE(none.pin);
  CHECK_FALSE(*pins.load("acme.com"));
}

TEST_CASE("state machine: replays never lower a pin nor widen its allow-list", "[dns][state][pin]") {
  auto clock = test::FakeClock::at(2026y / June / 1);
  ScriptedSource source;
  MemoryPinStore pins;
  OrgPolicyService service(source, pins, clock);
  auto signedOn = [](TxtAnswer a, std::chrono::sys_days day) {
    a.signedAt = core::TimePoint(std::chrono::sys_seconds(day));
    return a;
  };
  const auto week = sys_days(2026y / May / 25);  // a signer that gives a whole week one inception
  source.answers[kName] = signedOn(records(Security::Secure, {"v=CALPRIV1; p=private; ma=86400"}), week);
  REQUIRE(service.inspect("acme.com").policy.level == OrgLevel::Private);

  SECTION("same inception, other content: taken for a replay") {
    source.answers[kName] = signedOn(records(Security::Secure, {"v=CALPRIV1; p=none; ma=0"}), week);
    auto r = service.inspect("acme.com");
    CHECK(r.policy.level == OrgLevel::Private);
    CHECK(r.policy.pinned);
  }
  SECTION("an older but stricter record applies, with only the allow-list entries the pin has too") {
    source.answers[kName] = signedOn(records(Security::Secure, {"v=CALPRIV1; p=block; allow=partner.com; ma=86400"}),
                                     sys_days(2026y / May / 1));
    auto r = service.inspect("acme.com");
    CHECK(r.policy.level == OrgLevel::Block);
    CHECK(r.policy.allow.empty());  // the pinned record allows nobody
    REQUIRE(pins.load("acme.com")->has_value());
    CHECK(pins.load("acme.com")->value().level == OrgLevel::Private);  // the pin is untouched
  }
  SECTION("a denial of the own name does not hand the decision to the organisational domain's sp=") {
    // mail.acme.com pinned from its own record; then its record is denied (a replayed NSEC) and
    // acme.com's freshly signed record says sp=none
    source.answers["_calendar-privacy.mail.acme.com."] =
        signedOn(records(Security::Secure, {"v=CALPRIV1; p=block; ma=86400"}), week);
    REQUIRE(service.inspect("mail.acme.com").policy.level == OrgLevel::Block);
    source.answers.erase("_calendar-privacy.mail.acme.com.");
    source.answers[kName] = signedOn(records(Security::Secure, {"v=CALPRIV1; p=private; sp=none; ma=86400"}),
                                     sys_days(2026y / June / 1));
    auto r = service.inspect("mail.acme.com");
    CHECK(r.policy.level == OrgLevel::Block);
    CHECK(r.policy.pinned);
  }
  SECTION("a newer record lowers it: the organisation changed its mind") {
    source.answers[kName] = signedOn(records(Security::Secure, {"v=CALPRIV1; p=none; ma=0"}), week + days(7));
    auto r = service.inspect("acme.com");
    CHECK(r.policy.level == OrgLevel::None);
    CHECK_FALSE(r.pin);
  }
}

TEST_CASE("state machine: without a pin, failures fail closed and unsigned data only tightens", "[dns][state]") {
  auto clock = test::FakeClock::at(2026y / June / 1);
  ScriptedSource source;
  MemoryPinStore pins;
  OrgPolicyService service(source, pins, clock);
  for (auto s : {Security::Bogus, Security::Indeterminate}) {
    source.answers[kName] = failed(s);
    auto r = service.inspect("acme.com");
    CHECK(r.policy.level == OrgLevel::Private);
    CHECK(r.policy.failClosed());
    CHECK(r.cacheFor == seconds(60));
  }
  source.answers[kName] = records(Security::Insecure, {"v=CALPRIV1; p=private; allow=partner.com"});
  auto insecure = service.inspect("acme.com");
  CHECK(insecure.policy.level == OrgLevel::Private);
  CHECK_FALSE(insecure.policy.trusted());  // so the evaluator ignores its allow-list
  CHECK_FALSE(insecure.pin);               // unsigned data never pins
  source.answers[kName] = records(Security::Insecure, {"v=CALPRIV1; p=none"});
  CHECK(service.inspect("acme.com").policy.level == OrgLevel::None);
  OrgPolicyService ignoring(source, pins, clock, ServiceOptions{UnsignedMode::Ignore});
  source.answers[kName] = records(Security::Insecure, {"v=CALPRIV1; p=block"});
  CHECK(ignoring.inspect("acme.com").policy.level == OrgLevel::None);
}

TEST_CASE("state machine: an unreadable pin store fails closed", "[dns][state]") {
  class BrokenPins final : public PinStore {
   public:
    core::Result<std::optional<Pin>> load(const std::string&) override {
      return core::fail(core::ErrorCode::Unavailable, "database down");
    }
    core::Result<void> save(const Pin&) override { return {}; }
    core::Result<void> remove(const std::string&) override { return {}; }
  };
  auto clock = test::FakeClock::at(2026y / June / 1);
  ScriptedSource source;
  BrokenPins pins;
  OrgPolicyService service(source, pins, clock);
  source.answers[kName] = records(Security::Insecure, {"v=CALPRIV1; p=none"});
  auto r = service.inspect("acme.com");
  CHECK(r.policy.level == OrgLevel::Private);
  CHECK(r.policy.failClosed());
}

TEST_CASE("state machine: a signed RRset without a valid policy does not send us to the organisational domain",
          "[dns][state]") {
  auto clock = test::FakeClock::at(2026y / June / 1);
  ScriptedSource source;
  MemoryPinStore pins;
  OrgPolicyService service(source, pins, clock);
  source.answers["_calendar-privacy.eu.acme.com."] = records(Security::Secure, {"v=spf1 -all"});
  source.answers["_calendar-privacy.acme.com."] = records(Security::Secure, {"v=CALPRIV1; p=none; sp=block"});
  auto r = service.inspect("eu.acme.com");
  CHECK(r.queriedName == "_calendar-privacy.eu.acme.com.");
  CHECK(r.policy.level == OrgLevel::None);
}

TEST_CASE("state machine: the organisational domain is asked only after a secure denial", "[dns][state]") {
  auto clock = test::FakeClock::at(2026y / June / 1);
  ScriptedSource source;
  MemoryPinStore pins;
  OrgPolicyService service(source, pins, clock);
  source.answers["_calendar-privacy.acme.co.uk."] = records(Security::Secure, {"v=CALPRIV1; p=none; sp=private"});
  CHECK(OrgPolicyService::organisationalDomain("mail.eu.acme.co.uk") == "acme.co.uk");
  auto sub = service.inspect("mail.eu.acme.co.uk");
  CHECK(sub.queriedName == "_calendar-privacy.acme.co.uk.");
  CHECK(sub.policy.level == OrgLevel::Private);  // sp=
  // an unproven answer at the exact name does not send us to the organisational domain
  source.answers["_calendar-privacy.eu.acme.co.uk."] = failed(Security::Indeterminate);
  auto eu = service.inspect("eu.acme.co.uk");
  CHECK(eu.queriedName == "_calendar-privacy.eu.acme.co.uk.");
  CHECK(eu.policy.level == OrgLevel::Private);
  CHECK(eu.policy.failClosed());
  CHECK(service.inspect("not a domain").policy.level == OrgLevel::Private);
}

namespace {

/// Answers "_calendar-privacy.slow.test." only when released (a server that takes its time), every
/// other name at once. Counts lookups per name.
class GatedSource final : public TxtSource {
 public:
  std::mutex mutex;
  std::condition_variable changed;
  bool released = false;
  std::map<std::string, int> calls;
  TxtAnswer lookupTxt(const std::string& name) override {
    std::unique_lock lock(mutex);
    ++calls[name];
    changed.notify_all();
    if (name == "_calendar-privacy.slow.test.") changed.wait(lock, [&] { return released; });
    return records(Security::Secure, {"v=CALPRIV1; p=private"});
  }
};

}  // namespace

TEST_CASE("a slow domain holds only its own callers: other domains resolve meanwhile, one lookup per domain",
          "[dns][concurrency]") {
  auto clock = test::FakeClock::at(2026y / June / 1);
  GatedSource source;
  MemoryPinStore pins;
  OrgPolicyService service(source, pins, clock);
  std::vector<std::thread> slowCallers;
  std::atomic<int> slowDone{0};
  for (int i = 0; i < 3; ++i) {
    slowCallers.emplace_back([&] {
      CHECK(service.lookup("slow.test").level == OrgLevel::Private);
      ++slowDone;
    });
  }
  {
    std::unique_lock lock(source.mutex);
    source.changed.wait(lock, [&] { return source.calls["_calendar-privacy.slow.test."] == 1; });
  }
  // while slow.test is being resolved, another domain answers (with one mutex for every
  // resolution, this lookup waited for the slow one)
  CHECK(service.lookup("fast.test").level == OrgLevel::Private);
  CHECK(service.inspect("other.test").policy.level == OrgLevel::Private);
  CHECK(slowDone == 0);
  {
    std::lock_guard lock(source.mutex);
    source.released = true;
  }
  source.changed.notify_all();
  for (auto& t : slowCallers) t.join();
  CHECK(slowDone == 3);
  // the three callers shared one resolution
  CHECK(source.calls["_calendar-privacy.slow.test."] == 1);
}
