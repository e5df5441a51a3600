// The policy core: "Mark as private" per target (seed tables), fields never synced,
// strictest-wins, no leakage in private mode, and the content hash.
#include "calgate/policy/content_hash.hpp"
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/caldav/ical_mapping.hpp"
#include "calgate/providers/google/mapping.hpp"
#include "calgate/providers/microsoft/mapping.hpp"

#include "calgate/core/hash.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <set>
#include <type_traits>

using namespace calgate::policy;
using namespace calgate::model;
using namespace calgate::providers;
using namespace std::chrono;
namespace ms = calgate::providers::microsoft;
namespace gg = calgate::providers::google;
namespace ic = calgate::providers::caldav;

static_assert(!std::is_default_constructible_v<ApprovedWrite>);
static_assert(!std::is_constructible_v<ApprovedWrite, ApprovedWrite::Action, Event, WriteContext>,
              "only the Evaluator may construct an ApprovedWrite");
static_assert(!std::is_constructible_v<ApprovedWrite, Event>);

namespace {

const auto kStamp = sys_days{2026y / November / 21} + 8h;

Event sourceEvent() {
  Event e;
  e.uid = "040000008200E00074C5B7101A82E008@acme.com";
  e.id = "AAMkAGI2-source-id";
  e.etag = "W/\"CQAAABYAAAD\"";
  e.title = "Q3 strategy review with Acme Corp";
  e.description = "Draft numbers attached; dial-in 555-0100";
  e.location = "Board room, 12th floor";
  e.start = *zonedFromLocal(local_days{2026y / November / 24} + 14h, "Europe/London");
  e.end = *zonedFromLocal(local_days{2026y / November / 24} + 15h, "Europe/London");
  e.status = Status::Confirmed;
  e.showAs = ShowAs::Busy;
  e.sensitivity = Sensitivity::Normal;
  e.attendees = {"ceo@acme.com", "partner@othercorp.example"};
  e.organizer = "assistant@acme.com";
  e.sequence = 4;
  return e;
}

WriteContext context(ProviderKind target, std::string domain = "gmail.com") {
  return WriteContext{.pairId = "pr_test",
                      .sourceKey = "src_key_1",
                      .seriesKey = std::nullopt,
                      .targetProvider = target,
                      .targetDomains = {std::move(domain)},
                      .targetInvitesAttendees = true,
                      .targetZone = "UTC"};
}

WriteContext silentCalDav() {
  auto c = context(ProviderKind::CalDav, "home.example");
  c.targetInvitesAttendees = false;
  return c;
}

PairRules privateRules() {
  PairRules r;
  r.mode = PrivacyMode::Private;
  return r;
}

const Event& approvedEvent(const Decision& d) {
  REQUIRE(d.approved());
  return d.write->event();
}

}  // namespace

TEST_CASE("Mark as private -> Microsoft 365 target (seed table)", "[policy][seed]") {
  Evaluator ev;
  for (const auto* sens : {"normal", "personal", "private", "confidential"}) {
    for (const auto* show : {"free", "tentative", "busy", "oof", "workingElsewhere"}) {
      INFO(sens << " / " << show);
      Event src = sourceEvent();
      src.sensitivity = ms::sensitivityFrom(sens);
      src.showAs = ms::showAsFrom(show);
      const auto d = ev.evaluate(privateRules(), OrgPolicy::none("acme.com"), src, context(ProviderKind::Microsoft));
      auto body = ms::eventBody(approvedEvent(d));
      REQUIRE(body);
      const auto j = nlohmann::json::parse(*body);
      CHECK(j["subject"] == "Busy");
      CHECK(j["body"]["content"] == "");
      CHECK(j["location"]["displayName"] == "");
      CHECK_FALSE(j.contains("attendees"));
      CHECK(j["sensitivity"] == "private");
      CHECK(j["showAs"] == show);  // preserved
    }
  }
  PairRules overridden = privateRules();
  overridden.showAsOverride = ShowAs::Free;
  const auto d = ev.evaluate(overridden, OrgPolicy::none("acme.com"), sourceEvent(), context(ProviderKind::Microsoft));
  CHECK(nlohmann::json::parse(*ms::eventBody(approvedEvent(d)))["showAs"] == "free");
}

TEST_CASE("Mark as private -> Google target (seed table)", "[policy][seed]") {
  Evaluator ev;
  for (const auto* vis : {"default", "public", "private", "confidential"}) {
    for (const auto* transparency : {"opaque", "transparent"}) {
      INFO(vis << " / " << transparency);
      Event src = sourceEvent();
      src.sensitivity = gg::sensitivityFromVisibility(vis);
      src.showAs = gg::showAsFromTransparency(transparency);
      const auto d = ev.evaluate(privateRules(), OrgPolicy::none("acme.com"), src, context(ProviderKind::Google));
      const auto j = nlohmann::json::parse(*gg::eventBody(approvedEvent(d)));
      CHECK(j["summary"] == "Busy");
      CHECK_FALSE(j.contains("description"));
      CHECK_FALSE(j.contains("location"));
      CHECK_FALSE(j.contains("attendees"));
      CHECK(j["visibility"] == "private");
      CHECK(j["transparency"] == transparency);  // preserved
    }
  }
  PairRules overridden = privateRules();
  overridden.showAsOverride = ShowAs::Busy;
  Event free = sourceEvent();
  free.showAs = ShowAs::Free;
  const auto d = ev.evaluate(overridden, OrgPolicy::none("acme.com"), free, context(ProviderKind::Google));
  CHECK(nlohmann::json::parse(*gg::eventBody(approvedEvent(d)))["transparency"] == "opaque");
}

