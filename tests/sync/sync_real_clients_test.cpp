// Calendar files as real clients export them (Apple Calendar, Outlook, Thunderbird), put on one real
// CalDAV server and copied by a pair to the other, in full and in private mode, both ways round
// (Radicale -> Xandikos, Xandikos -> Radicale). Every occurrence of every copy inside the window is
// checked against the occurrences the source means, with the zone written and the show-as; a second
// run writes nothing; what calgate cannot take is shown (report, skipped_resources, preview).
#include "calgate/model/occurrences.hpp"
#include "calgate/sync/skip_store.hpp"
#include "sync/dav_pair.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::test::DavPair;

namespace {

const char* kOutlookBerlin =
    "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

const char* kOutlookCustomEastern =
    "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16011104T020000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010311T020000\r\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nTZOFFSETFROM:-0500\r\n"
    "TZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

const char* kAppleBerlin =
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=3;"
    "BYDAY=-1SU\r\nDTSTART:19810329T020000\r\nTZNAME:CEST\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nDTSTART:19961027T030000\r\nTZNAME:CET\r\n"
    "TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

std::string outlook(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nVERSION:2.0\r\n"
         "METHOD:PUBLISH\r\nX-MS-OLK-FORCEINSPECTOROPEN:TRUE\r\n" + body + "END:VCALENDAR\r\n";
}
std::string apple(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 14.6//EN\r\nCALSCALE:GREGORIAN\r\n" + body +
         "END:VCALENDAR\r\n";
}
std::string thunderbird(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\nVERSION:2.0\r\n" + body +
         "END:VCALENDAR\r\n";
}

/// The files, as the clients wrote them.
struct File {
  std::string name, text;
};
std::vector<File> realClientFiles() {
  return {
      // Apple Calendar: "all future events" of a weekly meeting moved to the afternoon, across DST.
      {"apple-thisandfuture",
       apple(std::string(kAppleBerlin) +
             "BEGIN:VEVENT\r\nUID:A1B2C3D4-apple-weekly\r\nDTSTAMP:20261101T120000Z\r\nCREATED:20261101T115900Z\r\n"
             "DTSTART;TZID=Europe/Berlin:20261102T090000\r\nDTEND;TZID=Europe/Berlin:20261102T100000\r\n"
             "RRULE:FREQ=WEEKLY;COUNT=30\r\nSUMMARY:Weekly sync\r\nSEQUENCE:0\r\nEND:VEVENT\r\n"
             "BEGIN:VEVENT\r\nUID:A1B2C3D4-apple-weekly\r\nDTSTAMP:20261101T120000Z\r\n"
             "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20261116T090000\r\n"
             "DTSTART;TZID=Europe/Berlin:20261116T140000\r\nDTEND;TZID=Europe/Berlin:20261116T153000\r\n"
             "SUMMARY:Weekly sync (afternoon)\r\nSEQUENCE:1\r\nEND:VEVENT\r\n")},
      // Outlook: a weekly series in a Windows zone, one occurrence cancelled (EXDATE in that zone).
      {"outlook-windows-zone",
       outlook(std::string(kOutlookBerlin) +
               "BEGIN:VEVENT\r\nCLASS:PUBLIC\r\nCREATED:20261120T100000Z\r\n"
               "DTEND;TZID=\"W. Europe Standard Time\":20261201T110000\r\nDTSTAMP:20261120T100000Z\r\n"
               "DTSTART;TZID=\"W. Europe Standard Time\":20261201T100000\r\n"
               "EXDATE;TZID=\"W. Europe Standard Time\":20261222T100000\r\nPRIORITY:5\r\n"
               "RRULE:FREQ=WEEKLY;COUNT=20;BYDAY=TU\r\nSEQUENCE:0\r\nSUMMARY;LANGUAGE=en-gb:Team meeting\r\n"
               "TRANSP:OPAQUE\r\nUID:040000008200E00074C5B7101A82E00800000000outlookweekly\r\n"
               "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nX-MICROSOFT-CDO-IMPORTANCE:1\r\nEND:VEVENT\r\n")},
      // Outlook: "Customized Time Zone" (US Eastern rules), weekly across the US DST change.
      {"outlook-custom-zone",
       outlook(std::string(kOutlookCustomEastern) +
               "BEGIN:VEVENT\r\nCLASS:PUBLIC\r\nDTSTART;TZID=\"Customized Time Zone\":20270203T083000\r\n"
               "DTEND;TZID=\"Customized Time Zone\":20270203T090000\r\nDTSTAMP:20261120T100000Z\r\n"
               "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=WE\r\nSUMMARY:NY stand-up\r\nTRANSP:OPAQUE\r\n"
               "UID:040000008200E00074C5B7101A82E00800000000outlookcustom\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
               "END:VEVENT\r\n")},
      // Outlook: out of office over CalDAV.
      {"outlook-oof",
       outlook(std::string(kOutlookBerlin) +
               "BEGIN:VEVENT\r\nCLASS:PUBLIC\r\nDTSTART;TZID=\"W. Europe Standard Time\":20261207T090000\r\n"
               "DTEND;TZID=\"W. Europe Standard Time\":20261207T170000\r\nDTSTAMP:20261120T100000Z\r\n"
               "SUMMARY:Off sick\r\nTRANSP:OPAQUE\r\nUID:040000008200E00074C5B7101A82E00800000000outlookoof\r\n"
               "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nX-MICROSOFT-CDO-INTENDEDSTATUS:OOF\r\nEND:VEVENT\r\n")},
      // Thunderbird: an invitation to one occurrence of someone else's series (no master).
      {"thunderbird-orphan",
       thunderbird("BEGIN:VEVENT\r\nCREATED:20261120T100000Z\r\nDTSTAMP:20261120T100000Z\r\n"
                   "UID:b7f0c7b2-orphan-occurrence\r\nSUMMARY:Architecture review (one session)\r\n"
                   "RECURRENCE-ID:20261203T150000Z\r\nDTSTART:20261203T150000Z\r\nDTEND:20261203T160000Z\r\n"
                   "ORGANIZER:mailto:lead@other.example\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:me@work.example\r\n"
                   "END:VEVENT\r\n")},
      // Two events of different UIDs in one resource (Xandikos stores it, Radicale refuses it).
      {"two-uids",
       thunderbird("BEGIN:VEVENT\r\nUID:first-of-two\r\nDTSTAMP:20261120T100000Z\r\nDTSTART:20261209T090000Z\r\n"
                   "DTEND:20261209T100000Z\r\nSUMMARY:First\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:second-of-two\r\n"
                   "DTSTAMP:20261120T100000Z\r\nDTSTART:20261210T090000Z\r\nDTEND:20261210T100000Z\r\n"
                   "SUMMARY:Second\r\nEND:VEVENT\r\n")},
      // RFC 2445's THISANDPRIOR: calgate cannot take it, and says so.
      {"thisandprior",
       thunderbird("BEGIN:VEVENT\r\nUID:old-range\r\nDTSTAMP:20261120T100000Z\r\nDTSTART:20261204T090000Z\r\n"
                   "DTEND:20261204T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:Old client\r\nEND:VEVENT\r\n"
                   "BEGIN:VEVENT\r\nUID:old-range\r\nDTSTAMP:20261120T100000Z\r\n"
                   "RECURRENCE-ID;RANGE=THISANDPRIOR:20261205T090000Z\r\nDTSTART:20261205T110000Z\r\n"
                   "DTEND:20261205T120000Z\r\nSUMMARY:Old client\r\nEND:VEVENT\r\n")},
  };
}

sys_seconds at(int y, unsigned m, unsigned d, int h, int mi, const std::string& zone) {
  auto z = model::zonedFromLocal(local_days{year(y) / m / d} + hours(h) + minutes(mi), zone);
  REQUIRE(z);
  return z->instant;
}

using Span = std::pair<sys_seconds, sys_seconds>;

/// Every occurrence the files mean, as UTC instants (the skipped file has none).
std::multiset<Span> expectedOccurrences(bool orphanStored) {
  std::multiset<Span> out;
  auto weekly = [&](int y, unsigned m, unsigned d, int h, int mi, minutes length, int count, const std::string& zone,
                    std::set<int> skip = {}) {
    const local_days first{year(y) / m / d};
    for (int i = 0; i < count; ++i) {
      if (skip.count(i)) continue;
      const auto day = year_month_day(first + days(7 * i));
      const auto start = at(static_cast<int>(day.year()), static_cast<unsigned>(day.month()),
                            static_cast<unsigned>(day.day()), h, mi, zone);
      out.insert({start, start + length});
    }
  };
  weekly(2026, 11, 2, 9, 0, minutes(60), 2, "Europe/Berlin");                   // before the change
  weekly(2026, 11, 16, 14, 0, minutes(90), 28, "Europe/Berlin");                // from it on, across 28 March
  weekly(2026, 12, 1, 10, 0, minutes(60), 20, "Europe/Berlin", {3});            // Outlook, 22 December cancelled
  weekly(2027, 2, 3, 8, 30, minutes(30), 10, "America/New_York");               // across 14 March (US)
  out.insert({at(2026, 12, 7, 9, 0, "Europe/Berlin"), at(2026, 12, 7, 17, 0, "Europe/Berlin")});  // OOF
  if (orphanStored) out.insert({at(2026, 12, 3, 15, 0, "UTC"), at(2026, 12, 3, 16, 0, "UTC")});  // invited to one
  return out;
}

std::multiset<Span> occurrencesOf(const std::vector<model::Event>& events, const providers::TimeWindow& window) {
  auto occ = model::expandOccurrences(events, window.from, window.to, "Europe/Berlin");
  REQUIRE(occ);
  std::multiset<Span> out;
  for (const auto& o : *occ) out.insert({o.startInstant, o.endInstant});
  return out;
}

std::string describe(const std::multiset<Span>& spans) {
  std::string out;
  for (const auto& [s, e] : spans) out += model::formatUtc(s) + "/" + model::formatUtc(e) + "\n";
  return out;
}

void runRealClientFiles(const std::string& from, const std::string& to, policy::PrivacyMode mode) {
  INFO(from << " -> " << to << (mode == policy::PrivacyMode::Private ? " private" : " full"));
  DavPair p(Direction::OneWay, from, to);
  policy::PairRules rules;
  rules.mode = mode;
  REQUIRE(PairStore(p.f.t.db(), p.f.clock).setRules(p.pairId, rules));
  bool orphanStored = true, twoUidsStored = true;
  for (const auto& file : realClientFiles()) {
    INFO(file.name);
    const int status = p.source.putFile(p.sourceCal, file.name, file.text);
    // Radicale refuses a resource without its master, and one with two UIDs; Xandikos stores both
    if (file.name == "thunderbird-orphan" && status == 400) {
      orphanStored = false;
      continue;
    }
    if (file.name == "two-uids" && status == 400) {
      twoUidsStored = false;
      continue;
    }
    REQUIRE((status == 201 || status == 204));
  }
  const std::size_t skippedFiles = twoUidsStored ? 2 : 1;
  auto preview = p.f.engine->planPair(p.pairId, *p.source.provider, *p.target.provider);
  REQUIRE(preview);
  std::map<std::string, std::string> skippedSteps;  // resource -> reason, as the preview shows them
  for (const auto& s : preview->directions.front().steps) {
    if (s.kind == StepKind::Skipped) skippedSteps[s.eventId.substr(s.eventId.rfind('/') + 1)] = s.reasons.front();
  }
  REQUIRE(skippedSteps.size() == skippedFiles);
  CHECK_THAT(skippedSteps["thisandprior.ics"], Catch::Contains("THISANDPRIOR"));
  if (twoUidsStored) CHECK_THAT(skippedSteps["two-uids.ics"], Catch::Contains("more than one UID"));

  auto r = p.sync();
  CHECK(r.skippedResources == skippedFiles);
  // two parts of the Apple series, two Outlook series, the OOF day, the lone occurrence
  CHECK(r.created == (orphanStored ? 6u : 5u));

  const auto window = providers::TimeWindow::around(sys_seconds(seconds(p.f.clock.nowUnixSeconds())), 90, 365);
  const auto copies = p.target.events(p.targetCal);
  const auto expected = expectedOccurrences(orphanStored);
  const auto actual = occurrencesOf(copies, window);
  INFO("copies:\n" << describe(actual) << "expected:\n" << describe(expected));
  CHECK(actual == expected);

  std::set<std::string> zones;
  for (const auto& e : copies) {
    if (const auto* z = std::get_if<model::ZonedTime>(&e.start)) zones.insert(z->zone);
    CHECK(e.origin);
    if (mode == policy::PrivacyMode::Private) CHECK(e.title == "Busy");
  }
  // Windows and custom zones arrive as IANA zones (wall-clock rules kept), never as UTC instants
  std::set<std::string> expectedZones{"Europe/Berlin", "America/New_York"};
  if (orphanStored) expectedZones.insert("UTC");  // the lone occurrence was written in UTC
  CHECK(zones == expectedZones);
  const auto oof = std::find_if(copies.begin(), copies.end(), [&](const model::Event& e) {
    return std::get<model::ZonedTime>(e.start).instant == at(2026, 12, 7, 9, 0, "Europe/Berlin");
  });
  REQUIRE(oof != copies.end());
  CHECK(oof->showAs == model::ShowAs::OutOfOffice);
  if (mode == policy::PrivacyMode::Full) {
    const auto afternoon = std::find_if(copies.begin(), copies.end(),
                                        [](const model::Event& e) { return e.title == "Weekly sync (afternoon)"; });
    CHECK(afternoon != copies.end());
  }

  auto list = SkipStore(p.f.t.db(), p.f.clock).list(p.pairId);
  REQUIRE(list);
  REQUIRE(list->size() == skippedFiles);
  for (const auto& entry : *list) CHECK(skippedSteps[entry.sourceEventId.substr(entry.sourceEventId.rfind('/') + 1)] == entry.reason);
  auto again = p.sync();
  CHECK(again.writes() == 0);
  CHECK(p.sync().writes() == 0);
}

}  // namespace

