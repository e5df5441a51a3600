// The CalDAV adapter held to the RFC examples in tests/data/contracts (copied from the shared
// contracts) and to scripted servers ([contract]), and the iCalendar mapping to a set of tricky files
// (tests/data/ical): each maps to the model and back without losing a synced field; the iCalendar
// rows of the product pages' mapping tables and the text calgate writes.
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/caldav/caldav_provider.hpp"
#include "calgate/providers/caldav/ical_mapping.hpp"
#include "calgate/providers/caldav/multistatus.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/providers/http/url_guard.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/scripted_http.hpp"
#include "support/sample_event.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace calgate;
using namespace calgate::model;
using namespace calgate::providers;
using namespace calgate::providers::caldav;
using namespace std::chrono;
namespace ic = calgate::providers::caldav;

namespace {

std::string sample(const std::string& name) {
  const auto text = test::readFile(std::string(CALGATE_SOURCE_DIR) + "/tests/data/contracts/" + name);
  REQUIRE_FALSE(text.empty());
  return text;
}

std::string icalFile(const std::string& name) {
  const auto text = test::readFile(std::string(CALGATE_SOURCE_DIR) + "/tests/data/ical/" + name);
  REQUIRE_FALSE(text.empty());
  return text;
}

std::string ctagResponse(const std::string& href, const std::string& ctag, const std::string& token) {
  return "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:cs=\"http://calendarserver.org/ns/\">"
         "<d:response><d:href>" + href + "</d:href><d:propstat><d:prop><cs:getctag>" + ctag +
         "</cs:getctag><d:sync-token>" + token + "</d:sync-token></d:prop><d:status>HTTP/1.1 200 OK</d:status>"
         "</d:propstat></d:response></d:multistatus>";
}

const TimeWindow kWindow{sys_days{2006y / 1 / 1}, sys_days{2030y / 1 / 1}};

}  // namespace

TEST_CASE("multistatus samples parse with namespaces, statuses and sync tokens", "[caldav][contract]") {
  auto initial = parseMultistatus(sample("caldav-rfc6578-3.8-sync-collection-initial.response.xml"));
  REQUIRE(initial);
  CHECK(initial->syncToken == "http://example.com/ns/sync/1234");
  REQUIRE(initial->responses.size() >= 2);
  CHECK(initial->responses[0].href == "/home/cyrusdaboo/test.doc");  // absolute URL reduced to its path
  CHECK(text(initial->responses[0].prop(kDav, "getetag")) == "\"00001-abcd1\"");

  auto truncated = parseMultistatus(sample("caldav-rfc6578-3.10-sync-collection-truncated-507.response.xml"));
  REQUIRE(truncated);
  CHECK(truncated->responses.back().status == std::optional<int>(507));
  CHECK(truncated->syncToken == "http://example.com/ns/sync/1233");

  auto multiget = parseMultistatus(sample("caldav-rfc4791-7.9.1-calendar-multiget.response.xml"));
  REQUIRE(multiget);
  REQUIRE(multiget->responses.size() == 2);
  CHECK_FALSE(text(multiget->responses[0].prop(kCalDav, "calendar-data")).empty());
  CHECK(multiget->responses[1].status == std::optional<int>(404));

  auto query = parseMultistatus(sample("caldav-rfc4791-7.8.1-calendar-query-time-range.response.xml"));
  REQUIRE(query);
  CHECK(query->responses.size() >= 2);

  CHECK_FALSE(parseMultistatus("<notdav/>"));
  CHECK_FALSE(parseMultistatus("<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\">"));
  // a prefix a server may pick is irrelevant; the namespace is what counts
  auto prefixed = parseMultistatus("<x:multistatus xmlns:x=\"DAV:\"><x:response><x:href>/a</x:href>"
                                   "<x:status>HTTP/1.1 404 Not Found</x:status></x:response></x:multistatus>");
  REQUIRE(prefixed);
  CHECK(prefixed->responses[0].status == std::optional<int>(404));
  CHECK_FALSE(parseMultistatus("<d:multistatus xmlns:d=\"urn:not-dav\"/>"));
}

TEST_CASE("a pull follows RFC 6578: truncated listing continues with the returned token", "[caldav][contract]") {
  test::ScriptedHttp http;
  const std::string cal = "http://webdav.example.com/home/cyrusdaboo/";
  http.expect("PROPFIND", cal, 207, ctagResponse("/home/cyrusdaboo/", "ctag-1", "http://example.com/ns/sync/1"));
  http.expect("REPORT", cal, 207, sample("caldav-rfc6578-3.10-sync-collection-truncated-507.response.xml"),
              [](const HttpRequest& r) { CHECK_THAT(r.body, Catch::Contains("<d:sync-token></d:sync-token>")); });
  http.expect("REPORT", cal, 207, sample("caldav-rfc6578-3.9-sync-collection-with-token.response.xml"),
              [](const HttpRequest& r) {
                CHECK_THAT(r.body, Catch::Contains("<d:sync-token>http://example.com/ns/sync/1233</d:sync-token>"));
              });
  // the multiget: answered with the RFC 4791 example (one event, one member gone meanwhile)
  http.expect("REPORT", cal, 207, sample("caldav-rfc4791-7.9.1-calendar-multiget.response.xml"),
              [](const HttpRequest& r) { CHECK_THAT(r.body, Catch::Contains("calendar-multiget")); });
  auto clock = test::FakeClock::at(2026y / November / 21);
  CalDavProvider provider(http, {cal, "cyrusdaboo", {}}, clock);
  auto changes = provider.pullChanges(cal, "", kWindow);
  INFO((changes ? std::string() : changes.error().message));
  REQUIRE(changes);
  CHECK(http.done());
  CHECK(changes->complete);
  REQUIRE(changes->changed.size() == 1);
  const Event& e = changes->changed[0];
  CHECK(e.uid == "74855313FA803DA593CD579A@example.com");
  CHECK(e.title == "Event #1");
  CHECK(e.description == "Go Steelers!");
  // member hrefs resolve against the calendar's own server (the two RFCs' examples use different hosts)
  CHECK(e.id == "http://webdav.example.com/bernard/work/abcd1.ics");
  CHECK(e.etag == "\"fffff-abcd1\"");
  REQUIRE(std::holds_alternative<ZonedTime>(e.start));
  CHECK(std::get<ZonedTime>(e.start).zone == "US/Eastern");
  CHECK(formatUtc(std::get<ZonedTime>(e.start).instant) == "2006-01-02T15:00:00Z");
  CHECK(formatUtc(std::get<ZonedTime>(e.end).instant) == "2006-01-02T16:00:00Z");  // DURATION:PT1H
  // removed: the member the continued listing reports as 404, and the one gone before the multiget
  CHECK(std::find(changes->removed.begin(), changes->removed.end(),
                  "http://webdav.example.com/home/cyrusdaboo/test.doc") != changes->removed.end());
  CHECK(std::find(changes->removed.begin(), changes->removed.end(),
                  "http://webdav.example.com/bernard/work/mtg1.ics") != changes->removed.end());
  CHECK_THAT(changes->cursor, Catch::EndsWith("http://example.com/ns/sync/1238"));  // the last token
}