TEST_CASE("Mark as private -> iCloud (CalDAV) target (seed table)", "[policy][seed]") {
  Evaluator ev;
  for (const std::optional<std::string_view> cls :
       {std::optional<std::string_view>(), std::optional<std::string_view>("PUBLIC"),
        std::optional<std::string_view>("PRIVATE"), std::optional<std::string_view>("CONFIDENTIAL")}) {
    for (const auto* transp : {"OPAQUE", "TRANSPARENT"}) {
      INFO(cls.value_or("(omitted)") << " / " << transp);
      Event src = sourceEvent();
      src.sensitivity = ic::sensitivityFromClass(cls);
      src.showAs = ic::showAsFromTransp(transp);
      const auto d = ev.evaluate(privateRules(), OrgPolicy::none("acme.com"), src, context(ProviderKind::CalDav));
      auto text = ic::calendarText(approvedEvent(d), kStamp);
      REQUIRE(text);
      CHECK_THAT(*text, Catch::Contains("\r\nSUMMARY:Busy\r\n"));
      CHECK_THAT(*text, !Catch::Contains("\r\nDESCRIPTION"));
      CHECK_THAT(*text, !Catch::Contains("\r\nLOCATION"));
      CHECK_THAT(*text, !Catch::Contains("\r\nATTENDEE"));
      CHECK_THAT(*text, Catch::Contains("\r\nCLASS:PRIVATE\r\n"));
      CHECK_THAT(*text, Catch::Contains(std::string("\r\nTRANSP:") + transp + "\r\n"));  // preserved
    }
  }
}

namespace {

// Every key anywhere in a JSON document.
void collectKeys(const nlohmann::json& j, std::set<std::string>& keys) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      keys.insert(k);
      collectKeys(v, keys);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) collectKeys(v, keys);
  }
}

}  // namespace

TEST_CASE("fields the product does not sync never reach a written body (seed lists)", "[policy][seed]") {
  // The widest possible write: full mode, attendees allowed where silent, every field set.
  Evaluator ev;
  PairRules rules;
  rules.attendees = AttendeeRule::CopyWhereSilent;
  for (auto target : {ProviderKind::Google, ProviderKind::Microsoft, ProviderKind::CalDav}) {
    auto ctx = target == ProviderKind::CalDav ? silentCalDav() : context(target);
    const auto d = ev.evaluate(rules, OrgPolicy::none("acme.com"), sourceEvent(), ctx);
    const Event& out = approvedEvent(d);
    CHECK(out.organizer.empty());  // read, never written: the copy shows calgate's identity
    CHECK(out.id.empty());
    CHECK(out.etag.empty());
    CHECK(out.sequence == 0);
    if (target == ProviderKind::Google) {
      std::set<std::string> keys;
      collectKeys(nlohmann::json::parse(*gg::eventBody(out)), keys);
      // Google page, "Not synced": reminders, attachments, conference data, colorId, organizer,
      // RSVP responses; plus attendees (guests would get the event).
      for (const auto* never : {"reminders", "overrides", "useDefault", "attachments", "conferenceData",
                                "hangoutLink", "colorId", "organizer", "responseStatus", "attendees", "creator"}) {
        INFO(never);
        CHECK_FALSE(keys.contains(never));
      }
    } else if (target == ProviderKind::Microsoft) {
      std::set<std::string> keys;
      collectKeys(nlohmann::json::parse(*ms::eventBody(out)), keys);
      // M365 page, "Not synced": reminders, attachments, conference data, categories/extensions,
      // colours, RSVP responses; plus attendees (invitations would be sent).
      for (const auto* never : {"isReminderOn", "reminderMinutesBeforeStart", "attachments", "hasAttachments",
                                "onlineMeeting", "onlineMeetingUrl", "isOnlineMeeting", "categories", "extensions",
                                "responseStatus", "organizer", "attendees"}) {
        INFO(never);
        CHECK_FALSE(keys.contains(never));
      }
    } else {
      const std::string ical = *ic::calendarText(out, kStamp);
      // iCloud page, "Not synced": VALARM, ATTACH, conference data, categories, colour, PARTSTAT.
      for (const auto* never : {"BEGIN:VALARM", "\r\nATTACH", "\r\nCONFERENCE", "\r\nCATEGORIES",
                                "\r\nCOLOR", "PARTSTAT", "\r\nORGANIZER"}) {
        INFO(never);
        CHECK(ical.find(never) == std::string::npos);
      }
      CHECK_THAT(ical, Catch::Contains("\r\nATTENDEE:mailto:ceo@acme.com\r\n"));  // silent target only
    }
  }
}

