#pragma once
/// Time zone names that are not IANA names, as real calendar clients write them, resolved to IANA
/// zones of this system's tz database (the one model::isKnownZone and the rest of the model use):
///   - Windows zone names ("W. Europe Standard Time"), through ICU's Windows <-> IANA mapping
///     (CLDR windowsZones data in libicu; no table of our own);
///   - zones a client defines by its own rules (Outlook's "Customized Time Zone" VTIMEZONE), by
///     finding an IANA zone whose UTC offset is the same at every instant of a window.
///
/// Names returned are the tz database's own (canonical, not links: "Asia/Kolkata", not CLDR's
/// "Asia/Calcutta"). Nothing here throws: failures are nullopt.
///
/// Thread-safety: every function may be called concurrently from any thread. They are pure apart
/// from internal caches (the tz database's zone list, ianaMatching's results), which are guarded by
/// a mutex or built once under the C++ static-initialisation guarantee.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace calgate::model {

/// The IANA zone of a Windows time zone name ("W. Europe Standard Time" -> "Europe/Berlin",
/// "Pacific Standard Time" -> "America/Los_Angeles", "UTC" -> "Etc/UTC"): CLDR's golden zone (the
/// mapping for region "001"), given as this tz database's canonical name. Names are matched exactly
/// (case-sensitive, as Windows and Outlook write them). nullopt for an unknown name, an empty name,
/// one over 128 bytes or with bytes outside printable ASCII, or a zone this system's tz database
/// does not know.
std::optional<std::string> ianaFromWindows(std::string_view windowsName);

/// The Windows time zone name of an IANA zone or link ("Europe/Berlin" and "Europe/Amsterdam" ->
/// "W. Europe Standard Time", "Asia/Calcutta" and "Asia/Kolkata" -> "India Standard Time").
/// nullopt when no Windows zone corresponds (e.g. "CET"), for a name unknown to both ICU and the tz
/// database, and for empty names, names over 128 bytes or outside printable ASCII. A tz database
/// zone newer than ICU's data (ICU 72 carries tzdata 2022e) has no answer unless it is a link
/// ICU knows the target of.
std::optional<std::string> windowsFromIana(std::string_view iana);

/// An IANA zone whose UTC offset is `utcOffsetAt(t)` at every instant t of [from, to), or nullopt
/// when none is (or to <= from, the window leaves the years 1 to 9999, or `utcOffsetAt` is empty,
/// throws, or answers an offset of a day or more). Windows over 5 years are checked over their
/// first 5 years (1827 days) only.
///
/// `utcOffsetAt` is a zone given by its rules (e.g. a VTIMEZONE): it is sampled once a day (and at
/// to - 1 s); between two samples with different offsets the change is found to the second by
/// bisection. A change that is undone within the same day is therefore not seen. The zone so
/// sampled is then compared with each candidate exactly: the candidate must have the same offset
/// throughout every interval of constant offset (which covers every daily sample and both sides,
/// t - 1 s and t, of every change).
///
/// Candidates are the tz database's canonical zones (not links). Among several matches:
/// `preferred` if it is a known zone that matches (returned as its canonical name; e.g. the caller
/// passes ianaFromWindows(tzid)); else "UTC" for a constant zero offset; else CLDR's golden zones
/// first (the zone a Windows zone maps to: "Europe/Berlin", "America/New_York", so the answer is a
/// place a user recognises rather than "Africa/Ceuta"); within each group, the zone that has kept
/// the same offsets for the most years before the window (up to 30: US rules give
/// "America/New_York", on them since 2007, not "America/Grand_Turk", since 2018), then the
/// shorter name ("America/New_York" before "America/Indiana/Indianapolis"), then zones whose name
/// contains a '/' and does not start with "Etc/", then alphabetically.
///
/// Cost: one call of `utcOffsetAt` per day of the window plus about 17 per change (a 2-year window
/// with 4 DST changes: 799 calls). The search over the zones (a cheap prefilter at the window's
/// start and once a month, then the exact comparison) is cached, keyed by the sampled offsets and
/// the window's end, so a repeated zone costs only its sampling. Measured (release build, 2-year
/// window, `utcOffsetAt` being plain arithmetic): first call in a process 3-7 ms (it loads the tz
/// database's zone files, up to all ~450); once they are loaded, uncached calls 25-150 us;
/// cached 10 us.
std::optional<std::string> ianaMatching(
    const std::function<std::chrono::seconds(std::chrono::sys_seconds)>& utcOffsetAt, std::chrono::sys_seconds from,
    std::chrono::sys_seconds to, std::string_view preferred = {});

}  // namespace calgate::model
