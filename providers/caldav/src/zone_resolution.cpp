#include "calgate/providers/caldav/zone_resolution.hpp"

#include "calgate/model/event.hpp"
#include "calgate/model/zone_names.hpp"

#include <libical/ical.h>

#include <cstring>
#include <ctime>
#include <map>
#include <mutex>

namespace calgate::providers::caldav {

namespace {

constexpr std::string_view kLibicalPrefix = "/freeassociation.sourceforge.net/";
constexpr std::string_view kLibicalTzfile = "Tzfile/";  // libical before 1.0 wrote ".../Tzfile/Europe/Berlin"

std::string_view withoutLibicalPrefix(std::string_view tzid) {
  if (!tzid.starts_with(kLibicalPrefix)) return tzid;
  tzid.remove_prefix(kLibicalPrefix.size());
  if (tzid.starts_with(kLibicalTzfile)) tzid.remove_prefix(kLibicalTzfile.size());
  return tzid;
}

// At least one STANDARD or DAYLIGHT observance with an offset: without one, libical answers UTC
// for every instant, which would "match" Africa/Abidjan.
bool hasObservances(icaltimezone* zone) {
  icalcomponent* vtimezone = icaltimezone_get_component(zone);
  if (!vtimezone) return false;
  for (const icalcomponent_kind kind : {ICAL_XSTANDARD_COMPONENT, ICAL_XDAYLIGHT_COMPONENT}) {
    for (icalcomponent* c = icalcomponent_get_first_component(vtimezone, kind); c;
         c = icalcomponent_get_next_component(vtimezone, kind)) {
      if (icalcomponent_get_first_property(c, ICAL_TZOFFSETTO_PROPERTY) &&
          icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY)) {
        return true;
      }
    }
  }
  return false;
}

// libical expands a VTIMEZONE's changes from its first DTSTART on: Outlook's start in 1601, and
// the first offset asked of a fresh icaltimezone costs ~10 ms (800+ changes). Each resource comes
// with a fresh one, so the answer is cached by the VTIMEZONE's text and the window.
constexpr std::size_t kMaxCachedText = 16 * 1024;
constexpr std::size_t kMaxCacheEntries = 256;

struct ResolutionCache {
  std::mutex mutex;
  std::map<std::string, std::optional<std::string>> results;
};

ResolutionCache& resolutionCache() {
  static ResolutionCache cache;
  return cache;
}

// (from, to, VTIMEZONE text), or empty when the text is too long to be worth keeping.
std::string cacheKey(icaltimezone* zone, std::chrono::sys_seconds from, std::chrono::sys_seconds to) {
  char* text = icalcomponent_as_ical_string_r(icaltimezone_get_component(zone));
  if (!text) return {};
  std::string key;
  if (std::strlen(text) <= kMaxCachedText) {
    key = std::to_string(from.time_since_epoch().count()) + ' ' + std::to_string(to.time_since_epoch().count()) +
          '\n' + text;
  }
  icalmemory_free_buffer(text);
  return key;
}

std::chrono::seconds utcOffsetOf(icaltimezone* zone, std::chrono::sys_seconds t) {
  // The function reads `tt` as a UTC time: build it in UTC.
  icaltimetype tt = icaltime_from_timet_with_zone(static_cast<time_t>(t.time_since_epoch().count()), 0,
                                                  icaltimezone_get_utc_timezone());
  int isDaylight = 0;
  return std::chrono::seconds(icaltimezone_get_utc_offset_of_utc_time(zone, &tt, &isDaylight));
}

}  // namespace

std::optional<std::string> resolveZone(std::string_view tzid, icaltimezone* defined, std::chrono::sys_seconds from,
                                       std::chrono::sys_seconds to) {
  const std::string_view name = withoutLibicalPrefix(tzid);
  if (!name.empty() && model::isKnownZone(name)) return std::string(name);
  if (auto windows = model::ianaFromWindows(name)) return windows;
  if (!defined || !hasObservances(defined)) return std::nullopt;
  const std::string key = cacheKey(defined, from, to);
  // a VTIMEZONE too long to cache is not matched at all: a hostile one would be sampled again for
  // every EXDATE line naming it (real ones are a few hundred bytes)
  if (key.empty()) return std::nullopt;
  ResolutionCache& cache = resolutionCache();
  {
    const std::lock_guard lock(cache.mutex);
    if (const auto it = cache.results.find(key); it != cache.results.end()) return it->second;
  }
  auto match =
      model::ianaMatching([defined](std::chrono::sys_seconds t) { return utcOffsetOf(defined, t); }, from, to);
  {
    const std::lock_guard lock(cache.mutex);
    if (cache.results.size() >= kMaxCacheEntries) cache.results.clear();
    cache.results.emplace(key, match);
  }
  return match;
}

}  // namespace calgate::providers::caldav