TEST_CASE("full mode preserves content and applies the field rules", "[policy]") {
  Evaluator ev;
  PairRules rules;
  auto d = ev.evaluate(rules, OrgPolicy::none("acme.com"), sourceEvent(), context(ProviderKind::Google));
  const Event& out = approvedEvent(d);
  CHECK(d.mode == EffectiveMode::Full);
  CHECK(out.title == "Q3 strategy review with Acme Corp");
  CHECK(out.description == sourceEvent().description);
  CHECK(out.location == sourceEvent().location);
  CHECK(out.sensitivity == Sensitivity::Normal);
  CHECK(out.attendees.empty());  // default rule: omit
  CHECK(out.uid != sourceEvent().uid);
  CHECK(out.uid == targetUid("pr_test", "src_key_1"));
  REQUIRE(out.origin);
  CHECK(out.origin->pairId == "pr_test");

  rules.description = FieldRule::Clear;
  rules.location = FieldRule::Clear;
  d = ev.evaluate(rules, OrgPolicy::none("acme.com"), sourceEvent(), context(ProviderKind::Google));
  CHECK(approvedEvent(d).description.empty());
  CHECK(approvedEvent(d).location.empty());
  CHECK(std::find(d.reasons.begin(), d.reasons.end(), "description cleared (pair rule)") != d.reasons.end());
}

TEST_CASE("attendees are written only where the target would not invite them", "[policy]") {
  Evaluator ev;
  PairRules rules;
  rules.attendees = AttendeeRule::CopyWhereSilent;
  Event src = sourceEvent();
  src.attendees = {"Partner@OtherCorp.example", "ceo@acme.com", "ceo@ACME.com", "not an address", "x@y.z\r\nBCC"};
  auto d = ev.evaluate(rules, OrgPolicy::none("acme.com"), src, silentCalDav());
  CHECK(approvedEvent(d).attendees == std::vector<std::string>{"ceo@acme.com", "partner@othercorp.example"});
  for (auto target : {ProviderKind::Google, ProviderKind::Microsoft, ProviderKind::CalDav}) {
    auto ctx = context(target);
    ctx.targetInvitesAttendees = target != ProviderKind::CalDav;
    ctx.targetInvitesAttendees = !ctx.targetInvitesAttendees;  // a caller claiming the opposite
    if (target == ProviderKind::CalDav) ctx.targetInvitesAttendees = true;
    d = ev.evaluate(rules, OrgPolicy::none("acme.com"), sourceEvent(), ctx);
    INFO(toString(target));
    CHECK(approvedEvent(d).attendees.empty());
    CHECK(std::find(d.reasons.begin(), d.reasons.end(), "attendees omitted: the target would invite them") !=
          d.reasons.end());
  }
  d = ev.evaluate(privateRules(), OrgPolicy::none("acme.com"), sourceEvent(), silentCalDav());
  CHECK(approvedEvent(d).attendees.empty());
}

TEST_CASE("copies get a series-wide UID, an opaque origin and canonical zones", "[policy]") {
  Evaluator ev;
  auto ctx = context(ProviderKind::CalDav);
  ctx.sourceKey = "040000008200E00074C5B7101A82E008@acme.com.ics#20261201T140000Z";
  ctx.seriesKey = "040000008200E00074C5B7101A82E008@acme.com.ics";
  Event occurrence = sourceEvent();
  occurrence.recurrenceId = occurrence.start;
  auto d = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), occurrence, ctx);
  const Event& out = approvedEvent(d);
  CHECK(out.uid == targetUid("pr_test", *ctx.seriesKey));  // shared with the series master
  REQUIRE(out.origin);
  CHECK(out.origin->sourceKey == originReference("pr_test", ctx.sourceKey));
  CHECK(out.origin->sourceKey.find("acme") == std::string::npos);
  CHECK(out.origin->sourceKey.find("0400000") == std::string::npos);
  CHECK(d.write->context().pairId == "pr_test");
  CHECK(d.write->context().targetDomains == std::vector<std::string>{"gmail.com"});

  Event alias = sourceEvent();
  std::get<ZonedTime>(alias.start).zone = "US/Eastern";
  d = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), alias, ctx);
  CHECK(std::get<ZonedTime>(approvedEvent(d).start).zone == "US/Eastern");  // a tz database name: accepted

  Event bogusZone = sourceEvent();
  std::get<ZonedTime>(bogusZone.end).zone = "Secret Project Zone";
  d = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), bogusZone, ctx);
  CHECK_FALSE(d.approved());
  CHECK_THAT(d.reasons.back(), Catch::Contains("unknown time zone"));
  CHECK(std::none_of(d.reasons.begin(), d.reasons.end(),
                     [](const std::string& r) { return r.find("Secret") != std::string::npos; }));

  Event floating = sourceEvent();
  floating.start = FloatingTime{local_days{2026y / 12 / 1} + 9h};
  floating.end = FloatingTime{local_days{2026y / 12 / 1} + 10h};
  auto google = context(ProviderKind::Google);
  google.targetZone = "Europe/Berlin";
  d = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), floating, google);
  REQUIRE(std::holds_alternative<ZonedTime>(approvedEvent(d).start));
  CHECK(formatUtc(std::get<ZonedTime>(approvedEvent(d).start).instant) == "2026-12-01T08:00:00Z");
  d = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), floating, ctx);  // CalDAV keeps floating
  CHECK(std::holds_alternative<FloatingTime>(approvedEvent(d).start));
}