TEST_CASE("real clients' files: Radicale -> Xandikos, full and private", "[sync][caldav][real-clients]") {
  runRealClientFiles("radicale", "xandikos", policy::PrivacyMode::Full);
  runRealClientFiles("radicale", "xandikos", policy::PrivacyMode::Private);
}

TEST_CASE("real clients' files: Xandikos -> Radicale, full and private", "[sync][caldav][real-clients]") {
  runRealClientFiles("xandikos", "radicale", policy::PrivacyMode::Full);
  runRealClientFiles("xandikos", "radicale", policy::PrivacyMode::Private);
}

TEST_CASE("a lone occurrence copied on its own is replaced by the series copy when the series arrives",
          "[sync][caldav][real-clients]") {
  DavPair p(Direction::OneWay, "xandikos", "radicale");  // Radicale refuses a lone occurrence
  const std::string occurrence =
      "BEGIN:VEVENT\r\nUID:later-series\r\nDTSTAMP:20261120T100000Z\r\nRECURRENCE-ID:20261208T150000Z\r\n"
      "DTSTART:20261208T160000Z\r\nDTEND:20261208T170000Z\r\nSUMMARY:Review (moved)\r\nEND:VEVENT\r\n";
  const int stored = p.source.putFile(p.sourceCal, "later-series", thunderbird(occurrence));
  REQUIRE((stored == 201 || stored == 204));
  CHECK(p.sync().created == 1);
  CHECK(p.target.events(p.targetCal).size() == 1);
  const std::string master = "BEGIN:VEVENT\r\nUID:later-series\r\nDTSTAMP:20261120T100000Z\r\nDTSTART:20261201T150000Z\r\n"
                             "DTEND:20261201T160000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Review\r\nEND:VEVENT\r\n";
  const int status = p.source.putFile(p.sourceCal, "later-series", thunderbird(master + occurrence));
  REQUIRE((status == 201 || status == 204));
  auto r = p.sync();
  CHECK(r.deleted == 1);  // the lone copy
  CHECK(r.created == 1);  // the series copy, which carries the moved occurrence
  const auto copies = p.target.events(p.targetCal);
  const auto window = providers::TimeWindow::around(sys_seconds(seconds(p.f.clock.nowUnixSeconds())), 90, 365);
  CHECK(occurrencesOf(copies, window) ==
        std::multiset<Span>{{at(2026, 12, 1, 15, 0, "UTC"), at(2026, 12, 1, 16, 0, "UTC")},
                            {at(2026, 12, 8, 16, 0, "UTC"), at(2026, 12, 8, 17, 0, "UTC")},
                            {at(2026, 12, 15, 15, 0, "UTC"), at(2026, 12, 15, 16, 0, "UTC")}});
  CHECK(p.sync().writes() == 0);
}

