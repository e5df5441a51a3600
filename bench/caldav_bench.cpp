// iCalendar parse+map throughput, and a full pull of a 1,000-event calendar from a real Radicale.
// The pull needs the test servers: tests/services/caldav.sh start /tmp/calgate-caldav, then
//   CG_BENCH_CALDAV_STATE=/tmp/calgate-caldav build/release/bench/calgate_bench_caldav
#include "calgate/providers/caldav/caldav_provider.hpp"
#include "calgate/providers/caldav/ical_mapping.hpp"
#include "calgate/providers/caldav/multistatus.hpp"
#include "calgate/providers/http/curl_http_client.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace calgate;
using namespace calgate::model;
using namespace calgate::providers;
using namespace calgate::providers::caldav;

namespace {

const std::string kEvent =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
    "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:bench-1@example.com\r\n"
    "DTSTAMP:20261121T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261201T090000\r\nDTEND;TZID=Europe/Berlin:20261201T100000\r\n"
    "RRULE:FREQ=WEEKLY;COUNT=10\r\nSUMMARY:Weekly planning\r\nDESCRIPTION:Agenda: numbers\\, hiring\\, roadmap\r\n"
    "LOCATION:Room 4\r\nORGANIZER:mailto:boss@example.com\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.com\r\n"
    "ATTENDEE:mailto:b@example.com\r\nCLASS:PUBLIC\r\nTRANSP:OPAQUE\r\nSEQUENCE:2\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
    "TRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

void BM_ParseCalendar(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parseCalendar(kEvent));
  state.SetItemsProcessed(state.iterations());
}

void BM_WriteCalendar(benchmark::State& state) {
  const auto object = *parseCalendar(kEvent);
  for (auto _ : state) benchmark::DoNotOptimize(calendarText(object.events, std::chrono::sys_seconds{}, 3));
  state.SetItemsProcessed(state.iterations());
}

std::string readLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

void BM_RadicaleFullPull1000(benchmark::State& state) {
  const char* dir = std::getenv("CG_BENCH_CALDAV_STATE");
  if (!dir) {
    state.SkipWithError("set CG_BENCH_CALDAV_STATE (tests/services/caldav.sh start DIR)");
    return;
  }
  const std::string base = readLine(std::string(dir) + "/radicale.url");
  HttpClientOptions options;
  options.allowLoopback = true;
  options.allowPlainHttp = true;
  CurlHttpClient http(options);
  const std::string password = "alice-app-password";
  auto send = [&](const std::string& method, const std::string& url, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest r{method, url, std::move(headers), body, "alice", {password.begin(), password.end()}};
    return http.send(r);
  };
  const std::string cal = base + "alice/bench1000/";
  // seed once: 1,000 events
  if (send("PROPFIND", cal, "", {{"Depth", "0"}})->status == 404) {
    send("MKCALENDAR", cal, "", {});
    for (int i = 0; i < 1000; ++i) {
      std::string ics = kEvent;
      const std::string uid = "bench-" + std::to_string(i) + "@example.com";
      ics.replace(ics.find("bench-1@example.com"), 19, uid);
      send("PUT", cal + "e" + std::to_string(i) + ".ics", ics, {{"Content-Type", "text/calendar"}});
    }
  }
  std::size_t requests = 0, events = 0;
  for (auto _ : state) {
    CalDavAccount account{base, "alice", {password.begin(), password.end()}};
    CalDavProvider provider(http, account, core::systemClock());
    auto changes = provider.pullChanges(cal, "", {{}, std::chrono::sys_seconds{std::chrono::seconds(4102444800)}});
    if (!changes) {
      state.SkipWithError(changes.error().message.c_str());
      return;
    }
    requests = provider.requestCount();
    events = changes->changed.size();
  }
  state.counters["requests"] = static_cast<double>(requests);
  state.counters["events"] = static_cast<double>(events);
}

}  // namespace

// A hostile server's multistatus: 5,000 properties with 100 attributes each (3.5 MB). Namespace
// resolution must stay linear in the document.
void BM_ParseHostileMultistatus(benchmark::State& state) {
  std::string wide = "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/w</d:href><d:propstat><d:prop>";
  for (int i = 0; i < 5000; ++i) {
    wide += "<d:p" + std::to_string(i);
    for (int a = 0; a < 100; ++a) wide += " a" + std::to_string(a) + "=\"v\"";
    wide += "/>";
  }
  wide += "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>";
  for (auto _ : state) benchmark::DoNotOptimize(caldav::parseMultistatus(wide));
  state.SetBytesProcessed(state.iterations() * static_cast<long long>(wide.size()));
}

BENCHMARK(BM_ParseCalendar);
BENCHMARK(BM_ParseHostileMultistatus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteCalendar);
BENCHMARK(BM_RadicaleFullPull1000)->Unit(benchmark::kMillisecond)->Iterations(5)->UseRealTime();