TEST_CASE("recurrence lines are reduced to recurrence data", "[policy][recurrence]") {
  Evaluator ev;
  Event src = sourceEvent();
  src.recurrence = {"rrule:freq=weekly;count=3;byday=mo,we",
                    "EXDATE;X-NOTE=\"Q3 strategy\";TZID=US/Eastern:20261202T090000,20261209T090000",
                    "RDATE;VALUE=DATE:20261224"};
  auto d = ev.evaluate(privateRules(), OrgPolicy::none("acme.com"), src, context(ProviderKind::Google));
  CHECK(approvedEvent(d).recurrence ==
        std::vector<std::string>{"RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=MO,WE",
                                 "EXDATE;TZID=US/Eastern:20261202T090000,20261209T090000",
                                 "RDATE;VALUE=DATE:20261224"});
  for (const std::string bad : {"RRULE;X-TITLE=Q3StrategySecret:FREQ=WEEKLY;X-NAME=Secret",
                                "RRULE:FREQ=WEEKLY;X-TITLE=Secret", "RRULE:COUNT=3",
                                "EXDATE;TZID=Acme Secret Zone:20261130T090000", "SUMMARY:Secret",
                                "EXDATE:2026-11-30", "RRULE:FREQ=WEEKLY;UNTIL=Secret",
                                "EXDATE;TZID=Europe/Berlin:20261130T090000Z"}) {
    src.recurrence = {bad};
    d = ev.evaluate(privateRules(), OrgPolicy::none("acme.com"), src, context(ProviderKind::Google));
    INFO(bad);
    CHECK_FALSE(d.approved());
    CHECK_THAT(d.reasons.back(), Catch::Contains("recurrence rejected"));
    CHECK(std::none_of(d.reasons.begin(), d.reasons.end(),
                       [](const std::string& r) { return r.find("Secret") != std::string::npos; }));
  }
  // x-parameters on EXDATE/RDATE are dropped rather than rejected (they carry no recurrence data)
  src.recurrence = {"EXDATE;X-LABEL=Confidential-Merger:20261130T090000Z"};
  d = ev.evaluate(privateRules(), OrgPolicy::none("acme.com"), src, context(ProviderKind::CalDav));
  CHECK(approvedEvent(d).recurrence == std::vector<std::string>{"EXDATE:20261130T090000Z"});
  // and the iCalendar text carries a VTIMEZONE for every recurrence TZID
  src.recurrence = {"RRULE:FREQ=DAILY;COUNT=2", "EXDATE;TZID=Asia/Tokyo:20261125T230000"};
  d = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), src, context(ProviderKind::CalDav));
  CHECK_THAT(*ic::calendarText(approvedEvent(d), kStamp), Catch::Contains("\r\nTZID:Asia/Tokyo\r\n"));
}

TEST_CASE("copies written by calgate are never mirrored; cancellations become deletes", "[policy]") {
  Evaluator ev;
  Event copy = sourceEvent();
  copy.origin = Origin{"pr_other", "x"};
  auto d = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), copy, context(ProviderKind::Google));
  CHECK_FALSE(d.approved());
  CHECK(d.mode == EffectiveMode::Denied);
  CHECK_THAT(d.reasons.back(), Catch::Contains("never mirrored"));

  Event cancelled = sourceEvent();
  cancelled.status = Status::Cancelled;
  d = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), cancelled, context(ProviderKind::Google));
  REQUIRE(d.approved());
  CHECK(d.write->action() == ApprovedWrite::Action::Delete);
  CHECK(d.write->event().uid == targetUid("pr_test", "src_key_1"));
  CHECK(d.write->event().title.empty());
  CHECK_FALSE(d.write->event().recurrenceId);

  // a cancelled occurrence deletes that occurrence, not the series
  auto ctx = context(ProviderKind::CalDav);
  ctx.seriesKey = "series-1";
  Event first = cancelled;
  first.recurrenceId = first.start;
  Event second = cancelled;
  second.recurrenceId = ZonedTime{std::get<ZonedTime>(first.start).instant + days(7), "Europe/London"};
  const auto d1 = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), first, ctx);
  const auto d2 = ev.evaluate(PairRules{}, OrgPolicy::none("acme.com"), second, ctx);
  REQUIRE(d1.approved());
  REQUIRE(d1.write->event().recurrenceId);
  CHECK(d1.write->event().uid == d2.write->event().uid);
  CHECK(contentHash(*d1.write) != contentHash(*d2.write));
}