TEST_CASE("an unchanged CTag ends a pull after one request", "[caldav][contract]") {
  test::ScriptedHttp http;
  const std::string cal = "https://cal.example.com/bernard/work/";
  http.expect("PROPFIND", cal, 207, ctagResponse("/bernard/work/", "ctag-7", "tok-7"));
  auto clock = test::FakeClock::at(2026y / November / 21);
  CalDavProvider provider(http, {cal, "bernard", {}}, clock);
  auto changes = provider.pullChanges(cal, "v1\nctag-7\ntok-7", kWindow);
  REQUIRE(changes);
  CHECK(changes->changed.empty());
  CHECK(changes->cursor == "v1\nctag-7\ntok-7");
  CHECK(http.sent.size() == 1);
  CHECK(http.sent[0].headers[0] == std::pair<std::string, std::string>("Depth", "0"));
}

TEST_CASE("tricky iCalendar files map to the model and back without losing a synced field", "[caldav][ical]") {
  const auto stamp = sys_days{2026y / November / 21};
  auto roundTrip = [&](const std::string& file) {
    auto first = parseCalendar(icalFile(file));
    INFO(file << (first ? "" : ": " + first.error().message));
    REQUIRE(first);
    auto text = calendarText(first->events, stamp, first->sequence);
    REQUIRE(text);
    auto second = parseCalendar(*text);
    REQUIRE(second);
    REQUIRE(second->events.size() == first->events.size());
    for (std::size_t i = 0; i < first->events.size(); ++i) {
      const Event& a = first->events[i];
      const Event& b = second->events[i];
      CHECK(a.uid == b.uid);
      CHECK(a.title == b.title);
      CHECK(a.description == b.description);
      CHECK(a.location == b.location);
      CHECK(a.start == b.start);
      CHECK(a.end == b.end);
      CHECK(a.recurrenceId == b.recurrenceId);
      CHECK(a.recurrence == b.recurrence);
      CHECK(a.status == b.status);
      CHECK(a.showAs == b.showAs);
      CHECK(a.sensitivity == b.sensitivity);
      CHECK(a.attendees == b.attendees);
    }
    CHECK(second->sequence == first->sequence);
    return *first;
  };

  auto dst = roundTrip("dst-crossing.ics");
  REQUIRE(dst.events.size() == 2);
  CHECK(formatUtc(std::get<ZonedTime>(dst.events[0].start).instant) == "2026-03-26T08:00:00Z");  // CET
  // 02:00 does not exist on 2026-03-29 in Berlin: RFC 5545 reads it with the offset before the gap
  CHECK(formatUtc(std::get<ZonedTime>(dst.events[1].start).instant) == "2026-03-29T01:00:00Z");
  CHECK(formatUtc(std::get<ZonedTime>(*dst.events[1].recurrenceId).instant) == "2026-03-29T07:00:00Z");  // CEST

  auto allDay = roundTrip("multiday-allday.ics");
  CHECK(std::get<Date>(allDay.events[0].start).day == 2026y / 12 / 24);
  CHECK(std::get<Date>(allDay.events[0].end).day == 2026y / 12 / 27);  // exclusive
  CHECK(allDay.events[0].showAs == ShowAs::Free);
  CHECK(allDay.events[0].sensitivity == Sensitivity::Private);

  auto series = roundTrip("series-exdate-moved-cancelled.ics");
  REQUIRE(series.events.size() == 3);
  const Event& master = series.events[0];
  CHECK(master.recurrence == std::vector<std::string>{"RRULE:FREQ=WEEKLY;COUNT=5",
                                                       "EXDATE;TZID=America/New_York:20261109T100000"});
  CHECK(master.attendees == std::vector<std::string>{"Ann@Example.com", "bob@example.com"});  // no PARTSTAT
  CHECK(master.organizer == "boss@example.com");
  CHECK(series.sequence == 3);
  CHECK(series.events[1].title == "Weekly review (moved)");
  CHECK(series.events[2].status == Status::Cancelled);

  auto floating = roundTrip("floating.ics");
  REQUIRE(std::holds_alternative<FloatingTime>(floating.events[0].start));
  CHECK(formatLocal(std::get<FloatingTime>(floating.events[0].start).local) == "2026-12-01T09:00:00");
  CHECK(floating.events[0].status == Status::Tentative);

  // a zone only the resource defines (Outlook's Windows names): the instant survives, as UTC
  auto windows = parseCalendar(icalFile("windows-zone.ics"));
  REQUIRE(windows);
  CHECK(formatUtc(std::get<ZonedTime>(windows->events[0].start).instant) == "2026-07-15T12:00:00Z");
}

TEST_CASE("fields that are not synced are not read", "[caldav][ical]") {
  auto series = parseCalendar(icalFile("series-exdate-moved-cancelled.ics"));
  REQUIRE(series);
  auto text = calendarText(series->events, sys_days{2026y / November / 21});
  REQUIRE(text);
  for (const auto* never : {"VALARM", "CATEGORIES", "COLOR", "PARTSTAT", "Reminder", "ORGANIZER"}) {
    INFO(never);
    CHECK(text->find(never) == std::string::npos);
  }
  auto windows = parseCalendar(icalFile("windows-zone.ics"));
  CHECK(calendarText(windows->events, sys_days{2026y / November / 21})->find("ATTACH") == std::string::npos);
}

