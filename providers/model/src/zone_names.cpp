#include "calgate/model/zone_names.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/model/event.hpp"

#include <date/tz.h>
#include <unicode/ucal.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace calgate::model {

namespace {

constexpr std::size_t kMaxNameBytes = 128;
constexpr std::int64_t kDay = 86'400;
constexpr std::int64_t kMaxWindow = 1827 * kDay;  // 5 years, one of them a leap year
constexpr std::int64_t kPrefilterStep = 30 * kDay;
constexpr int kMaxChangesPerDay = 8;
constexpr std::size_t kMaxCacheEntries = 4096;
// Windows must lie within years 1..9999 (no overflow in the arithmetic on seconds below).
constexpr std::chrono::sys_seconds kEarliest = std::chrono::sys_days(std::chrono::year(1) / 1 / 1);
constexpr std::chrono::sys_seconds kLatest = std::chrono::sys_days(std::chrono::year(10000) / 1 / 1);
#if USE_OS_TZDB
// Where date reads the OS tz database from (date's discover_tz_dir() on Linux).
constexpr const char* kOsTzDir = "/usr/share/zoneinfo";
#endif

// ---- the tz database's links and canonical zones

struct ZoneTable {
  std::unordered_map<std::string, std::string> linkTarget;  // link -> canonical zone ("" if unknown)
  std::vector<const date::time_zone*> candidates;            // canonical zones, in preference order
};

bool preferredShape(std::string_view name) {
  return name.find('/') != std::string_view::npos && !name.starts_with("Etc/");
}

#if USE_OS_TZDB
// Links of the OS tz database as tzdata.zi lists them ("L <target> <link>"). date, built to read
// the OS database (USE_OS_TZDB, as Debian builds it), lists every file as a zone and no links.
void readTzdataZi(const std::filesystem::path& dir, std::unordered_map<std::string, std::string>& links) {
  std::ifstream in(dir / "tzdata.zi");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("L ")) continue;
    std::istringstream fields(line.substr(2));
    std::string target;
    std::string link;
    if (fields >> target >> link) links.emplace(link, target);
  }
}

// Links installed as symbolic links (also "localtime" and "posixrules", which tzdata.zi does not
// list); the target is the file's path under the tz directory, when it lies there.
void readSymlinks(const std::filesystem::path& dir, const date::tzdb& db,
                  std::unordered_map<std::string, std::string>& links) {
  std::error_code ec;
  const auto root = std::filesystem::canonical(dir, ec);
  if (ec) return;
  for (const auto& zone : db.zones) {
    const auto path = dir / zone.name();
    if (links.contains(zone.name()) || !std::filesystem::is_symlink(path, ec)) continue;
    const auto resolved = std::filesystem::canonical(path, ec);
    std::string target = ec ? std::string() : resolved.lexically_relative(root).generic_string();
    if (target.empty() || target.starts_with("..")) target.clear();
    links.emplace(zone.name(), std::move(target));
  }
}
#endif

ZoneTable buildZoneTable() {
  ZoneTable table;
  try {
    const date::tzdb& db = date::get_tzdb();
#if USE_OS_TZDB
    readTzdataZi(kOsTzDir, table.linkTarget);
    readSymlinks(kOsTzDir, db, table.linkTarget);
#else
    for (const auto& link : db.links) table.linkTarget.emplace(link.name(), link.target());
#endif
    // A link to a link (not written by zic, but cheap to allow): follow a few steps.
    for (auto& [link, target] : table.linkTarget) {
      for (int i = 0; i < 4; ++i) {
        const auto next = table.linkTarget.find(target);
        if (next == table.linkTarget.end() || next->second.empty()) break;
        target = next->second;
      }
    }
    for (const auto& zone : db.zones) {
      if (!table.linkTarget.contains(zone.name())) table.candidates.push_back(&zone);
    }
    std::sort(table.candidates.begin(), table.candidates.end(), [](const date::time_zone* a, const date::time_zone* b) {
      const bool pa = preferredShape(a->name());
      const bool pb = preferredShape(b->name());
      return pa != pb ? pa : a->name() < b->name();
    });
  } catch (const std::exception&) {
    table = {};  // no tz database: nothing resolves
  }
  return table;
}