TEST_CASE("strictest of pair and organisation wins, for every combination", "[policy][strictest]") {
  Evaluator ev;
  struct Target {
    std::string domain;
    bool insideOrg;
    bool allowListed;
  };
  const std::vector<Target> targets = {{"gmail.com", false, false},  {"acme.com", true, false},
                                       {"eu.acme.com", true, false}, {"partner.de", false, true},
                                       {"sub.partner.de", false, true}, {"notacme.com", false, false},
                                       {"", false, false}};
  for (auto pairMode : {PrivacyMode::Full, PrivacyMode::Private}) {
    for (auto level : {OrgLevel::None, OrgLevel::Private, OrgLevel::Block}) {
      for (auto validation : {Validation::Secure, Validation::Insecure, Validation::Bogus, Validation::Indeterminate,
                              Validation::NoRecord}) {
        for (bool pinned : {false, true}) {
          for (const auto& target : targets) {
            OrgPolicy org;
            org.domain = "acme.com";
            org.level = level;
            org.validation = validation;
            org.pinned = pinned;
            org.allow = {"partner.de"};
            PairRules rules;
            rules.mode = pairMode;
            const auto d = ev.evaluate(rules, org, sourceEvent(), context(ProviderKind::Google, target.domain));

            // The rules, stated independently of the implementation:
            const bool trusted = validation == Validation::Secure || pinned;  // may loosen (allow=)
            const bool failClosed = !pinned && (validation == Validation::Bogus || validation == Validation::Indeterminate);
            OrgLevel applied = level;
            if (failClosed && applied == OrgLevel::None) applied = OrgLevel::Private;
            const bool admitted = target.insideOrg || (trusted && target.allowListed);
            EffectiveMode expected = pairMode == PrivacyMode::Private ? EffectiveMode::Private : EffectiveMode::Full;
            if (!admitted && applied == OrgLevel::Private) expected = std::max(expected, EffectiveMode::Private);
            if (!admitted && applied == OrgLevel::Block) expected = EffectiveMode::Denied;

            INFO(toString(pairMode) << " org=" << toString(level) << " (" << toString(validation)
                                    << (pinned ? ", pinned" : "") << ") target=" << target.domain);
            CHECK(d.mode == expected);
            REQUIRE(d.approved());
            if (expected == EffectiveMode::Denied) {
              CHECK(d.write->action() == ApprovedWrite::Action::Delete);  // an existing copy goes
            } else {
              CHECK(d.write->action() == ApprovedWrite::Action::Upsert);
              const Event& out = d.write->event();
              CHECK((out.title == "Busy") == (expected == EffectiveMode::Private));
              CHECK((out.sensitivity == Sensitivity::Private) == (expected == EffectiveMode::Private));
            }
            // the reasons name what applied
            CHECK(d.reasons.front() == "pair: " + std::string(toString(pairMode)));
            CHECK_THAT(d.reasons[1], Catch::StartsWith(org.describe()));
            if (level != OrgLevel::None || pinned) {
              CHECK_THAT(d.reasons[1], Catch::Contains("p=" + std::string(toString(level))) &&
                                           Catch::Contains(std::string(toString(validation))));
            }
            CHECK(std::find(d.reasons.begin(), d.reasons.end(), "effective: " + std::string(toString(expected))) !=
                  d.reasons.end());
          }
        }
      }
    }
  }
}

TEST_CASE("block without an allow-list admits only the organisation's own domains", "[policy][strictest]") {
  Evaluator ev;
  OrgPolicy org;
  org.domain = "acme.com";
  org.level = OrgLevel::Block;
  org.validation = Validation::Secure;
  CHECK(ev.evaluate(PairRules{}, org, sourceEvent(), context(ProviderKind::Google, "ACME.com.")).mode ==
        EffectiveMode::Full);
  CHECK(ev.evaluate(PairRules{}, org, sourceEvent(), context(ProviderKind::Google, "mail.acme.com")).mode ==
        EffectiveMode::Full);
  const auto denied = ev.evaluate(PairRules{}, org, sourceEvent(), context(ProviderKind::Google, "partner.de"));
  CHECK(denied.mode == EffectiveMode::Denied);
  CHECK(denied.write->action() == ApprovedWrite::Action::Delete);
  CHECK_THAT(denied.reasons[1], Catch::Contains("org acme.com p=block (secure)") && Catch::Contains("denied"));
  CHECK(ev.evaluate(PairRules{}, org, sourceEvent(), context(ProviderKind::Google, "evilacme.com")).mode ==
        EffectiveMode::Denied);
}

TEST_CASE("every proven domain's policy applies to a source; the strictest wins", "[policy][strictest][identity]") {
  Evaluator ev;
  auto org = [](std::string domain, OrgLevel level, std::optional<std::string> label = std::nullopt) {
    OrgPolicy p = OrgPolicy::none(std::move(domain));
    p.level = level;
    p.label = std::move(label);
    p.validation = Validation::Secure;
    return p;
  };
  // a self-hosted server (mine.example, no policy) whose principal claims an acme.com address
  const std::vector<OrgPolicy> both = {org("mine.example", OrgLevel::None), org("acme.com", OrgLevel::Private, "Acme")};
  const auto stripped = ev.evaluate(PairRules{}, both, sourceEvent(), context(ProviderKind::Google, "home.example"));
  CHECK(stripped.mode == EffectiveMode::Private);
  CHECK(approvedEvent(stripped).title == "Acme");  // the label of the organisation that strips
  CHECK_THAT(stripped.reasons[1], Catch::Contains("mine.example"));
  CHECK_THAT(stripped.reasons[2], Catch::Contains("org acme.com p=private") && Catch::Contains("stripped"));

  const std::vector<OrgPolicy> stricter = {org("acme.com", OrgLevel::Private, "Acme"),
                                           org("made-up.acme.com", OrgLevel::None),
                                           org("acme.de", OrgLevel::Block)};
  CHECK(ev.evaluate(PairRules{}, stricter, sourceEvent(), context(ProviderKind::Google, "home.example")).mode ==
        EffectiveMode::Denied);

  // no proven domain: no organisation restricts the source, and the decision says so
  const auto none = ev.evaluate(PairRules{}, std::span<const OrgPolicy>(), sourceEvent(), context(ProviderKind::Google));
  CHECK(none.mode == EffectiveMode::Full);
  CHECK_THAT(none.reasons[1], Catch::Contains("no proven domain"));
}

