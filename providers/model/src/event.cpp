#include "calgate/model/event.hpp"

#include <date/tz.h>

#include <cstdio>

namespace calgate::model {

core::Result<ZonedTime> zonedFromLocal(std::chrono::local_seconds local, std::string_view zone) {
  const date::time_zone* tz = nullptr;
  try {
    tz = date::locate_zone(std::string(zone));
  } catch (const std::exception&) {
    return core::fail(core::ErrorCode::Invalid, "unknown time zone \"" + std::string(zone.substr(0, 64)) + "\"");
  }
  // date::local_seconds and std::chrono::local_seconds are different clocks: go through the count.
  const date::local_seconds l{std::chrono::seconds(local.time_since_epoch().count())};
  const date::local_info info = tz->get_info(l);
  // For unique, ambiguous (first = earlier occurrence) and nonexistent (first = offset before the
  // gap) local times alike, the offset to use is info.first.offset.
  const auto instant = std::chrono::sys_seconds(local.time_since_epoch() - info.first.offset);
  return ZonedTime{instant, std::string(tz->name())};
}

std::chrono::local_seconds localTimeOf(const ZonedTime& t) {
  const date::time_zone* tz = date::locate_zone(t.zone);
  const auto info = tz->get_info(date::sys_seconds(t.instant.time_since_epoch()));
  return std::chrono::local_seconds(t.instant.time_since_epoch() + info.offset);
}

bool isKnownZone(std::string_view zone) {
  try {
    date::locate_zone(std::string(zone));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::string formatDate(const std::chrono::year_month_day& day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(day.year()), static_cast<unsigned>(day.month()),
                static_cast<unsigned>(day.day()));
  return buf;
}

namespace {
std::string formatSeconds(long long secs, bool utc) {
  const auto days = std::chrono::floor<std::chrono::days>(std::chrono::sys_seconds(std::chrono::seconds(secs)));
  const std::chrono::year_month_day ymd{days};
  const long long rest = secs - std::chrono::sys_seconds(days).time_since_epoch().count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld%s", formatDate(ymd).c_str(), rest / 3600, rest / 60 % 60,
                rest % 60, utc ? "Z" : "");
  return buf;
}
}  // namespace

std::string formatLocal(std::chrono::local_seconds local) { return formatSeconds(local.time_since_epoch().count(), false); }
std::string formatUtc(std::chrono::sys_seconds instant) { return formatSeconds(instant.time_since_epoch().count(), true); }

std::string_view toString(Status s) {
  switch (s) {
    case Status::Confirmed: return "confirmed";
    case Status::Tentative: return "tentative";
    case Status::Cancelled: return "cancelled";
  }
  return "confirmed";
}

std::string_view toString(ShowAs s) {
  switch (s) {
    case ShowAs::Free: return "free";
    case ShowAs::Tentative: return "tentative";
    case ShowAs::Busy: return "busy";
    case ShowAs::OutOfOffice: return "out_of_office";
    case ShowAs::WorkingElsewhere: return "working_elsewhere";
  }
  return "busy";
}

std::optional<ShowAs> showAsFromString(std::string_view s) {
  for (auto v : {ShowAs::Free, ShowAs::Tentative, ShowAs::Busy, ShowAs::OutOfOffice, ShowAs::WorkingElsewhere}) {
    if (toString(v) == s) return v;
  }
  return std::nullopt;
}

std::string_view toString(Sensitivity s) {
  switch (s) {
    case Sensitivity::Default: return "default";
    case Sensitivity::Public: return "public";
    case Sensitivity::Normal: return "normal";
    case Sensitivity::Personal: return "personal";
    case Sensitivity::Private: return "private";
    case Sensitivity::Confidential: return "confidential";
  }
  return "private";
}

}  // namespace calgate::model
