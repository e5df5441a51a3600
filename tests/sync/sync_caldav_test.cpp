// The sync engine between two real CalDAV servers: Radicale -> Xandikos (one-way) and back
// (two-way). Needs the caldav service fixture (tests/services/caldav.sh).
#include "calgate/providers/caldav/caldav_provider.hpp"
#include "calgate/providers/http/http_client.hpp"
#include "sync/dav_pair.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <algorithm>


using namespace calgate;
using namespace calgate::sync;
using namespace calgate::model;
using namespace calgate::providers;
using namespace calgate::providers::caldav;
using namespace std::chrono;
using calgate::test::DavPair;
using calgate::test::SyncFixture;

namespace {

std::string vevent(const std::string& uid, const std::string& summary, const std::string& start,
                   const std::string& end, const std::string& extra = "") {
  return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261121T000000Z\r\nDTSTART" + start + "\r\nDTEND" + end +
         "\r\nSUMMARY:" + summary + "\r\nDESCRIPTION:notes of " + summary + "\r\n" + extra + "END:VEVENT\r\n";
}

const Event* titled(const std::vector<Event>& events, const std::string& title) {
  for (const auto& e : events) {
    if (e.title == title) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("Radicale -> Xandikos: create, time zones, all-day, series, update, delete, restore", "[sync][caldav]") {
  DavPair p(Direction::OneWay);
  p.source.put(p.sourceCal, "timed", vevent("timed", "Planning", ";TZID=America/New_York:20261202T100000",
                                            ";TZID=America/New_York:20261202T113000"));
  p.source.put(p.sourceCal, "allday", vevent("allday", "Offsite", ";VALUE=DATE:20261210", ";VALUE=DATE:20261212"));
  const std::string master = vevent("weekly", "Weekly", ";TZID=Europe/Berlin:20261201T090000",
                                    ";TZID=Europe/Berlin:20261201T093000",
                                    "RRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;TZID=Europe/Berlin:20261215T090000\r\n");
  const std::string moved =
      vevent("weekly", "Weekly (moved)", ";TZID=Europe/Berlin:20261208T110000", ";TZID=Europe/Berlin:20261208T113000",
             "RECURRENCE-ID;TZID=Europe/Berlin:20261208T090000\r\n");
  p.source.put(p.sourceCal, "weekly", master + moved);
  const std::string doomed = p.source.put(p.sourceCal, "doomed", vevent("doomed", "Doomed", ";VALUE=DATE:20261220",
                                                                       ";VALUE=DATE:20261221"));
  auto r = p.sync();
  CHECK(r.created == 4);
  CHECK(p.writes == 5);  // four resources, and the moved occurrence joins its series

  auto copies = p.target.events(p.targetCal);
  const Event* planning = titled(copies, "Planning");
  REQUIRE(planning);
  CHECK(std::get<ZonedTime>(planning->start).zone == "America/New_York");
  CHECK(std::get<ZonedTime>(planning->start).instant == sys_days(2026y / December / 2) + hours(15));
  REQUIRE(planning->origin);
  const Event* offsite = titled(copies, "Offsite");
  REQUIRE(offsite);
  REQUIRE(offsite->allDay());
  CHECK(std::get<Date>(offsite->end).day == 2026y / December / 12);
  const Event* weekly = titled(copies, "Weekly");
  REQUIRE(weekly);
  CHECK(std::any_of(weekly->recurrence.begin(), weekly->recurrence.end(),
                    [](const std::string& l) { return l.rfind("RRULE:FREQ=WEEKLY", 0) == 0; }));
  CHECK(std::any_of(weekly->recurrence.begin(), weekly->recurrence.end(),
                    [](const std::string& l) { return l.rfind("EXDATE", 0) == 0; }));
  const Event* movedCopy = titled(copies, "Weekly (moved)");
  REQUIRE(movedCopy);
  REQUIRE(movedCopy->recurrenceId);
  CHECK(movedCopy->id == weekly->id);  // one resource: the series with its exception

  // nothing changed: nothing written
  CHECK(p.sync().writes() == 0);
  CHECK(p.writes == 5);

  // a change and a deletion at the source
  p.source.put(p.sourceCal, "timed", vevent("timed", "Planning v2", ";TZID=America/New_York:20261202T100000",
                                            ";TZID=America/New_York:20261202T120000"));
  p.source.remove(doomed);
  auto r2 = p.sync();
  CHECK(r2.updated == 1);
  CHECK(r2.deleted == 1);
  copies = p.target.events(p.targetCal);
  CHECK(titled(copies, "Planning v2"));
  CHECK_FALSE(titled(copies, "Planning"));
  CHECK_FALSE(titled(copies, "Doomed"));

  // a user edits the copy in Xandikos: restored
  const std::string copyHref = titled(copies, "Offsite")->id;
  p.target.put(p.targetCal, copyHref.substr(p.targetCal.size(), copyHref.size() - p.targetCal.size() - 4),
               vevent(titled(copies, "Offsite")->uid, "Mine now", ";VALUE=DATE:20261210", ";VALUE=DATE:20261212"));
  auto r3 = p.sync();
  CHECK(r3.restored == 1);
  CHECK(titled(p.target.events(p.targetCal), "Offsite"));
  CHECK(p.sync().writes() == 0);
}

TEST_CASE("Radicale <-> Xandikos two-way: originals cross over, copies never echo", "[sync][caldav]") {
  DavPair p(Direction::TwoWay);
  p.source.put(p.sourceCal, "r1", vevent("r1", "From Radicale", ";TZID=Europe/Berlin:20261203T090000",
                                         ";TZID=Europe/Berlin:20261203T100000"));
  p.target.put(p.targetCal, "x1", vevent("x1", "From Xandikos", ";TZID=Europe/Berlin:20261204T090000",
                                         ";TZID=Europe/Berlin:20261204T100000"));
  auto r = p.sync();
  CHECK(r.created == 2);
  CHECK(titled(p.source.events(p.sourceCal), "From Xandikos"));
  CHECK(titled(p.target.events(p.targetCal), "From Radicale"));
  CHECK(p.sync().writes() == 0);
  CHECK(p.sync().writes() == 0);

  // an edit on the Xandikos side flows back; a deletion there removes the Radicale copy
  p.target.put(p.targetCal, "x1", vevent("x1", "From Xandikos v2", ";TZID=Europe/Berlin:20261204T090000",
                                         ";TZID=Europe/Berlin:20261204T110000"));
  auto r2 = p.sync();
  CHECK(r2.updated == 1);
  CHECK(titled(p.source.events(p.sourceCal), "From Xandikos v2"));
  p.target.remove(p.targetCal + "x1.ics");
  auto r3 = p.sync();
  CHECK(r3.deleted == 1);
  CHECK_FALSE(titled(p.source.events(p.sourceCal), "From Xandikos v2"));
  CHECK(p.source.events(p.sourceCal).size() == 1);
  CHECK(p.target.events(p.targetCal).size() == 1);
  CHECK(p.sync().writes() == 0);
}

TEST_CASE("a tampered mapping pointing at a user's own event: no write to it, an audited failure", "[sync][caldav][binding]") {
  DavPair p(Direction::OneWay);
  p.source.put(p.sourceCal, "standup", vevent("standup", "Standup", ";VALUE=DATE:20261203", ";VALUE=DATE:20261204"));
  p.sync();
  // the user's own event in the target calendar, and a mapping pointed at it behind calgate's back
  const std::string own = p.target.put(p.targetCal, "my-own", vevent("my-own", "Dentist", ";VALUE=DATE:20261205",
                                                                     ";VALUE=DATE:20261206"));
  long long changed = 0;
  REQUIRE(p.f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    soci::statement st = (sql.prepare << "UPDATE mappings SET target_event_id = :o WHERE pair_id = :p",
                          soci::use(own), soci::use(p.pairId));
    st.execute(true);
    changed = st.get_affected_rows();
    return {};
  }));
  REQUIRE(changed == 1);
  // the source changes: the run means to update "its copy", which now names the user's event
  p.source.put(p.sourceCal, "standup", vevent("standup", "Standup (moved)", ";VALUE=DATE:20261203",
                                              ";VALUE=DATE:20261204"));
  auto r = p.sync();
  CHECK(r.updated == 0);
  CHECK(r.failedEvents.size() == 1);
  const auto events = p.target.events(p.targetCal);
  const auto dentist = std::find_if(events.begin(), events.end(), [](const Event& e) { return e.uid == "my-own"; });
  REQUIRE(dentist != events.end());
  CHECK(dentist->title == "Dentist");  // untouched
  bool audited = false;
  for (const auto& e : p.f.auditEntries()) {
    if (e.entry.action != "sync.write_failed") continue;
    for (const auto& reason : e.entry.reasons) audited = audited || reason.find("refusing to change") != std::string::npos;
  }
  CHECK(audited);
}