TEST_CASE("a target is inside an organisation only through a domain it is proven to be inside", "[policy][identity]") {
  Evaluator ev;
  OrgPolicy acme = OrgPolicy::none("acme.com");
  acme.level = OrgLevel::Block;
  acme.validation = Validation::Secure;
  acme.allow = {"partner.de"};
  WriteContext inside = context(ProviderKind::CalDav);
  inside.targetDomains = {"icloud.com", "acme.com"};  // e.g. a work tenant account: one of several
  CHECK(ev.evaluate(PairRules{}, acme, sourceEvent(), inside).mode == EffectiveMode::Full);
  WriteContext partner = context(ProviderKind::CalDav);
  partner.targetDomains = {"partner.de"};
  CHECK(ev.evaluate(PairRules{}, acme, sourceEvent(), partner).mode == EffectiveMode::Full);
  WriteContext nowhere = context(ProviderKind::CalDav);
  nowhere.targetDomains = {};  // a consumer account that only claims an acme.com address
  const auto denied = ev.evaluate(PairRules{}, acme, sourceEvent(), nowhere);
  CHECK(denied.mode == EffectiveMode::Denied);
  CHECK_THAT(denied.reasons[1], Catch::Contains("proven inside no organisation"));
}

TEST_CASE("labels: the organisation's when it strips, the pair's otherwise, always sanitised", "[policy]") {
  Evaluator ev;
  OrgPolicy org;
  org.domain = "acme.com";
  org.level = OrgLevel::Private;
  org.label = "Acme meeting";
  org.validation = Validation::Secure;
  PairRules rules = privateRules();
  rules.label = "Work";
  CHECK(approvedEvent(ev.evaluate(rules, org, sourceEvent(), context(ProviderKind::Google))).title == "Acme meeting");
  CHECK(approvedEvent(ev.evaluate(rules, org, sourceEvent(), context(ProviderKind::Google, "acme.com"))).title ==
        "Work");
  CHECK(sanitiseLabel("  Busy\r\nX-INJECT:1 ") == "BusyX-INJECT:1");
  CHECK(sanitiseLabel("") == "Busy");
  CHECK(sanitiseLabel(std::string(300, 'a')).size() == 100);
  CHECK(sanitiseLabel(std::string(99, 'a') + "\xc3\xa9") == std::string(99, 'a'));  // no split UTF-8
}

TEST_CASE("private mode leaks no part of title, description, location or attendees (randomized)", "[policy][leak]") {
  std::mt19937_64 rng(20261121);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  auto token = [&] {
    std::string t;
    for (int i = 0; i < 10; ++i) t += alphabet[rng() % alphabet.size()];
    return t;
  };
  const std::vector<std::string> zones = {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"};
  Evaluator ev;
  for (int i = 0; i < 3000; ++i) {
    Event src;
    std::vector<std::string> secrets;
    auto phrase = [&](int words) {
      std::string s;
      for (int w = 0; w < words; ++w) {
        secrets.push_back(token());
        s += (w ? " " : "") + secrets.back();
      }
      return s;
    };
    src.uid = token() + "@" + token() + "." + token();
    secrets.push_back(src.uid);
    src.id = "id" + std::to_string(i);
    src.title = phrase(1 + static_cast<int>(rng() % 6));
    src.description = phrase(static_cast<int>(rng() % 20));
    src.location = phrase(static_cast<int>(rng() % 4));
    for (int a = 0; a < static_cast<int>(rng() % 5); ++a) {
      secrets.push_back(token() + "@" + token() + "." + token());
      src.attendees.push_back(secrets.back());
    }
    src.organizer = token() + "@" + token() + "." + token();
    secrets.push_back(src.organizer);
    const auto start = local_days{2026y / January / 1} + days(rng() % 700) + minutes(15 * (rng() % 96));
    src.start = *zonedFromLocal(start, zones[rng() % zones.size()]);
    src.end = *zonedFromLocal(start + minutes(30 + 15 * (rng() % 8)), zones[rng() % zones.size()]);
    if (rng() % 3 == 0) {
      secrets.push_back(token());
      const std::string xParam = secrets.back();
      src.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=" + std::to_string(2 + rng() % 10),
                        "EXDATE;X-NOTE=" + xParam + ":20270105T100000Z"};
    }
    src.sensitivity = static_cast<Sensitivity>(rng() % 6);
    src.showAs = static_cast<ShowAs>(rng() % 5);

    // private either by the pair or by the organisation
    PairRules rules;
    rules.attendees = AttendeeRule::CopyWhereSilent;
    OrgPolicy org = OrgPolicy::none("corp.example");
    if (i % 2 == 0) {
      rules.mode = PrivacyMode::Private;
    } else {
      org.level = OrgLevel::Private;
      org.validation = Validation::Secure;
    }
    // source keys often embed the source UID (CalDAV hrefs): it must not reach the copy either
    const std::string sourceKey = src.uid + ".ics";
    WriteContext ctx{.pairId = "pr_" + std::to_string(i % 7),
                     .sourceKey = sourceKey,
                     .seriesKey = std::nullopt,
                     .targetProvider = static_cast<ProviderKind>(rng() % 3),
                     .targetDomains = {"home.example"},
                     .targetInvitesAttendees = false,
                     .targetZone = "UTC"};
    const auto d = ev.evaluate(rules, org, src, ctx);
    REQUIRE(d.mode == EffectiveMode::Private);
    const Event& out = approvedEvent(d);
    std::string everything = canonicalForm(*d.write) + out.title + out.description + out.location + out.organizer +
                             out.uid + out.id + out.etag;
    for (const auto& a : out.attendees) everything += a;
    for (const auto& r : d.reasons) everything += r;
    everything += *gg::eventBody(out);
    everything += *ic::calendarText(out, kStamp);
    if (out.recurrence.empty()) everything += *ms::eventBody(out);
    for (const auto& secret : secrets) {
      // every 6-character piece of every secret is absent (shorter pieces of random text turn up by
      // chance in the VTIMEZONE data and hex digests)
      for (std::size_t k = 0; k + 6 <= secret.size(); ++k) {
        const auto piece = secret.substr(k, 6);
        if (piece.find_first_of("@.") != std::string::npos) continue;
        if (everything.find(piece) != std::string::npos) {
          FAIL_CHECK("piece '" << piece << "' of '" << secret << "' leaked");
        }
      }
    }
    CHECK(out.title == "Busy");
  }
}

