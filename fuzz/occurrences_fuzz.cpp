// Fuzz target (libFuzzer entry point) for recurrence expansion: any iCalendar the parser accepts is
// expanded over a two-year window. It must not crash, must finish quickly (run with -timeout=5:
// libical alone searches for minutes on some rules), and must keep its promises: occurrences sorted,
// overlapping the window, at most the limit per series.
// Build: cmake --preset fuzz && cmake --build --preset fuzz
// Run:   build/fuzz/fuzz/calgate_fuzz_occurrences -timeout=5 -max_total_time=60 fuzz/corpus/ical
#include "calgate/model/occurrences.hpp"
#include "calgate/providers/caldav/ical_mapping.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace std::chrono;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = calgate::providers::caldav::parseCalendar(text);
  if (!parsed || parsed->events.empty()) return 0;
  const sys_seconds from = sys_days(2026y / January / 1);
  const sys_seconds to = from + days(730);
  calgate::model::ExpansionLimits limits;
  limits.maxOccurrences = 500;
  auto expanded = calgate::model::expandOccurrences(parsed->events, from, to, "Europe/Berlin", limits);
  if (!expanded) return 0;
  // The limit holds per master (a malformed resource may hold two masters of one UID); overrides
  // may add their own occurrence on top of the generated ones.
  std::size_t masters = 0;
  for (const auto& e : parsed->events) masters += e.recurrenceId ? 0 : 1;
  if (expanded->size() > masters * limits.maxOccurrences + parsed->events.size()) __builtin_trap();
  for (std::size_t i = 0; i < expanded->size(); ++i) {
    const auto& o = (*expanded)[i];
    if (o.event == nullptr) __builtin_trap();
    if (o.endInstant < o.startInstant) __builtin_trap();
    if (o.startInstant >= to || (o.endInstant <= from && o.startInstant < from)) __builtin_trap();
    if (i > 0 && o.startInstant < (*expanded)[i - 1].startInstant) __builtin_trap();
  }
  return 0;
}
