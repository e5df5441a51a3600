// Availability feeds: recurrence expansion and rendering busy blocks (what GET /feeds/{token}.ics
// does per calendar after reading it from the provider). Numbers in bench/README.md.
#include "calgate/feeds/busy_calendar.hpp"
#include "calgate/model/occurrences.hpp"

#include <benchmark/benchmark.h>

using namespace calgate;
using namespace std::chrono;

namespace {

const sys_seconds kFrom = sys_days(2026y / November / 21);
const sys_seconds kTo = kFrom + days(366);

model::Event timed(std::string id, sys_seconds start, std::vector<std::string> recurrence = {}) {
  model::Event e;
  e.id = std::move(id);
  e.uid = e.id;
  e.title = "Weekly planning";
  e.start = model::ZonedTime{start, "Europe/Berlin"};
  e.end = model::ZonedTime{start + 1h, "Europe/Berlin"};
  e.recurrence = std::move(recurrence);
  return e;
}

// A busy calendar: 900 single events and 100 weekly series over the year.
std::vector<model::Event> calendar() {
  std::vector<model::Event> events;
  for (int i = 0; i < 900; ++i) events.push_back(timed("e" + std::to_string(i), kFrom + hours(7 * i % 8760)));
  for (int i = 0; i < 100; ++i) {
    events.push_back(timed("s" + std::to_string(i), kFrom - days(30) + hours(i), {"RRULE:FREQ=WEEKLY"}));
  }
  return events;
}

void BM_ExpandWeeklyYear(benchmark::State& state) {
  const std::vector<model::Event> one = {timed("w", kFrom - days(400), {"RRULE:FREQ=WEEKLY;BYDAY=MO,WE"})};
  for (auto _ : state) {
    auto o = model::expandOccurrences(one, kFrom, kTo);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_ExpandWeeklyYear)->Unit(benchmark::kMicrosecond);

// A filtered sub-daily rule that matches two minutes in two years: jumps, not steps.
void BM_ExpandRareSecondly(benchmark::State& state) {
  const std::vector<model::Event> one = {
      timed("r", kFrom, {"RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=10;BYMINUTE=0"})};
  for (auto _ : state) {
    auto o = model::expandOccurrences(one, kFrom, kFrom + days(800));
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(BM_ExpandRareSecondly)->Unit(benchmark::kMicrosecond);

void BM_RenderFeedYear(benchmark::State& state) {
  const auto events = calendar();
  const providers::TimeWindow window{kFrom - days(7), kTo};
  std::size_t blocks = 0;
  for (auto _ : state) {
    auto b = feeds::busyBlocks(events, window, "fed_x|cal_y", "Europe/Berlin");
    blocks = b->size();
    auto text = feeds::renderBusyCalendar(std::move(*b), "Busy", kFrom);
    benchmark::DoNotOptimize(text);
  }
  state.counters["blocks"] = static_cast<double>(blocks);
}
BENCHMARK(BM_RenderFeedYear)->Unit(benchmark::kMillisecond);

}  // namespace