namespace {

Decision baseDecision(const Event& src, PairRules rules = {}) {
  rules.attendees = AttendeeRule::CopyWhereSilent;
  WriteContext ctx{.pairId = "pr_hash",
                   .sourceKey = "src_hash",
                   .seriesKey = std::nullopt,
                   .targetProvider = ProviderKind::CalDav,
                   .targetDomains = {"home.example"},
                   .targetInvitesAttendees = false,
                   .targetZone = "UTC"};
  return Evaluator{}.evaluate(rules, OrgPolicy::none("corp.example"), src, ctx);
}

}  // namespace

TEST_CASE("content hash: a fixed value across runs, processes and machines", "[policy][hash]") {
  Event src = sourceEvent();
  src.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=3"};
  const auto d = baseDecision(src);
  REQUIRE(d.approved());
  // Persisted by the sync engine, so it must never change for the same input. If this golden value
  // changes, the canonical form changed: bump its version line and plan a re-hash of stored mappings.
  CHECK(contentHash(*d.write) == "39685f535ba5295f91d7afcadf9d3af3b9a7a569761805b9b50c496b11e7feb2");
}

TEST_CASE("keyed fingerprints: HMAC under calgate's key, matching either stored form, never the plain hash", "[policy][hash]") {
  const auto d = baseDecision(sourceEvent());
  REQUIRE(d.approved());
  const ContentHasher keyed(std::string(32, 'k')), other(std::string(32, 'o')), plain;
  const std::string h = keyed.of(*d.write);
  CHECK(h.rfind("k1:", 0) == 0);
  CHECK(h.size() == 67);
  CHECK(h.substr(3) != contentHash(*d.write));
  CHECK(h.substr(3) == calgate::core::hmacSha256Hex(std::string(32, 'k'), canonicalForm(*d.write)));
  CHECK(keyed.matches(h, *d.write));
  CHECK(keyed.matches(contentHash(*d.write), *d.write));  // an older copy's plain form
  CHECK_FALSE(other.matches(h, *d.write));                // another key's
  CHECK_FALSE(plain.matches(h, *d.write));                // no key: a keyed form never matches
  CHECK(plain.of(*d.write) == contentHash(*d.write));
  CHECK(keyed.current(h));
  CHECK_FALSE(keyed.current(contentHash(*d.write)));
  CHECK(plain.current(contentHash(*d.write)));
  CHECK_FALSE(keyed.matches("k1:" + std::string(64, '0'), *d.write));
}