TEST_CASE("a THISANDFUTURE change made later splits an already copied series", "[sync][caldav][real-clients]") {
  DavPair p(Direction::OneWay);
  const std::string master = "BEGIN:VEVENT\r\nUID:split-later\r\nDTSTAMP:20261120T100000Z\r\n"
                             "DTSTART;TZID=Europe/Berlin:20261130T100000\r\nDTEND;TZID=Europe/Berlin:20261130T110000\r\n"
                             "RRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Planning\r\nEND:VEVENT\r\n";
  const int stored = p.source.putFile(p.sourceCal, "split-later", apple(std::string(kAppleBerlin) + master));
  REQUIRE((stored == 201 || stored == 204));
  CHECK(p.sync().created == 1);
  const std::string change = "BEGIN:VEVENT\r\nUID:split-later\r\nDTSTAMP:20261121T100000Z\r\n"
                             "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20261214T100000\r\n"
                             "DTSTART;TZID=Europe/Berlin:20261215T100000\r\nDTEND;TZID=Europe/Berlin:20261215T110000\r\n"
                             "SUMMARY:Planning (Tuesdays)\r\nEND:VEVENT\r\n";
  const int status = p.source.putFile(p.sourceCal, "split-later", apple(std::string(kAppleBerlin) + master + change));
  REQUIRE((status == 201 || status == 204));
  auto r = p.sync();
  CHECK(r.updated == 1);  // the series now ends before the change
  CHECK(r.created == 1);  // the part from the change on
  const auto window = providers::TimeWindow::around(sys_seconds(seconds(p.f.clock.nowUnixSeconds())), 90, 365);
  std::multiset<Span> expected;
  for (unsigned d : {30u}) expected.insert({at(2026, 11, d, 10, 0, "Europe/Berlin"), at(2026, 11, d, 11, 0, "Europe/Berlin")});
  expected.insert({at(2026, 12, 7, 10, 0, "Europe/Berlin"), at(2026, 12, 7, 11, 0, "Europe/Berlin")});
  for (unsigned d : {15u, 22u, 29u}) {
    expected.insert({at(2026, 12, d, 10, 0, "Europe/Berlin"), at(2026, 12, d, 11, 0, "Europe/Berlin")});
  }
  expected.insert({at(2027, 1, 5, 10, 0, "Europe/Berlin"), at(2027, 1, 5, 11, 0, "Europe/Berlin")});
  CHECK(occurrencesOf(p.target.events(p.targetCal), window) == expected);
  CHECK(p.sync().writes() == 0);

  // the change is withdrawn: the second part goes, the series is whole again
  const int again = p.source.putFile(p.sourceCal, "split-later", apple(std::string(kAppleBerlin) + master));
  REQUIRE((again == 200 || again == 201 || again == 204));
  auto back = p.sync();
  CHECK(back.deleted == 1);
  CHECK(back.updated == 1);
  std::multiset<Span> whole;
  for (int i = 0; i < 6; ++i) {
    const auto day = year_month_day(local_days{2026y / 11 / 30} + days(7 * i));
    const auto s = at(static_cast<int>(day.year()), static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()),
                      10, 0, "Europe/Berlin");
    whole.insert({s, s + hours(1)});
  }
  CHECK(occurrencesOf(p.target.events(p.targetCal), window) == whole);
  CHECK(p.sync().writes() == 0);
}

