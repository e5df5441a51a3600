#include "calgate/feeds/busy_calendar.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/model/occurrences.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace calgate::feeds {
namespace {

using model::Event;

bool busy(const Event& e) {
  return e.status != model::Status::Cancelled && e.showAs != model::ShowAs::Free;
}

std::string occurrenceText(const model::Occurrence& o) {
  if (const auto* d = std::get_if<model::Date>(&o.start)) return model::formatDate(d->day);
  return model::formatUtc(o.startInstant);
}

BusyBlock blockOf(const model::Occurrence& o, std::string_view uidSalt) {
  BusyBlock b;
  if (const auto* d = std::get_if<model::Date>(&o.start)) {
    b.allDay = true;
    b.startDay = std::chrono::sys_days(d->day);
    const auto* e = std::get_if<model::Date>(&o.end);
    b.endDay = e ? std::chrono::sys_days(e->day) : b.startDay + std::chrono::days(1);
    if (b.endDay <= b.startDay) b.endDay = b.startDay + std::chrono::days(1);
  } else {
    b.start = o.startInstant;
    b.end = std::max(o.endInstant, o.startInstant);
  }
  const std::string seriesId = o.event ? (o.event->id.empty() ? o.event->uid : o.event->id) : std::string();
  b.uid = core::sha256Hex(std::string(uidSalt) + "|" + seriesId + "|" + occurrenceText(o)).substr(0, 40) + "@calgate";
  return b;
}

// Groups a listing into series (master + overrides share an id), keeping input order.
std::vector<std::vector<Event>> groups(const std::vector<Event>& events) {
  std::vector<std::vector<Event>> out;
  std::map<std::string, std::size_t> index;
  for (const auto& e : events) {
    const std::string key = e.id.empty() ? e.uid : e.id;
    auto [it, added] = index.emplace(key, out.size());
    if (added) out.emplace_back();
    out[it->second].push_back(e);
  }
  return out;
}

// RFC 5545 §3.3.11 TEXT escaping.
std::string escapeText(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ';' || c == ',') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) {
      out += c;
    }
  }
  return out;
}

// Folds a content line at 75 octets (never inside a UTF-8 sequence) and ends it with CRLF.
void appendLine(std::string& out, std::string_view line) {
  std::size_t start = 0, width = 75;
  while (line.size() - start > width) {
    std::size_t cut = start + width;
    while (cut > start && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    out.append(line.substr(start, cut - start)).append("\r\n ");
    start = cut;
    width = 74;  // the leading space of a continuation line counts
  }
  out.append(line.substr(start)).append("\r\n");
}

std::string basicUtc(std::chrono::sys_seconds t) {
  std::string s = model::formatUtc(t);  // 2026-11-21T09:30:00Z
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == '-' || c == ':'; }), s.end());
  return s;
}

std::string basicDate(std::chrono::sys_days d) {
  std::string s = model::formatDate(std::chrono::year_month_day(d));
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

}  // namespace

core::Result<std::vector<BusyBlock>> busyBlocks(const std::vector<Event>& events, const providers::TimeWindow& window,
                                                std::string_view uidSalt, std::string_view floatingZone,
                                                std::size_t maxBlocks) {
  std::vector<BusyBlock> out;
  const model::ExpansionLimits limits{maxBlocks, true};
  auto tooMany = [&] {
    return core::fail(core::ErrorCode::Invalid,
                      "the calendar has more than " + std::to_string(maxBlocks) + " busy blocks in the feed's window",
                      core::Cause::BudgetExceeded);
  };
  for (const auto& series : groups(events)) {
    auto occurrences = model::expandOccurrences(series, window.from, window.to, floatingZone, limits);
    if (!occurrences && occurrences.error().cause == core::Cause::BudgetExceeded) return tooMany();
    if (!occurrences) {
      // A series that cannot be expanded still blocks its own first occurrence: a feed that
      // showed nothing there would tell people the time is free.
      auto single = series.front();
      single.recurrence.clear();
      std::vector<Event> one{single};
      occurrences = model::expandOccurrences(one, window.from, window.to, floatingZone);
      if (!occurrences) continue;
      for (const auto& o : *occurrences) {
        if (o.event && busy(series.front())) out.push_back(blockOf(o, uidSalt));
      }
      continue;
    }
    for (const auto& o : *occurrences) {
      if (o.event && busy(*o.event)) out.push_back(blockOf(o, uidSalt));
    }
    if (out.size() > maxBlocks) return tooMany();
  }
  return out;
}

std::string renderBusyCalendar(std::vector<BusyBlock> blocks, std::string_view label, std::chrono::sys_seconds now) {
  auto key = [](const BusyBlock& b) {
    return b.allDay ? std::make_tuple(true, b.startDay.time_since_epoch().count() * 86400LL,
                                      b.endDay.time_since_epoch().count() * 86400LL)
                    : std::make_tuple(false, static_cast<long long>(b.start.time_since_epoch().count()),
                                      static_cast<long long>(b.end.time_since_epoch().count()));
  };
  std::stable_sort(blocks.begin(), blocks.end(), [&](const auto& a, const auto& b) {
    return std::get<1>(key(a)) != std::get<1>(key(b)) ? std::get<1>(key(a)) < std::get<1>(key(b)) : key(a) < key(b);
  });
  blocks.erase(std::unique(blocks.begin(), blocks.end(), [&](const auto& a, const auto& b) { return key(a) == key(b); }),
               blocks.end());
  const std::string summary = "SUMMARY:" + escapeText(label);
  const std::string stamp = "DTSTAMP:" + basicUtc(now);
  std::string out;
  out.reserve(200 + blocks.size() * 160);
  appendLine(out, "BEGIN:VCALENDAR");
  appendLine(out, "VERSION:2.0");
  appendLine(out, "PRODID:-//calgate//availability feed//EN");
  appendLine(out, "CALSCALE:GREGORIAN");
  appendLine(out, "METHOD:PUBLISH");
  appendLine(out, "X-WR-CALNAME:" + escapeText(label));
  appendLine(out, "REFRESH-INTERVAL;VALUE=DURATION:PT15M");
  appendLine(out, "X-PUBLISHED-TTL:PT15M");
  for (const auto& b : blocks) {
    appendLine(out, "BEGIN:VEVENT");
    appendLine(out, "UID:" + b.uid);
    appendLine(out, stamp);
    if (b.allDay) {
      appendLine(out, "DTSTART;VALUE=DATE:" + basicDate(b.startDay));
      appendLine(out, "DTEND;VALUE=DATE:" + basicDate(b.endDay));
    } else {
      appendLine(out, "DTSTART:" + basicUtc(b.start));
      appendLine(out, "DTEND:" + basicUtc(b.end));
    }
    appendLine(out, summary);
    appendLine(out, "TRANSP:OPAQUE");
    appendLine(out, "CLASS:PRIVATE");
    appendLine(out, "END:VEVENT");
  }
  appendLine(out, "END:VCALENDAR");
  return out;
}

}  // namespace calgate::feeds
