// Fuzz target (libFuzzer entry point) for the WebDAV multistatus parser.
// Build: cmake --preset fuzz && cmake --build --preset fuzz
// Run:   build/fuzz/fuzz/calgate_fuzz_multistatus -max_total_time=60 fuzz/corpus/multistatus
#include "calgate/providers/caldav/multistatus.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace calgate::providers::caldav;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto ms = parseMultistatus(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!ms) return 0;
  for (const auto& r : ms->responses) {
    (void)text(r.prop(kDav, "getetag"));
    (void)text(r.prop(kCalDav, "calendar-data"));
    (void)hrefPath(r.href);
  }
  return 0;
}