TEST_CASE("malformed or oversized iCalendar is rejected with a reason", "[caldav][ical]") {
  CHECK_FALSE(parseCalendar("not ical"));
  CHECK_FALSE(parseCalendar("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:no uid\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
  CHECK_FALSE(parseCalendar("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:no start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
  CHECK_FALSE(parseCalendar(std::string(1024 * 1024 + 1, 'x')));
  // found by the fuzzer: libical accepts month 24, day 48
  CHECK_FALSE(parseCalendar("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:40522448\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
  CHECK_FALSE(parseCalendar("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260230T250000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
  // ... and years libical cannot write back
  CHECK_FALSE(parseCalendar("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:60260326T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
  auto twoUids = parseCalendar(
      "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  REQUIRE_FALSE(twoUids);
  CHECK_THAT(twoUids.error().message, Catch::Contains("more than one UID"));
  auto tasks = parseCalendar("BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nSUMMARY:task\r\nEND:VTODO\r\nEND:VCALENDAR\r\n");
  REQUIRE(tasks);
  CHECK(tasks->events.empty());  // VTODO is not an event
}

namespace {

// Answers every request with one response whose effective URL carries credentials, the way
// libcurl 7.88 reports it after a redirect.
struct LeakyRedirectHttp final : HttpClient {
  std::vector<HttpRequest> sent;
  core::Result<HttpResponse> send(const HttpRequest& request) override {
    sent.push_back(request);
    HttpResponse r;
    r.status = 207;
    r.effectiveUrl = "https://bernard:s3cret-app-pw@cal.example.com/";
    r.body =
        "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
        "<d:response><d:href>/</d:href><d:propstat><d:prop><c:calendar-home-set><d:href>calendars/bernard/</d:href>"
        "</c:calendar-home-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        "</d:multistatus>";
    return r;
  }
};

}  // namespace

TEST_CASE("credentials never get into CalDAV URLs", "[caldav][contract][discovery]") {
  CHECK(urlHasUserinfo("https://bernard:pw@cal.example.com/dav/"));
  CHECK(urlHasUserinfo("https://bernard@cal.example.com/dav/"));
  CHECK(urlHasUserinfo("https://:pw@cal.example.com/"));
  CHECK_FALSE(urlHasUserinfo("https://cal.example.com/dav/"));
  CHECK_FALSE(urlHasUserinfo("https://cal.example.com/dav/user@example.com/"));  // '@' in the path is fine
  CHECK(withoutUserinfo("http://alice:alice-app-password@127.0.0.1:5232/alice/") ==
        std::optional<std::string>("http://127.0.0.1:5232/alice/"));
  CHECK(withoutUserinfo("https://cal.example.com/a/b.ics?x=1") ==
        std::optional<std::string>("https://cal.example.com/a/b.ics?x=1"));

  auto clock = test::FakeClock::at(2026y / November / 21);
  SECTION("a server URL with userinfo is refused before any request") {
    test::ScriptedHttp http;
    CalDavProvider provider(http, {"https://bernard:s3cret-app-pw@cal.example.com/", "bernard", {}}, clock);
    auto home = provider.calendarHome();
    REQUIRE_FALSE(home);
    CHECK(home.error().code == core::ErrorCode::Invalid);
    CHECK_THAT(home.error().message, Catch::Contains("must not contain a user name or password"));
    CHECK_THAT(home.error().message, !Catch::Contains("s3cret"));
    CHECK(http.sent.empty());
    CHECK_FALSE(provider.listCalendars());
  }
  SECTION("an effective URL with userinfo does not become the base of the calendar home") {
    LeakyRedirectHttp http;
    CalDavProvider provider(http, {"https://cal.example.com/.well-known/caldav", "bernard", {}}, clock);
    auto home = provider.calendarHome();
    INFO((home ? std::string() : home.error().message));
    REQUIRE(home);
    CHECK(*home == "https://cal.example.com/calendars/bernard/");
  }
  SECTION("the HTTP client refuses URLs with credentials in them") {
    CurlHttpClient http;
    HttpRequest r;
    r.url = "https://bernard:s3cret@cal.example.com/";
    auto sent = http.send(r);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().code == core::ErrorCode::Invalid);
    CHECK_THAT(sent.error().message, !Catch::Contains("s3cret"));
  }
}

namespace {

// <d:response> elements for hand-made multistatus answers.
std::string member(const std::string& href, const std::string& etag, int propStatus = 200) {
  return "<d:response><d:href>" + href + "</d:href><d:propstat><d:prop><d:getetag>" + etag +
         "</d:getetag></d:prop><d:status>HTTP/1.1 " + std::to_string(propStatus) + " X</d:status></d:propstat></d:response>";
}
std::string statusOnly(const std::string& href, int status) {
  return "<d:response><d:href>" + href + "</d:href><d:status>HTTP/1.1 " + std::to_string(status) +
         " X</d:status></d:response>";
}
std::string multistatus(const std::string& responses, const std::string& token = "") {
  return "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">" +
         responses + (token.empty() ? "" : "<d:sync-token>" + token + "</d:sync-token>") + "</d:multistatus>";
}
std::string eventData(const std::string& href, const std::string& uid, const std::string& etag) {
  return "<d:response><d:href>" + href + "</d:href><d:propstat><d:prop><d:getetag>" + etag +
         "</d:getetag><c:calendar-data>BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
         "\r\nDTSTAMP:20261121T000000Z\r\nDTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nSUMMARY:" + uid +
         "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status>"
         "</d:propstat></d:response>";
}
bool has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

const std::string kCal = "https://cal.example.com/dav/work/";

// One pull of kCal through a fresh adapter; the script must be used up.
ChangeSet pulled(test::ScriptedHttp& http, const std::string& cursor, CalDavOptions options = {}) {
  auto clock = test::FakeClock::at(2026y / November / 21);
  CalDavProvider provider(http, {kCal, "u", {}}, clock, options);
  auto changes = provider.pullChanges(kCal, cursor, kWindow);
  INFO((changes ? std::string() : changes.error().message));
  REQUIRE(changes);
  CHECK(http.done());
  return *changes;
}

}  // namespace

TEST_CASE("the password stays with the account's site: a home or calendar on another site is refused",
          "[caldav][contract][discovery]") {
  auto clock = test::FakeClock::at(2026y / November / 21);
  const std::string elsewhere =
      "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
      "<d:response><d:href>/</d:href><d:propstat><d:prop><c:calendar-home-set><d:href>HOME</d:href>"
      "</c:calendar-home-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
      "</d:multistatus>";
  auto answer = [&](const std::string& home) {
    std::string body = elsewhere;
    body.replace(body.find("HOME"), 4, home);
    return body;
  };
  SECTION("a hostile server naming an organisation's calendar home") {
    test::ScriptedHttp http;
    http.expect("PROPFIND", "https://dav.evil.example/", 207, answer("https://caldav.acme.com/calendars/boss/"));
    CalDavProvider provider(http, {"https://dav.evil.example/", "boss", {}}, clock);
    auto calendars = provider.listCalendars();
    REQUIRE_FALSE(calendars);
    CHECK(calendars.error().cause == core::Cause::UrlRejected);
    CHECK_THAT(calendars.error().message, Catch::Contains("another site"));
    CHECK(http.sent.size() == 1);  // nothing went to caldav.acme.com
  }
  SECTION("the same registrable domain is the same site (iCloud's partition hosts)") {
    test::ScriptedHttp http;
    http.expect("PROPFIND", "https://caldav.icloud.com/", 207, answer("https://p42-caldav.icloud.com/1234/calendars/"));
    http.expect("PROPFIND", "https://p42-caldav.icloud.com/1234/calendars/", 207,
                "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\"></d:multistatus>");
    CalDavProvider provider(http, {"https://caldav.icloud.com/", "me", {}}, clock);
    auto calendars = provider.listCalendars();
    INFO((calendars ? std::string() : calendars.error().message));
    CHECK(calendars);
  }
}

TEST_CASE("a listing truncated in every round is not complete and continues next time", "[caldav][contract][completeness]") {
  test::ScriptedHttp http;
  http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-9"));
  http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/a.ics", "\"a1\"") + statusOnly("/dav/work/", 507), "tok-1"));
  http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/b.ics", "\"b1\"") + statusOnly("/dav/work/", 507), "tok-2"),
              [](const HttpRequest& r) { CHECK_THAT(r.body, Catch::Contains("<d:sync-token>tok-1</d:sync-token>")); });
  http.expect("REPORT", kCal, 207,
              multistatus(eventData("/dav/work/a.ics", "a", "\"a1\"") + eventData("/dav/work/b.ics", "b", "\"b1\"")));
  CalDavOptions options;
  options.maxSyncRounds = 2;
  const auto first = pulled(http, "", options);
  CHECK_FALSE(first.complete);  // the server holds more than it listed: no deletions may be inferred
  CHECK(first.changed.size() == 2);
  CHECK_THAT(first.cursor, Catch::EndsWith("\ntok-2"));  // the next pull continues from here

  // the CTag has not changed since, but the listing was not finished: the next pull goes on with it
  http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-9"));
  http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/c.ics", "\"c1\""), "tok-3"),
              [](const HttpRequest& r) { CHECK_THAT(r.body, Catch::Contains("<d:sync-token>tok-2</d:sync-token>")); });
  http.expect("REPORT", kCal, 207, multistatus(eventData("/dav/work/c.ics", "c", "\"c1\"")));
  const auto second = pulled(http, first.cursor, options);
  CHECK_FALSE(second.complete);
  REQUIRE(second.changed.size() == 1);
  CHECK(second.changed[0].uid == "c");
  CHECK(second.cursor == "v1\nctag-1\ntok-3");
}

TEST_CASE("a 507 on any response of a sync-collection answer means truncation", "[caldav][contract][completeness]") {
  // the server names the collection differently from the request (no trailing slash, absolute URL,
  // another encoding): still a truncation marker
  for (const std::string marker : {"/dav/work", "https://cal.example.com/dav/work", "/dav/%77ork/"}) {
    INFO(marker);
    test::ScriptedHttp http;
    http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-9"));
    http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/a.ics", "\"a1\"") + statusOnly(marker, 507), "tok-1"));
    http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/b.ics", "\"b1\""), "tok-2"),
                [](const HttpRequest& r) { CHECK_THAT(r.body, Catch::Contains("<d:sync-token>tok-1</d:sync-token>")); });
    http.expect("REPORT", kCal, 207,
                multistatus(eventData("/dav/work/a.ics", "a", "\"a1\"") + eventData("/dav/work/b.ics", "b", "\"b1\"")));
    const auto changes = pulled(http, "");
    CHECK(changes.complete);  // continued until the server said it was all
    CHECK(changes.changed.size() == 2);
    CHECK(changes.unreadable.empty());
    CHECK(changes.removed.empty());
  }
}