const ZoneTable& zoneTable() {
  static const ZoneTable table = buildZoneTable();
  return table;
}

// The tz database's own name for a zone or link.
std::string canonicalName(std::string_view name) {
  const auto& links = zoneTable().linkTarget;
  const auto it = links.find(std::string(name));
  return it == links.end() || it->second.empty() ? std::string(name) : it->second;
}

// ---- ICU

bool printableAscii(std::string_view s) {
  return !s.empty() && s.size() <= kMaxNameBytes &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

std::u16string widen(std::string_view ascii) { return {ascii.begin(), ascii.end()}; }

std::optional<std::string> narrow(const UChar* s, std::int32_t length) {
  std::string out;
  for (std::int32_t i = 0; i < length; ++i) {
    if (s[i] < 0x20 || s[i] > 0x7e) return std::nullopt;
    out.push_back(static_cast<char>(s[i]));
  }
  return out;
}

// A Windows name for an IANA id ICU knows (it canonicalises CLDR aliases itself).
std::optional<std::string> icuWindowsId(std::string_view iana) {
  const std::u16string id = widen(iana);
  UChar out[kMaxNameBytes];
  UErrorCode status = U_ZERO_ERROR;
  const std::int32_t n =
      ucal_getWindowsTimeZoneID(id.data(), static_cast<std::int32_t>(id.size()), out, kMaxNameBytes, &status);
  if (U_FAILURE(status) || n <= 0) return std::nullopt;
  return narrow(out, n);
}

// ---- a zone given by its offsets, sampled

struct Segment {
  std::int64_t begin;   // UTC seconds
  std::int64_t offset;  // seconds east of UTC, from `begin` to the next segment's begin
};
using Profile = std::vector<Segment>;  // begins ascending; the first is the window's start

using OffsetFn = std::function<std::chrono::seconds(std::chrono::sys_seconds)>;

class Sampler {
 public:
  explicit Sampler(const OffsetFn& fn) : fn_(fn) {}

  // The zone's offsets over [from, to): daily samples, every change bisected to the second.
  std::optional<Profile> sample(std::int64_t from, std::int64_t to) {
    const auto first = at(from);
    if (!first) return std::nullopt;
    Profile profile{{from, *first}};
    std::int64_t prevT = from;
    std::int64_t prevOffset = *first;
    for (std::int64_t t = from + kDay;; t += kDay) {
      if (t >= to) t = to - 1;  // the window's last second, when the last day is not whole
      if (t <= prevT) break;
      const auto offset = at(t);
      if (!offset || !bisect(prevT, prevOffset, t, *offset, profile)) return std::nullopt;
      prevT = t;
      prevOffset = *offset;
    }
    return profile;
  }

 private:
  std::optional<std::int64_t> at(std::int64_t t) {
    const std::int64_t offset = fn_(std::chrono::sys_seconds(std::chrono::seconds(t))).count();
    if (offset <= -kDay || offset >= kDay) return std::nullopt;
    return offset;
  }

  // Appends the changes in (lo, hi] (offset loOffset at lo, hiOffset at hi) to the profile.
  bool bisect(std::int64_t lo, std::int64_t loOffset, std::int64_t hi, std::int64_t hiOffset, Profile& profile) {
    for (int changes = 0; loOffset != hiOffset; ++changes) {
      if (changes == kMaxChangesPerDay) return false;
      std::int64_t a = lo;
      std::int64_t b = hi;
      std::int64_t bOffset = hiOffset;  // invariant: offset(a) == loOffset, offset(b) == bOffset != loOffset
      while (b - a > 1) {
        const std::int64_t mid = a + (b - a) / 2;
        const auto offset = at(mid);
        if (!offset) return false;
        if (*offset == loOffset) {
          a = mid;
        } else {
          b = mid;
          bOffset = *offset;
        }
      }
      profile.push_back({b, bOffset});
      lo = b;
      loOffset = bOffset;
    }
    return true;
  }

  const OffsetFn& fn_;
};

std::int64_t offsetAt(const Profile& profile, std::int64_t t) {
  const auto it = std::upper_bound(profile.begin(), profile.end(), t,
                                   [](std::int64_t v, const Segment& s) { return v < s.begin; });
  return std::prev(it)->offset;
}

std::int64_t zoneOffset(const date::time_zone& zone, std::int64_t t) {
  return zone.get_info(date::sys_seconds(std::chrono::seconds(t))).offset.count();
}

// Cheap rejection: the window's start and one instant a month.
bool roughlySame(const date::time_zone& zone, const Profile& profile, std::int64_t to) {
  for (std::int64_t t = profile.front().begin; t < to; t += kPrefilterStep) {
    if (zoneOffset(zone, t) != offsetAt(profile, t)) return false;
  }
  return true;
}

// Exact: the zone's offset equals the profile's over all of [from, to), walking both sets of
// intervals of constant offset together.
bool sameOffsets(const date::time_zone& zone, const Profile& profile, std::int64_t to) {
  std::size_t i = 0;
  for (std::int64_t t = profile.front().begin; t < to;) {
    while (i + 1 < profile.size() && profile[i + 1].begin <= t) ++i;
    const auto info = zone.get_info(date::sys_seconds(std::chrono::seconds(t)));
    if (info.offset.count() != profile[i].offset) return false;
    const std::int64_t nextChange = i + 1 < profile.size() ? profile[i + 1].begin : to;
    t = std::max(t + 1, std::min(nextChange, static_cast<std::int64_t>(info.end.time_since_epoch().count())));
  }
  return true;
}

bool matches(const date::time_zone& zone, const Profile& profile, std::int64_t to) {
  try {
    return roughlySame(zone, profile, to) && sameOffsets(zone, profile, to);
  } catch (const std::exception&) {
    return false;  // a zone file date cannot read is no candidate
  }
}

std::optional<std::string> ianaFromWindowsId(std::string_view windowsName);
std::optional<std::string> windowsIdOf(std::string_view iana);

/// The zones CLDR names first for a Windows zone ("Europe/Berlin" for "W. Europe Standard Time"):
/// among zones with the same rules, the one a user recognises ("Europe/Berlin", not "Africa/Ceuta").
const std::vector<const date::time_zone*>& goldenCandidates() {
  static const std::vector<const date::time_zone*> golden = [] {
    std::vector<const date::time_zone*> out;
    for (const date::time_zone* zone : zoneTable().candidates) {
      const auto windows = windowsIdOf(zone->name());
      if (windows && ianaFromWindowsId(*windows) == zone->name()) out.push_back(zone);
    }
    return out;
  }();
  return golden;
}

constexpr int kHistoryYears = 30;
constexpr std::int64_t kYear = 365 * kDay;

/// The offsets of the zone being matched over earlier years, sampled once each, as asked for.
class History {
 public:
  History(Sampler& sampler, std::int64_t begin) : sampler_(sampler), begin_(begin) {}
  /// Consecutive years before the window in which `zone` keeps the same offsets (at most kHistoryYears).
  int yearsMatching(const date::time_zone& zone) {
    int years = 0;
    for (; years < kHistoryYears; ++years) {
      const std::int64_t to = begin_ - years * kYear;
      if (static_cast<std::size_t>(years) == years_.size()) years_.push_back(sampler_.sample(to - kYear, to));
      const auto& past = years_[static_cast<std::size_t>(years)];
      if (!past || !matches(zone, *past, to)) break;
    }
    return years;
  }

 private:
  Sampler& sampler_;
  std::int64_t begin_;
  std::vector<std::optional<Profile>> years_;
};

std::optional<std::string> search(const Profile& profile, std::int64_t to, Sampler& sampler) {
  // UTC is UTC, not one of the places that happen to keep it ("Africa/Sao_Tome")
  if (profile.size() == 1 && profile.front().offset == 0) return std::string("UTC");
  for (const auto* list : {&goldenCandidates(), &zoneTable().candidates}) {
    std::vector<const date::time_zone*> found;
    for (const date::time_zone* zone : *list) {
      if (matches(*zone, profile, to)) found.push_back(zone);
    }
    if (found.empty()) continue;
    // Several zones follow these rules now: the one that has followed them longest. A custom zone
    // with the US rules is "America/New_York" (since 2007), not "America/Grand_Turk" (since 2018).
    History history(sampler, profile.front().begin);
    const date::time_zone* best = found.front();
    int bestYears = found.size() > 1 ? history.yearsMatching(*best) : 0;
    // ties: the shorter name ("America/New_York" before "America/Indiana/Indianapolis"), then
    // the list's order (alphabetical)
    auto depth = [](const date::time_zone* z) { return std::count(z->name().begin(), z->name().end(), '/'); };
    for (std::size_t i = 1; i < found.size(); ++i) {
      const int years = history.yearsMatching(*found[i]);
      if (years > bestYears || (years == bestYears && depth(found[i]) < depth(best))) best = found[i], bestYears = years;
    }
    return std::string(best->name());
  }
  return std::nullopt;
}

struct MatchCache {
  std::mutex mutex;
  std::map<std::string, std::optional<std::string>> results;  // SHA-256 of (to, begin:offset...) -> match
};

MatchCache& matchCache() {
  static MatchCache cache;
  return cache;
}

std::optional<std::string> preferredMatch(std::string_view preferred, const Profile& profile, std::int64_t to) {
  if (!printableAscii(preferred)) return std::nullopt;
  std::string name = canonicalName(preferred);
  if (!isKnownZone(name)) return std::nullopt;
  if (!matches(*date::locate_zone(name), profile, to)) return std::nullopt;
  return name;
}

std::optional<std::string> ianaFromWindowsId(std::string_view windowsName) {
  if (!printableAscii(windowsName)) return std::nullopt;
  const std::u16string id = widen(windowsName);
  UChar out[kMaxNameBytes];
  UErrorCode status = U_ZERO_ERROR;
  // No region: CLDR's golden zone, the mapping for territory "001".
  const std::int32_t n = ucal_getTimeZoneIDForWindowsID(id.data(), static_cast<std::int32_t>(id.size()), nullptr, out,
                                                        kMaxNameBytes, &status);
  if (U_FAILURE(status) || n <= 0) return std::nullopt;
  const auto iana = narrow(out, n);
  if (!iana) return std::nullopt;
  // CLDR keeps old names ("Asia/Calcutta", "Europe/Kiev"): give the tz database's.
  std::string name = canonicalName(*iana);
  if (!isKnownZone(name)) return std::nullopt;
  return name;
}

std::optional<std::string> windowsIdOf(std::string_view iana) {
  if (!printableAscii(iana)) return std::nullopt;
  if (auto windows = icuWindowsId(iana)) return windows;
  // A link ICU does not know, to a zone it does.
  const std::string canonical = canonicalName(iana);
  if (canonical != iana) return icuWindowsId(canonical);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ianaFromWindows(std::string_view windowsName) { return ianaFromWindowsId(windowsName); }

std::optional<std::string> windowsFromIana(std::string_view iana) { return windowsIdOf(iana); }

std::optional<std::string> ianaMatching(
    const std::function<std::chrono::seconds(std::chrono::sys_seconds)>& utcOffsetAt, std::chrono::sys_seconds from,
    std::chrono::sys_seconds to, std::string_view preferred) {
  if (!utcOffsetAt || to <= from || from < kEarliest || to > kLatest) return std::nullopt;
  try {
    const std::int64_t begin = from.time_since_epoch().count();
    const std::int64_t end = std::min(to.time_since_epoch().count(), begin + kMaxWindow);
    Sampler sampler(utcOffsetAt);
    const auto profile = sampler.sample(begin, end);
    if (!profile) return std::nullopt;
    if (!preferred.empty()) {
      if (auto match = preferredMatch(preferred, *profile, end)) return match;
    }

    // the profile's digest, not the profile: a zone changing daily would make a key of kilobytes
    std::string material = std::to_string(end);
    for (const auto& segment : *profile) {
      material += ';' + std::to_string(segment.begin) + ':' + std::to_string(segment.offset);
    }
    const std::string key = core::sha256Hex(material);
    MatchCache& cache = matchCache();
    {
      const std::lock_guard lock(cache.mutex);
      if (const auto it = cache.results.find(key); it != cache.results.end()) return it->second;
    }
    auto match = search(*profile, end, sampler);  // outside the lock: concurrent misses may both search
    const std::lock_guard lock(cache.mutex);
    if (cache.results.size() >= kMaxCacheEntries) cache.results.clear();
    cache.results.emplace(std::move(key), match);
    return match;
  } catch (...) {
    return std::nullopt;  // utcOffsetAt threw (whatever it threw), or memory ran out
  }
}

}  // namespace calgate::model
