// Fuzz target (libFuzzer entry point) for the iCalendar parser and writer: arbitrary bytes must
// never crash, and whatever parses must serialise and parse again.
// Build: cmake --preset fuzz && cmake --build --preset fuzz
// Run:   build/fuzz/fuzz/calgate_fuzz_ical -max_total_time=60 fuzz/corpus/ical
#include "calgate/providers/caldav/ical_mapping.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = calgate::providers::caldav::parseCalendar(text);
  if (!parsed || parsed->events.empty()) return 0;
  // A series split at a THISANDFUTURE change comes as parts (Event::id ""/"#from=..."): each is
  // written as a resource of its own, as the sync engine writes copies.
  std::map<std::string, std::vector<calgate::model::Event>> parts;
  for (const auto& e : parsed->events) parts[e.id].push_back(e);
  for (const auto& [id, events] : parts) {
    auto written = calgate::providers::caldav::calendarText(events, std::chrono::sys_seconds{}, parsed->sequence);
    if (written) {
      auto again = calgate::providers::caldav::parseCalendar(*written);
      if (!again) __builtin_trap();  // what we write must be readable
    }
  }
  return 0;
}