TEST_CASE("members that cannot be read are unreadable, never dropped or taken for deletions", "[caldav][contract][completeness]") {
  test::ScriptedHttp http;
  http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-9"));
  http.expect("REPORT", kCal, 207,
              multistatus(member("/dav/work/ok.ics", "\"1\"") + member("/dav/work/no-etag.ics", "", 404) +
                              member("/dav/work/forbidden-etag.ics", "\"x\"", 403) + statusOnly("/dav/work/locked.ics", 403) +
                              member("/dav/work/forbidden.ics", "\"2\"") + member("/dav/work/failing.ics", "\"3\"") +
                              member("/dav/work/gone.ics", "\"4\"") + member("/dav/work/left-out.ics", "\"5\"") +
                              member("/dav/work/no-data.ics", "\"6\""),
                          "tok-1"));
  http.expect("REPORT", kCal, 207,
              multistatus(eventData("/dav/work/ok.ics", "ok", "\"1\"") + statusOnly("/dav/work/forbidden.ics", 403) +
                          statusOnly("/dav/work/failing.ics", 500) + statusOnly("/dav/work/gone.ics", 404) +
                          member("/dav/work/no-data.ics", "\"6\"")),
              [](const HttpRequest& r) {
                CHECK_THAT(r.body, Catch::Contains("/dav/work/left-out.ics"));
                CHECK_THAT(r.body, !Catch::Contains("no-etag.ics"));
              });
  const auto changes = pulled(http, "");
  CHECK(changes.complete);
  REQUIRE(changes.changed.size() == 1);
  CHECK(changes.changed[0].id == kCal + "ok.ics");
  CHECK(changes.removed == std::vector<std::string>{kCal + "gone.ics"});  // only a clear 404 means gone
  for (const auto* name : {"no-etag.ics", "forbidden-etag.ics", "locked.ics", "forbidden.ics", "failing.ics",
                           "left-out.ics", "no-data.ics"}) {
    INFO(name);
    CHECK(has(changes.unreadable, kCal + name));
  }
  CHECK(changes.unreadable.size() == 7);
}

