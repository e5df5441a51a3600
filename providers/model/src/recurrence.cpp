#include "calgate/model/recurrence.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace calgate::model {
namespace {

using core::ErrorCode;
using core::fail;

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

bool allOf(std::string_view s, std::string_view allowed) {
  return !s.empty() && s.find_first_not_of(allowed) == std::string_view::npos;
}

constexpr std::string_view kDigits = "0123456789";

// RFC 5545 §3.3.10 recur-rule-part names (RFC 7529's RSCALE/SKIP are not accepted).
constexpr std::array<std::string_view, 14> kRecurParts = {
    "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY",
    "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST"};
constexpr std::array<std::string_view, 7> kFrequencies = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY",
                                                         "WEEKLY",   "MONTHLY",  "YEARLY"};
constexpr std::array<std::string_view, 7> kWeekdays = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

bool isDate(std::string_view v) { return v.size() == 8 && allOf(v, kDigits); }
bool isDateTime(std::string_view v) {
  if (v.size() != 15 && v.size() != 16) return false;
  if (!isDate(v.substr(0, 8)) || v[8] != 'T' || !allOf(v.substr(9, 6), kDigits)) return false;
  return v.size() == 15 || v[15] == 'Z';
}

bool validWeekdayList(std::string_view v) {
  // [+/-]ordinal? weekday, comma separated
  std::size_t start = 0;
  while (start <= v.size()) {
    const auto end = std::min(v.find(',', start), v.size());
    std::string_view item = v.substr(start, end - start);
    if (item.size() < 2) return false;
    const auto day = item.substr(item.size() - 2);
    if (std::find(kWeekdays.begin(), kWeekdays.end(), day) == kWeekdays.end()) return false;
    auto ordinal = item.substr(0, item.size() - 2);
    if (!ordinal.empty() && (ordinal[0] == '+' || ordinal[0] == '-')) ordinal.remove_prefix(1);
    if (!ordinal.empty() && (ordinal.size() > 2 || !allOf(ordinal, kDigits))) return false;
    start = end + 1;
  }
  return true;
}

bool validNumberList(std::string_view v) {
  std::size_t start = 0;
  while (start <= v.size()) {
    const auto end = std::min(v.find(',', start), v.size());
    auto item = v.substr(start, end - start);
    if (!item.empty() && (item[0] == '+' || item[0] == '-')) item.remove_prefix(1);
    if (item.empty() || item.size() > 3 || !allOf(item, kDigits)) return false;
    start = end + 1;
  }
  return true;
}

core::Result<std::string> normaliseRecur(std::string_view value) {
  std::string out;
  bool hasFreq = false;
  std::size_t start = 0;
  while (start < value.size()) {
    const auto end = std::min(value.find(';', start), value.size());
    const std::string part = upper(value.substr(start, end - start));
    start = end + 1;
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string::npos) return fail(ErrorCode::Invalid, "RRULE part without '='");
    const std::string name = part.substr(0, eq);
    const std::string v = part.substr(eq + 1);
    if (std::find(kRecurParts.begin(), kRecurParts.end(), name) == kRecurParts.end()) {
      return fail(ErrorCode::Invalid, "RRULE has a part calgate does not carry");
    }
    bool ok = false;
    if (name == "FREQ") {
      ok = std::find(kFrequencies.begin(), kFrequencies.end(), v) != kFrequencies.end();
      hasFreq = true;
    } else if (name == "UNTIL") {
      ok = isDate(v) || isDateTime(v);
    } else if (name == "COUNT" || name == "INTERVAL") {
      ok = v.size() <= 6 && allOf(v, kDigits);
    } else if (name == "BYDAY") {
      ok = validWeekdayList(v);
    } else if (name == "WKST") {
      ok = std::find(kWeekdays.begin(), kWeekdays.end(), v) != kWeekdays.end();
    } else {
      ok = validNumberList(v);
    }
    if (!ok) return fail(ErrorCode::Invalid, "RRULE has a malformed " + name + " value");
    out += (out.empty() ? "" : ";") + name + "=" + v;
  }
  if (!hasFreq) return fail(ErrorCode::Invalid, "RRULE without FREQ");
  return out;
}

}  // namespace

core::Result<std::string> canonicalZone(std::string_view zone) {
  try {
    return std::string(date::locate_zone(std::string(zone))->name());
  } catch (const std::exception&) {
    return fail(ErrorCode::Invalid, "unknown time zone");
  }
}