TEST_CASE("content hash ignores attendee and recurrence order, and changes with any written field", "[policy][hash]") {
  Event src = sourceEvent();
  src.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20261201T140000Z"};
  const std::string base = contentHash(*baseDecision(src).write);

  Event reordered = src;
  std::reverse(reordered.attendees.begin(), reordered.attendees.end());
  std::reverse(reordered.recurrence.begin(), reordered.recurrence.end());
  reordered.attendees.push_back("CEO@acme.com");  // same address, other case: a duplicate
  // Delete hashes cover the occurrence
  CHECK(contentHash(*baseDecision(reordered).write) == base);

  // not written, so not hashed
  Event notWritten = src;
  notWritten.etag = "other";
  notWritten.id = "other";
  notWritten.sequence = 99;
  notWritten.organizer = "x@y.z";
  notWritten.updated = sys_seconds{seconds{1}};
  CHECK(contentHash(*baseDecision(notWritten).write) == base);

  std::vector<std::pair<std::string, std::function<void(Event&)>>> mutations = {
      {"title", [](Event& e) { e.title += "!"; }},
      {"description", [](Event& e) { e.description += "!"; }},
      {"location", [](Event& e) { e.location += "!"; }},
      {"start", [](Event& e) { std::get<ZonedTime>(e.start).instant += minutes(5); }},
      {"end", [](Event& e) { std::get<ZonedTime>(e.end).instant += minutes(5); }},
      {"zone", [](Event& e) { std::get<ZonedTime>(e.start).zone = "Europe/Dublin"; }},
      {"all-day", [](Event& e) { e.start = Date{2026y / 11 / 24}; e.end = Date{2026y / 11 / 25}; }},
      {"recurrence", [](Event& e) { e.recurrence.push_back("EXDATE:20261208T140000Z"); }},
      {"recurrence-id", [](Event& e) { e.recurrenceId = e.start; }},
      {"status", [](Event& e) { e.status = Status::Tentative; }},
      {"show-as", [](Event& e) { e.showAs = ShowAs::Free; }},
      {"sensitivity", [](Event& e) { e.sensitivity = Sensitivity::Confidential; }},
      {"attendee added", [](Event& e) { e.attendees.push_back("new@acme.com"); }},
      {"attendee removed", [](Event& e) { e.attendees.pop_back(); }},
      {"cancelled", [](Event& e) { e.status = Status::Cancelled; }},
  };
  std::set<std::string> seen = {base};
  for (const auto& [name, mutate] : mutations) {
    Event changed = src;
    mutate(changed);
    const auto hash = contentHash(*baseDecision(changed).write);
    INFO(name);
    CHECK(hash != base);
    seen.insert(hash);
  }
  CHECK(seen.size() == mutations.size() + 1);

  // the pair's rules change what is written, and so the hash
  PairRules clearing;
  clearing.description = FieldRule::Clear;
  CHECK(contentHash(*baseDecision(src, clearing).write) != base);
  PairRules label = privateRules();
  const auto busy = contentHash(*baseDecision(src, label).write);
  label.label = "Away";
  CHECK(contentHash(*baseDecision(src, label).write) != busy);
}

// The product pages' mapping tables across providers: what a copy becomes when it crosses from one
// provider to another never loosens its privacy, and free/busy survives.

TEST_CASE("sensitivity across providers never loosens", "[providers]") {
  struct Row {
    std::string graph, google, ical;
  };
  // Graph source -> Google and iCal targets
  const std::vector<Row> fromGraph = {{"normal", "default", "PUBLIC"},
                                      {"personal", "private", "PRIVATE"},
                                      {"private", "private", "PRIVATE"},
                                      {"confidential", "confidential", "CONFIDENTIAL"}};
  for (const auto& r : fromGraph) {
    const auto s = ms::sensitivityFrom(r.graph);
    CHECK(gg::visibilityFor(s) == r.google);
    CHECK(ic::classFor(s) == r.ical);
  }
  // Google source -> Graph and iCal targets
  const std::vector<Row> fromGoogle = {{"normal", "default", "PUBLIC"},
                                       {"normal", "public", "PUBLIC"},
                                       {"private", "private", "PRIVATE"},
                                       {"confidential", "confidential", "CONFIDENTIAL"}};
  for (const auto& r : fromGoogle) {
    const auto s = gg::sensitivityFromVisibility(r.google);
    CHECK(ms::sensitivityFor(s) == r.graph);
    CHECK(ic::classFor(s) == r.ical);
  }
  // iCal source -> Graph and Google targets
  CHECK(ms::sensitivityFor(ic::sensitivityFromClass("CONFIDENTIAL")) == "confidential");
  CHECK(gg::visibilityFor(ic::sensitivityFromClass("PRIVATE")) == "private");
  CHECK(gg::visibilityFor(ic::sensitivityFromClass(std::nullopt)) == "public");
}

TEST_CASE("free/busy: Graph showAs (five values) <-> Google transparency <-> iCal TRANSP", "[providers][seed]") {
  struct Row {
    std::string showAs, transparency, transp;
  };
  const std::vector<Row> rows = {{"free", "transparent", "TRANSPARENT"},
                                 {"tentative", "opaque", "OPAQUE"},
                                 {"busy", "opaque", "OPAQUE"},
                                 {"oof", "opaque", "OPAQUE"},
                                 {"workingElsewhere", "opaque", "OPAQUE"}};
  for (const auto& r : rows) {
    INFO(r.showAs);
    const ShowAs s = ms::showAsFrom(r.showAs);
    CHECK(ms::showAsFor(s) == r.showAs);  // Graph -> Graph keeps all five
    CHECK(gg::transparencyFor(s) == r.transparency);
    CHECK(ic::transpFor(s) == r.transp);
  }
  CHECK(ms::showAsFor(gg::showAsFromTransparency("transparent")) == "free");
  CHECK(ms::showAsFor(gg::showAsFromTransparency("opaque")) == "busy");
  CHECK(ms::showAsFor(gg::showAsFromTransparency("")) == "busy");
  CHECK(ms::showAsFor(ic::showAsFromTransp("TRANSPARENT")) == "free");
  CHECK(ms::showAsFor(ic::showAsFromTransp(std::nullopt)) == "busy");
  CHECK(gg::transparencyFor(ic::showAsFromTransp("TRANSPARENT")) == "transparent");
  CHECK(ic::transpFor(gg::showAsFromTransparency("transparent")) == "TRANSPARENT");
  CHECK(ms::showAsFrom("unknown") == ShowAs::Busy);
}