TEST_CASE("the time-range fallback is complete only within its window", "[caldav][contract][completeness]") {
  test::ScriptedHttp http;
  http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", ""));
  http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/a.ics", "\"a1\"")),
              [](const HttpRequest& r) { CHECK_THAT(r.body, Catch::Contains("calendar-query")); });
  http.expect("REPORT", kCal, 207, multistatus(eventData("/dav/work/a.ics", "a", "\"a1\"")));
  CalDavOptions options;
  options.preferSyncCollection = false;
  const auto changes = pulled(http, "", options);
  CHECK(changes.complete);
  REQUIRE(changes.completeWithin);
  CHECK(changes.completeWithin->from == kWindow.from);
  CHECK(changes.completeWithin->to == kWindow.to);

  SECTION("a truncated time-range answer is not complete at all") {
    http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-2", ""));
    http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/a.ics", "\"a2\"") + statusOnly("/dav/work/", 507)));
    http.expect("REPORT", kCal, 207, multistatus(eventData("/dav/work/a.ics", "a", "\"a2\"")));
    const auto cut = pulled(http, changes.cursor, options);
    CHECK_FALSE(cut.complete);
    CHECK_FALSE(cut.completeWithin);
  }
  SECTION("sync-collection listings are complete without a window") {
    test::ScriptedHttp sync;
    sync.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-1"));
    sync.expect("REPORT", kCal, 207, multistatus("", "tok-1"));
    const auto all = pulled(sync, "");
    CHECK(all.complete);
    CHECK_FALSE(all.completeWithin);
  }
}

TEST_CASE("only an invalid-token answer starts a sync over; a failing server is an error to retry", "[caldav][contract][completeness]") {
  auto clock = test::FakeClock::at(2026y / November / 21);
  const std::string cursor = "v1\nctag-0\ntok-0";
  const std::string invalidToken = "<?xml version=\"1.0\"?><d:error xmlns:d=\"DAV:\"><d:valid-sync-token/></d:error>";
  for (const auto& [status, body] : std::vector<std::pair<long, std::string>>{
           {403, invalidToken}, {409, invalidToken}, {404, ""}, {410, ""}}) {
    INFO(status);
    test::ScriptedHttp http;
    http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-1"));
    http.expect("REPORT", kCal, status, body);
    http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/a.ics", "\"a1\""), "tok-1"),
                [](const HttpRequest& r) { CHECK_THAT(r.body, Catch::Contains("<d:sync-token></d:sync-token>")); });
    http.expect("REPORT", kCal, 207, multistatus(eventData("/dav/work/a.ics", "a", "\"a1\"")));
    const auto changes = pulled(http, cursor);
    CHECK(changes.complete);
    CHECK(changes.changed.size() == 1);
  }
  for (const auto& [status, body, code] : std::vector<std::tuple<long, std::string, core::ErrorCode>>{
           {500, "", core::ErrorCode::Unavailable},
           {502, "", core::ErrorCode::Unavailable},
           {503, "", core::ErrorCode::RateLimited},
           {403, "<d:error xmlns:d=\"DAV:\"><d:need-privileges/></d:error>", core::ErrorCode::Unauthorized},
           {409, "", core::ErrorCode::Conflict}}) {
    INFO(status << " " << body);
    test::ScriptedHttp http;
    http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-1"));
    http.expect("REPORT", kCal, status, body);
    CalDavProvider provider(http, {kCal, "u", {}}, clock);
    auto changes = provider.pullChanges(kCal, cursor, kWindow);
    REQUIRE_FALSE(changes);  // no complete listing: the token stays for the retry
    CHECK(changes.error().code == code);
    CHECK(http.sent.size() == 2);
  }
}

TEST_CASE("cancelling the only override of a resource without a master deletes the resource", "[caldav][contract][series]") {
  const std::string ics =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:orphan\r\n"
      "DTSTAMP:20261121T000000Z\r\nRECURRENCE-ID:20261201T090000Z\r\nDTSTART:20261201T090000Z\r\n"
      "DTEND:20261201T100000Z\r\nSUMMARY:Just this one\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto parsed = parseCalendar(ics);
  REQUIRE(parsed);
  Event cancelled = parsed->events.front();
  cancelled.status = Status::Cancelled;
  policy::WriteContext ctx;
  ctx.pairId = "pr_unit";
  ctx.sourceKey = "o#1";
  ctx.seriesKey = "o";
  ctx.targetProvider = ProviderKind::CalDav;
  ctx.targetDomains = {"home.example"};
  auto decision =
      policy::Evaluator{}.evaluate(policy::PairRules{}, policy::OrgPolicy::none("src.example"), cancelled, ctx);
  REQUIRE(decision.write);
  REQUIRE(decision.write->action() == policy::ApprovedWrite::Action::Delete);
  const std::string url = kCal + decision.write->event().uid + ".ics";  // calgate's copy

  test::ScriptedHttp http;
  http.expect("GET", url, 200, ics);
  http.expect("DELETE", url, 412, "");  // changed meanwhile: re-read, then delete
  http.expect("GET", url, 200, ics);
  http.expect("DELETE", url, 204, "");
  auto clock = test::FakeClock::at(2026y / November / 21);
  CalDavProvider provider(http, {kCal, "u", {}}, clock);
  auto removed = provider.remove(kCal, url, "\"e1\"", *decision.write);
  INFO((removed ? std::string() : removed.error().message));
  REQUIRE(removed);
  CHECK(http.done());
  REQUIRE(http.sent.size() == 4);
  CHECK(std::find(http.sent[1].headers.begin(), http.sent[1].headers.end(),
                  std::pair<std::string, std::string>("If-Match", "\"e1\"")) != http.sent[1].headers.end());
}