core::Result<std::string> normaliseRecurrenceLine(std::string_view line) {
  if (line.size() > 2048) return fail(ErrorCode::Invalid, "recurrence line too long");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return fail(ErrorCode::Invalid, "recurrence line without ':'");
  // name and parameters (';'-separated, values may be quoted)
  const std::string_view head = line.substr(0, colon);
  const std::string_view value = line.substr(colon + 1);
  const auto semi = head.find(';');
  const std::string name = upper(head.substr(0, semi));
  if (name == "RRULE") {
    auto recur = normaliseRecur(value);
    if (!recur) return std::unexpected(recur.error());
    return "RRULE:" + *recur;
  }
  if (name != "EXDATE" && name != "RDATE") return fail(ErrorCode::Invalid, "not an RRULE, EXDATE or RDATE line");

  std::string valueType;  // DATE | DATE-TIME | PERIOD
  std::string tzid;
  std::string_view params = semi == std::string_view::npos ? std::string_view() : head.substr(semi + 1);
  while (!params.empty()) {
    const auto end = std::min(params.find(';'), params.size());
    const auto param = params.substr(0, end);
    params = end < params.size() ? params.substr(end + 1) : std::string_view();
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) return fail(ErrorCode::Invalid, "recurrence parameter without '='");
    const std::string pname = upper(param.substr(0, eq));
    std::string_view pvalue = param.substr(eq + 1);
    if (pvalue.size() >= 2 && pvalue.front() == '"' && pvalue.back() == '"') pvalue = pvalue.substr(1, pvalue.size() - 2);
    if (pname == "VALUE") {
      valueType = upper(pvalue);
      if (valueType != "DATE" && valueType != "DATE-TIME" && (valueType != "PERIOD" || name != "RDATE")) {
        return fail(ErrorCode::Invalid, "recurrence line has an unsupported VALUE type");
      }
    } else if (pname == "TZID") {
      auto zone = canonicalZone(pvalue);
      if (!zone) return fail(ErrorCode::Invalid, "recurrence line names an unknown time zone");
      tzid = *zone;
    }
    // every other parameter (x-params included) is dropped
  }
  std::string values;
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto end = std::min(value.find(',', start), value.size());
    const std::string item = upper(value.substr(start, end - start));
    start = end + 1;
    bool ok = false;
    if (valueType == "DATE") ok = isDate(item);
    else if (valueType == "PERIOD") {
      const auto slash = item.find('/');
      ok = slash != std::string::npos && isDateTime(item.substr(0, slash)) &&
           (isDateTime(item.substr(slash + 1)) || allOf(item.substr(slash + 1), "0123456789PTWDHMS+-"));
    } else {
      ok = isDateTime(item);
    }
    if (!ok) return fail(ErrorCode::Invalid, "recurrence line has a malformed date or time");
    if (!tzid.empty() && item.back() == 'Z') return fail(ErrorCode::Invalid, "recurrence line mixes TZID and UTC times");
    values += (values.empty() ? "" : ",") + item;
  }
  std::string out = name;
  if (!valueType.empty() && valueType != "DATE-TIME") out += ";VALUE=" + valueType;
  if (!tzid.empty() && valueType != "DATE") out += ";TZID=" + tzid;
  return out + ":" + values;
}

core::Result<std::vector<std::string>> normaliseRecurrence(const std::vector<std::string>& lines) {
  if (lines.size() > 500) return fail(ErrorCode::Invalid, "too many recurrence lines");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto line = normaliseRecurrenceLine(lines[i]);
    if (!line) {
      return fail(ErrorCode::Invalid, "recurrence line " + std::to_string(i + 1) + ": " + line.error().message);
    }
    out.push_back(std::move(*line));
  }
  return out;
}

std::set<std::string> recurrenceZones(const std::vector<std::string>& lines) {
  std::set<std::string> zones;
  for (const auto& line : lines) {
    const auto at = line.find(";TZID=");
    if (at == std::string::npos) continue;
    const auto end = line.find_first_of(";:", at + 6);
    zones.insert(line.substr(at + 6, end - at - 6));
  }
  return zones;
}

std::vector<std::string> oneValuePerLine(const std::string& line) {
  const auto colon = line.find(':');
  if (line.rfind("RRULE", 0) == 0 || colon == std::string::npos || line.find(',', colon) == std::string::npos) {
    return {line};
  }
  std::vector<std::string> out;
  std::string_view values = std::string_view(line).substr(colon + 1);
  while (!values.empty()) {
    const auto comma = std::min(values.find(','), values.size());
    out.push_back(line.substr(0, colon + 1) + std::string(values.substr(0, comma)));
    values.remove_prefix(std::min(comma + 1, values.size()));
  }
  return out;
}

std::string exdateLineFor(const EventTime& t) {
  auto compact = [](std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
    s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
    return s;
  };
  if (const auto* d = std::get_if<Date>(&t)) return "EXDATE;VALUE=DATE:" + compact(formatDate(d->day));
  if (const auto* z = std::get_if<ZonedTime>(&t)) {
    if (z->zone == "UTC" || z->zone == "Etc/UTC") return "EXDATE:" + compact(formatUtc(z->instant));
    return "EXDATE;TZID=" + z->zone + ":" + compact(formatLocal(localTimeOf(*z)));
  }
  return "EXDATE:" + compact(formatLocal(std::get<FloatingTime>(t).local));
}

}  // namespace calgate::model