namespace {

/// Series copies heal on `to` as the target: a copy the user deleted comes back whole when the
/// source changes; a copy deleted right after calgate wrote it is noticed; a crash between a PUT
/// and its record causes no second write.
void seriesCopiesHeal(const std::string& from, const std::string& to) {
  INFO(from << " -> " << to);
  DavPair p(Direction::OneWay, from, to);
  const std::string master = "BEGIN:VEVENT\r\nUID:heal-series\r\nDTSTAMP:20261120T100000Z\r\n"
                             "DTSTART;TZID=Europe/Berlin:20261130T090000\r\nDTEND;TZID=Europe/Berlin:20261130T100000\r\n"
                             "RRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;TZID=Europe/Berlin:20261214T090000\r\nSUMMARY:%s\r\n"
                             "END:VEVENT\r\n";
  const std::string moved = "BEGIN:VEVENT\r\nUID:heal-series\r\nDTSTAMP:20261120T100000Z\r\n"
                            "RECURRENCE-ID;TZID=Europe/Berlin:20261207T090000\r\nDTSTART;TZID=Europe/Berlin:20261208T150000\r\n"
                            "DTEND;TZID=Europe/Berlin:20261208T160000\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n";
  auto series = [&](const std::string& title) {
    std::string m = master;
    m.replace(m.find("%s"), 2, title);
    return apple(std::string(kAppleBerlin) + m + moved);
  };
  const int stored = p.source.putFile(p.sourceCal, "heal-series", series("Review"));
  REQUIRE((stored == 201 || stored == 204));
  REQUIRE(p.sync().created == 1);
  const auto window = providers::TimeWindow::around(sys_seconds(seconds(p.f.clock.nowUnixSeconds())), 90, 365);
  std::multiset<Span> expected;
  for (unsigned d : {30u}) expected.insert({at(2026, 11, d, 9, 0, "Europe/Berlin"), at(2026, 11, d, 10, 0, "Europe/Berlin")});
  expected.insert({at(2026, 12, 8, 15, 0, "Europe/Berlin"), at(2026, 12, 8, 16, 0, "Europe/Berlin")});  // moved
  for (unsigned d : {21u, 28u}) {
    expected.insert({at(2026, 12, d, 9, 0, "Europe/Berlin"), at(2026, 12, d, 10, 0, "Europe/Berlin")});
  }
  CHECK(occurrencesOf(p.target.events(p.targetCal), window) == expected);

  // the user deletes the copy: kept deleted; the source changes: the copy comes back whole
  const auto copies = p.target.events(p.targetCal);
  REQUIRE_FALSE(copies.empty());
  p.target.remove(copies.front().id);
  CHECK(p.sync().respectedDeletions == 1);
  CHECK(p.sync().writes() == 0);
  const int changed = p.source.putFile(p.sourceCal, "heal-series", series("Review (renamed)"));
  REQUIRE((changed == 201 || changed == 204));
  auto back = p.sync();
  CHECK(back.created == 1);  // the series copy (the moved occurrence joins it: one more write)
  CHECK(occurrencesOf(p.target.events(p.targetCal), window) == expected);
  CHECK(p.sync().writes() == 0);

  // a copy deleted right after calgate wrote it: the next runs know it is gone
  const std::string single = "BEGIN:VEVENT\r\nUID:heal-single\r\nDTSTAMP:20261120T100000Z\r\n"
                             "DTSTART:20261204T090000Z\r\nDTEND:20261204T100000Z\r\nSUMMARY:Single\r\nEND:VEVENT\r\n";
  REQUIRE((p.source.putFile(p.sourceCal, "heal-single", thunderbird(single)) == 201));
  REQUIRE(p.sync().created == 1);
  for (const auto& e : p.target.events(p.targetCal)) {
    if (e.title == "Single") p.target.remove(e.id);
  }
  CHECK(p.sync().respectedDeletions == 1);
  CHECK(p.sync().writes() == 0);

  // a crash between a PUT and its record: the next run recognises calgate's own write
  SyncOptions killed;
  killed.failpoint = [](std::string_view point) -> core::Result<void> {
    if (point == "after_write") return core::fail(core::ErrorCode::Internal, "killed after the PUT");
    return {};
  };
  const int third = p.source.putFile(p.sourceCal, "heal-series", series("Review (third)"));
  REQUIRE((third == 201 || third == 204));
  p.restart(killed);
  REQUIRE_FALSE(p.f.engine->syncPair(p.pairId, *p.source.provider, *p.target.provider));
  p.restart({});
  const std::size_t before = p.writes;
  CHECK(p.sync().writes() == 0);
  CHECK(p.writes == before);
  CHECK(occurrencesOf(p.target.events(p.targetCal), window) == expected);
}

}  // namespace

TEST_CASE("series copies heal with Xandikos as the target", "[sync][caldav][heal]") { seriesCopiesHeal("radicale", "xandikos"); }

TEST_CASE("series copies heal with Radicale as the target", "[sync][caldav][heal]") { seriesCopiesHeal("xandikos", "radicale"); }