TEST_CASE("multistatus namespaces resolve by scope, in one pass, with nesting bounded", "[caldav][contract]") {
  // a prefix rebound on an element applies to it and its children only
  auto ms = parseMultistatus(
      "<d:multistatus xmlns:d=\"DAV:\"><d:response><x:href xmlns:x=\"DAV:\">/a</x:href></d:response>"
      "<d:response xmlns:d=\"urn:other\"><d:href>/b</d:href></d:response>"
      "<response xmlns=\"DAV:\"><href>/c</href></response></d:multistatus>");
  REQUIRE(ms);
  REQUIRE(ms->responses.size() == 2);
  CHECK(ms->responses[0].href == "/a");
  CHECK(ms->responses[1].href == "/c");

  std::string deep = "<d:multistatus xmlns:d=\"DAV:\">";
  for (int i = 0; i < 100; ++i) deep += "<d:x>";
  for (int i = 0; i < 100; ++i) deep += "</d:x>";
  deep += "</d:multistatus>";
  auto rejected = parseMultistatus(deep);
  REQUIRE_FALSE(rejected);
  CHECK_THAT(rejected.error().message, Catch::Contains("deeper than 64"));

  // many attributes on many elements (quadratic for a resolver that walks up and scans them)
  std::string wide = "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/w</d:href><d:propstat><d:prop>";
  for (int i = 0; i < 500; ++i) {
    wide += "<d:p" + std::to_string(i);
    for (int a = 0; a < 100; ++a) wide += " a" + std::to_string(a) + "=\"v\"";
    wide += "/>";
  }
  wide += "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>";
  auto parsed = parseMultistatus(wide);
  REQUIRE(parsed);
  REQUIRE(parsed->responses.size() == 1);
  CHECK(parsed->responses[0].prop(kDav, "p499"));
}

// ---- the iCalendar (iCloud, CalDAV) rows of the product pages' mapping tables and the text calgate writes

TEST_CASE("iCloud: CLASS is preserved; omitted means PUBLIC (seed table)", "[providers][seed]") {
  CHECK(ic::classFor(ic::sensitivityFromClass(std::nullopt)) == "PUBLIC");
  CHECK(ic::classFor(ic::sensitivityFromClass("PUBLIC")) == "PUBLIC");
  CHECK(ic::classFor(ic::sensitivityFromClass("PRIVATE")) == "PRIVATE");
  CHECK(ic::classFor(ic::sensitivityFromClass("CONFIDENTIAL")) == "CONFIDENTIAL");
  CHECK(ic::classFor(ic::sensitivityFromClass("private")) == "PRIVATE");  // case-insensitive
  // RFC 5545 3.8.1.3: unrecognised classes are treated as PRIVATE
  CHECK(ic::sensitivityFromClass("X-SECRET") == Sensitivity::Private);
}

TEST_CASE("status vocabularies", "[providers]") {
  for (const std::string s : {"CONFIRMED", "TENTATIVE", "CANCELLED"}) CHECK(ic::statusFor(ic::statusFrom(s)) == s);
  CHECK(ic::statusFrom(std::nullopt) == Status::Confirmed);
}

using calgate::test::sampleEvent;

TEST_CASE("iCalendar text has TZID times with their VTIMEZONE, and the origin marker", "[providers][caldav]") {
  auto text = ic::calendarText(sampleEvent(), sys_days{2026y / November / 21} + 8h);
  REQUIRE(text);
  CHECK_THAT(*text, Catch::Contains("BEGIN:VTIMEZONE") && Catch::Contains("Europe/Berlin"));
  CHECK_THAT(*text, Catch::Contains("\r\nTZID:Europe/Berlin\r\n"));
  CHECK_THAT(*text, Catch::Contains("\r\nDTSTART;TZID=Europe/Berlin:20261123T090000\r\n"));
  CHECK_THAT(*text, Catch::Contains("\r\nDTEND;TZID=Europe/Berlin:20261123T100000\r\n"));
  CHECK_THAT(*text, Catch::Contains("RRULE:FREQ=WEEKLY;COUNT=5"));
  CHECK_THAT(*text, Catch::Contains("EXDATE;TZID=Europe/Berlin:20261130T090000"));
  CHECK_THAT(*text, Catch::Contains("CLASS:CONFIDENTIAL") && Catch::Contains("TRANSP:OPAQUE"));
  CHECK_THAT(*text, Catch::Contains("X-CALGATE-PAIR:pr_1") && Catch::Contains("X-CALGATE-SOURCE:src_1"));
  CHECK_THAT(*text, Catch::Contains("DTSTAMP:20261121T080000Z"));
  CHECK_THAT(*text, Catch::Contains("\r\nSEQUENCE:0\r\n"));
  CHECK_THAT(*ic::calendarText(sampleEvent(), sys_days{2026y / November / 21}, 3), Catch::Contains("\r\nSEQUENCE:3\r\n"));
  Event allDay = sampleEvent();
  allDay.start = Date{2026y / 12 / 24};
  allDay.end = Date{2026y / 12 / 25};
  allDay.recurrence.clear();
  auto day = ic::calendarText(allDay, sys_days{2026y / November / 21});
  REQUIRE(day);
  CHECK_THAT(*day, Catch::Contains("DTSTART;VALUE=DATE:20261224"));
  CHECK_THAT(*day, !Catch::Contains("BEGIN:VTIMEZONE"));
  Event bad = sampleEvent();
  bad.recurrence = {"SUMMARY:sneaky"};
  CHECK_FALSE(ic::calendarText(bad, sys_days{2026y / November / 21}));
}

