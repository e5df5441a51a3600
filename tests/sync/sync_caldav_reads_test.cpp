// On a real CalDAV server (Radicale), the sync after an initial sync of 1,000 events fetches none
// of the copies calgate wrote: every request the adapter sends is counted.
#include "sync/dav_pair.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace calgate;
using namespace std::chrono;
using calgate::test::Dav;
using calgate::test::SyncFixture;

namespace {

/// Passes requests on and counts them by kind; notes every answer that carries calendar data.
class CountingHttp final : public providers::HttpClient {
 public:
  explicit CountingHttp(providers::HttpClient& inner) : inner_(inner) {}
  core::Result<providers::HttpResponse> send(const providers::HttpRequest& request) override {
    std::string kind = request.method;
    if (request.body.find("calendar-multiget") != std::string::npos) kind += " multiget";
    if (request.body.find("sync-collection") != std::string::npos) kind += " sync-collection";
    ++byKind[kind];
    auto r = inner_.send(request);
    if (r && r->body.find("BEGIN:VEVENT") != std::string::npos) ++withCalendarData;
    return r;
  }
  std::map<std::string, int> byKind;
  int withCalendarData = 0;
  void reset() { byKind.clear(), withCalendarData = 0; }
  int requests() const {
    int n = 0;
    for (const auto& [kind, count] : byKind) n += count;
    return n;
  }
  std::string describe() const {
    std::string out;
    for (const auto& [kind, n] : byKind) out += kind + " x" + std::to_string(n) + "; ";
    return out;
  }

 private:
  providers::HttpClient& inner_;
};

}  // namespace

TEST_CASE("Radicale: the sync after an initial sync of 1000 events fetches no calendar data", "[sync][caldav][reads]") {
  SyncFixture f;
  Dav target("radicale");
  const std::string calendar = target.makeCalendar("reads");
  CountingHttp counting(target.http);
  providers::caldav::CalDavProvider adapter(counting, test::davAccount(target.s), core::systemClock());
  sync::CalendarStore calendars(f.t.db(), f.clock);
  auto cal = calendars.upsert(f.homeCal.accountId, calendar, "radicale", "Europe/Berlin", true);
  REQUIRE(cal);
  sync::NewPair np;
  np.userId = f.userId;
  np.sourceCalendarId = f.workCal.id;
  np.targetCalendarId = cal->id;
  const std::string pairId = sync::PairStore(f.t.db(), f.clock).create(np)->id;
  const auto start = sys_days(2026y / November / 23) + hours(8);
  for (int i = 0; i < 1000; ++i) {
    f.work.userPut(SyncFixture::kWork, {test::timedEvent("r" + std::to_string(i), "Event " + std::to_string(i),
                                                         start + hours(i % 500), minutes(30), "Europe/Berlin")});
  }
  auto initial = f.engine->syncPair(pairId, f.work, adapter);
  INFO((initial ? std::string() : initial.error().describe()));
  REQUIRE(initial);
  CHECK(initial->created == 1000);
  CHECK(counting.byKind["PUT"] == 1000);

  counting.reset();
  f.clock.advance(seconds(30));
  auto resync = f.engine->syncPair(pairId, f.work, adapter);
  REQUIRE(resync);
  CHECK(resync->writes() == 0);
  // the listing names 1,000 new resources, all at the ETags calgate recorded: nothing is fetched
  CHECK(counting.byKind["REPORT sync-collection"] >= 1);
  CHECK(counting.byKind["REPORT multiget"] == 0);
  CHECK(counting.byKind["GET"] == 0);
  CHECK(counting.withCalendarData == 0);
  CHECK(counting.byKind["PUT"] == 0);
  INFO(counting.describe());
  CHECK(counting.requests() == 2);  // PROPFIND (the CTag) and the sync-collection REPORT

  // a copy a user edits in their client is fetched (that one), and put back from its source
  auto copies = target.events(calendar);
  REQUIRE(copies.size() == 1000);
  const std::string href = copies[42].id;
  auto edited = target.send("GET", href);
  REQUIRE(edited.status == 200);
  const auto at = edited.body.find("SUMMARY:");
  REQUIRE(at != std::string::npos);
  edited.body.insert(at + 8, "edited ");
  REQUIRE(target.send("PUT", href, edited.body, {{"Content-Type", "text/calendar"}}).status < 300);
  counting.reset();
  f.clock.advance(seconds(30));
  auto after = f.engine->syncPair(pairId, f.work, adapter);
  REQUIRE(after);
  INFO(counting.describe());
  CHECK(after->writes() == 1);
  CHECK(counting.byKind["REPORT multiget"] == 1);  // the edited copy, and only it
}