TEST_CASE("written iCalendar reads back exactly: escaped text, folded lines, no value on a line of its own",
          "[providers][caldav]") {
  Event e = sampleEvent();
  e.uid = "uid,with;specials\\";
  e.title = "a,b;c\\d\ne\r\nf\tg\x7Fh\ri";  // CRLF and a lone CR as line breaks, TAB kept, DEL dropped
  std::string longText;
  for (int i = 0; i < 60; ++i) longText += i % 3 == 0 ? "\xC3\xA9" : i % 3 == 1 ? "\xE2\x82\xAC" : "x";  // é, €, x
  e.description = longText + " " + longText;
  for (int i = 0; i < 40; ++i) e.location += "Room, " + std::to_string(i) + ";\t\\";  // escapes across folds
  e.attendees = {"a@example.com\r\nSUMMARY:injected"};  // a line break must not start a property
  e.origin = model::Origin{"pr_1", "src,1;\\x"};
  auto text = ic::calendarText(e, sys_days{2026y / November / 21});
  REQUIRE(text);
  // every physical line within 75 octets, CRLF-terminated, never cut inside a UTF-8 sequence
  std::size_t from = 0;
  while (from < text->size()) {
    const auto crlf = text->find("\r\n", from);
    REQUIRE(crlf != std::string::npos);
    const std::string line = text->substr(from, crlf - from);
    CHECK(line.size() <= 75);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.rfind("SUMMARY:injected", 0) == std::string::npos);
    if (line.size() > 1 && line[0] == ' ') CHECK((static_cast<unsigned char>(line[1]) & 0xC0) != 0x80);
    from = crlf + 2;
  }
  auto back = ic::parseCalendar(*text);
  REQUIRE(back);
  REQUIRE(back->events.size() == 1);
  const Event& read = back->events.front();
  CHECK(read.uid == e.uid);
  CHECK(read.title == "a,b;c\\d\ne\nf\tgh\ni");
  CHECK(read.description == e.description);
  CHECK(read.location == e.location);
  REQUIRE(read.attendees.size() == 1);
  CHECK(read.attendees.front() == "a@example.comSUMMARY:injected");
  REQUIRE(read.origin);
  CHECK(*read.origin == *e.origin);
  CHECK(read.start == e.start);
  CHECK(read.end == e.end);
  CHECK(read.recurrence == e.recurrence);

  // what a calendar app wrote reads as the user typed it, not with iCalendar's escapes left in
  auto typed = ic::parseCalendar(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//app//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20261121T080000Z\r\n"
      "DTSTART:20261123T090000Z\r\nSUMMARY:Lunch\\, then walk\\; ok\r\nDESCRIPTION:line 1\\nline 2 \\\\o/\r\n"
      "LOCATION:Caf\xC3\xA9\\, 1st floor\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  REQUIRE(typed);
  CHECK(typed->events.front().title == "Lunch, then walk; ok");
  CHECK(typed->events.front().description == "line 1\nline 2 \\o/");
  CHECK(typed->events.front().location == "Caf\xC3\xA9, 1st floor");

  // what the reader would refuse is never written (Outlook's "no end" year 4501 included)
  const auto dayIn = [](int y) {
    Event day = sampleEvent();
    day.recurrence.clear();
    day.start = Date{year(y) / 6 / 1};
    day.end = Date{year(y) / 6 / 2};
    return day;
  };
  for (const int y : {1599, 3001, 4501}) {
    auto refused = ic::calendarText(dayIn(y), sys_days{2026y / November / 21});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == calgate::core::ErrorCode::Invalid);
  }
  for (const int y : {1600, 3000}) {
    const Event edge = dayIn(y);
    auto written = ic::calendarText(edge, sys_days{2026y / November / 21});
    REQUIRE(written);
    auto again = ic::parseCalendar(*written);
    REQUIRE(again);
    CHECK(again->events.front().start == edge.start);
  }
}

TEST_CASE("each event's VTIMEZONE holds its zone's transitions from a year before it, whichever was written first",
          "[providers][caldav]") {
  // VTIMEZONEs are built once per zone and year and then reused: a later event of the zone must
  // not get an earlier one's (too short) zone, nor an earlier one a later one's.
  auto at = [](int year) {
    Event e = sampleEvent();
    e.recurrence.clear();
    e.start = *model::zonedFromLocal(local_days{std::chrono::year{year} / November / 23} + 9h, "Europe/Berlin");
    e.end = *model::zonedFromLocal(local_days{std::chrono::year{year} / November / 23} + 10h, "Europe/Berlin");
    return e;
  };
  // the zone's first observance: from the year before the event (January 1st of the year a year
  // earlier than the event), not from years before that
  auto firstYear = [](const std::string& text) {
    const auto where = text.find("DTSTART:", text.find("BEGIN:VTIMEZONE"));
    return where == std::string::npos ? 0 : std::stoi(text.substr(where + 8, 4));
  };
  // years no other test writes, each pair of them once: a later year first, then an earlier one first
  for (const auto& [first, second] : {std::pair{2041, 2013}, std::pair{2014, 2042}}) {
    auto a = ic::calendarText(at(first), sys_days{2026y / November / 21});
    auto b = ic::calendarText(at(second), sys_days{2026y / November / 21});
    REQUIRE(a);
    REQUIRE(b);
    INFO(*b);
    CHECK(firstYear(*a) == first - 1);
    CHECK(firstYear(*b) == second - 1);
  }
}

namespace {

// A pull that must fail: the error, with the script used up to where the adapter stopped.
core::Error pullFails(test::ScriptedHttp& http, CalDavOptions options = {}) {
  auto clock = test::FakeClock::at(2026y / November / 21);
  CalDavProvider provider(http, {kCal, "u", {}}, clock, options);
  auto changes = provider.pullChanges(kCal, "", kWindow);
  REQUIRE_FALSE(changes);
  return changes.error();
}

}  // namespace

TEST_CASE("a server that keeps answering 507 without listing anything new is not followed", "[caldav][contract][budget]") {
  test::ScriptedHttp http;
  http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-9"));
  http.expect("REPORT", kCal, 207, multistatus(member("/dav/work/a.ics", "\"a1\"") + statusOnly("/dav/work/", 507), "tok-1"));
  // the same token again, nothing new: a loop, however many rounds are allowed
  http.expect("REPORT", kCal, 207, multistatus(statusOnly("/dav/work/", 507), "tok-1"));
  const auto error = pullFails(http);
  CHECK(error.code == core::ErrorCode::Unavailable);
  CHECK_THAT(error.message, Catch::Contains("truncated (507) without listing anything new"));
  CHECK(http.done());  // stopped at once, not after 50 rounds
}

TEST_CASE("a pull over its byte or resource budget fails whole, never cut short", "[caldav][contract][budget]") {
  SECTION("bytes: listings and calendar data together") {
    test::ScriptedHttp http;
    std::string members;
    for (int i = 0; i < 40; ++i) members += member("/dav/work/e" + std::to_string(i) + ".ics", "\"" + std::string(30000, 'x') + "\"");
    http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-9"));
    http.expect("REPORT", kCal, 207, multistatus(members, "tok-1"));  // 1.2 MB of listing
    CalDavOptions options;
    options.maxPullBytes = 1024 * 1024;
    const auto error = pullFails(http, options);
    CHECK(error.cause == core::Cause::BudgetExceeded);
    CHECK_THAT(error.message, Catch::Contains("larger than the 1 MiB one pull may read (sync.pull_max_bytes)"));
  }
  SECTION("resources listed") {
    test::ScriptedHttp http;
    std::string members;
    for (int i = 0; i < 101; ++i) members += member("/dav/work/e" + std::to_string(i) + ".ics", "\"e\"");
    http.expect("PROPFIND", kCal, 207, ctagResponse("/dav/work/", "ctag-1", "tok-9"));
    http.expect("REPORT", kCal, 207, multistatus(members, "tok-1"));
    CalDavOptions options;
    options.maxPullEvents = 100;
    const auto error = pullFails(http, options);
    CHECK(error.cause == core::Cause::BudgetExceeded);
    CHECK_THAT(error.message, Catch::Contains("more than 100 resources"));
    CHECK(http.done());  // no calendar data fetched for a listing that is refused anyway
  }
}

TEST_CASE("a write changes only the copy it was approved for, never another resource", "[caldav][contract][binding]") {
  const auto write = [](policy::ApprovedWrite::Action action) {
    Event e;
    e.uid = "source-uid";
    e.title = "Board meeting";
    e.start = model::ZonedTime{sys_days{2026y / December / 1} + hours(9), "UTC"};
    e.end = model::ZonedTime{sys_days{2026y / December / 1} + hours(10), "UTC"};
    if (action == policy::ApprovedWrite::Action::Delete) e.status = Status::Cancelled;
    policy::WriteContext ctx;
    ctx.pairId = "pr_unit";
    ctx.sourceKey = "cal_src|source-uid|";
    ctx.targetProvider = ProviderKind::CalDav;
    ctx.targetDomains = {"home.example"};
    return policy::Evaluator{}.evaluate(policy::PairRules{}, policy::OrgPolicy::none("src.example"), e, ctx).write;
  };
  const auto upsert = write(policy::ApprovedWrite::Action::Upsert);
  const auto removal = write(policy::ApprovedWrite::Action::Delete);
  REQUIRE(upsert);
  REQUIRE(removal);
  auto clock = test::FakeClock::at(2026y / November / 21);
  test::ScriptedHttp http;  // no request may be sent at all
  CalDavProvider provider(http, {kCal, "u", {}}, clock);
  // a tampered mapping points at the user's own event, in this calendar or another, or elsewhere
  for (const std::string& victim : {kCal + "users-own-event.ics", std::string("https://cal.example.com/dav/private/") +
                                        upsert->event().uid + ".ics",
                                    std::string("https://evil.example.net/dav/work/") + upsert->event().uid + ".ics",
                                    kCal + upsert->event().uid + ".ics/../users-own-event.ics"}) {
    INFO(victim);
    auto updated = provider.update(kCal, victim, "\"e1\"", *upsert);
    REQUIRE_FALSE(updated);
    CHECK(updated.error().cause == core::Cause::WrongResource);
    auto removed = provider.remove(kCal, victim, "\"e1\"", *removal);
    REQUIRE_FALSE(removed);
    CHECK(removed.error().cause == core::Cause::WrongResource);
  }
  CHECK(http.sent.empty());
  // an approval bound to one calendar is not good for another, even for a create
  {
    Event e = upsert->event();
    policy::WriteContext bound;
    bound.pairId = "pr_unit";
    bound.sourceKey = "cal_src|source-uid|";
    bound.targetProvider = ProviderKind::CalDav;
    bound.targetDomains = {"home.example"};
    bound.targetCalendar = kCal;
    e.origin.reset();
    e.uid = "source-uid";
    auto approval = policy::Evaluator{}.evaluate(policy::PairRules{}, policy::OrgPolicy::none("src.example"), e, bound);
    REQUIRE(approval.write);
    auto elsewhere = provider.create("https://cal.example.com/dav/private/", *approval.write);
    REQUIRE_FALSE(elsewhere);
    CHECK(elsewhere.error().cause == core::Cause::WrongResource);
    CHECK(http.sent.empty());
  }
  // its own copy is fine
  http.expect("DELETE", kCal + upsert->event().uid + ".ics", 204, "");
  CHECK(provider.remove(kCal, kCal + upsert->event().uid + ".ics", "", *removal));
  CHECK(http.done());
}

TEST_CASE("a listed href is resolved into a URL an HTTP client sends: '#', spaces and control bytes encoded",
          "[providers][caldav]") {
  CHECK(ic::resolveUrl("https://dav.example/cal/", "a b.ics") == "https://dav.example/cal/a%20b.ics");
  CHECK(ic::resolveUrl("https://dav.example/cal/", "/cal/x#1.ics") == "https://dav.example/cal/x%231.ics");
  CHECK(ic::resolveUrl("https://dav.example/cal/", std::string("a\tb\x7F.ics")) == "https://dav.example/cal/a%09b%7F.ics");
  CHECK(ic::resolveUrl("https://dav.example/cal/", "caf\xC3\xA9.ics") == "https://dav.example/cal/caf\xC3\xA9.ics");  // as written
  CHECK(ic::resolveUrl("https://dav.example/cal/", "https://dav.example/other/y.ics") == "https://dav.example/other/y.ics");
}
