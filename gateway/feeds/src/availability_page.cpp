#include "calgate/feeds/availability_page.hpp"

#include "calgate/core/html.hpp"
#include "calgate/model/event.hpp"

#include <botan/base64.h>
#include <botan/hash.h>

#include <algorithm>
#include <cstdio>

namespace calgate::feeds {
namespace {

using namespace std::chrono;

constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1b1b;background:#fff}"
    "h1{font-size:1.4rem}ol{list-style:none;padding:0;margin:0}"
    ".days{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.75rem}"
    ".day{border:1px solid #767676;border-radius:.4rem;padding:.5rem}.day h2{font-size:1rem;margin:0 0 .4rem}"
    ".busy{background:#e8e8e8;border-left:.3rem solid #3a3a3a;padding:.2rem .4rem;margin:.2rem 0}"
    ".free{color:#3d5a3d}nav{display:flex;gap:1rem;margin:1rem 0}button,input{font:inherit;padding:.4rem .6rem}"
    "a:focus,button:focus,input:focus{outline:3px solid #1a5fb4;outline-offset:2px}";


std::string dayText(sys_days d) { return model::formatDate(year_month_day{d}); }

std::string clock(local_seconds t) {
  const auto minutes = duration_cast<std::chrono::minutes>(t - floor<days>(t)).count();
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(minutes / 60), static_cast<int>(minutes % 60));
  return buf;
}

std::string page(std::string_view title, std::string_view body) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta name=\"referrer\" content=\"no-referrer\"><title>" +
         core::htmlEscape(title) + "</title><style>" + std::string(kStyle) + "</style></head><body><main>" + std::string(body) +
         "</main></body></html>\n";
}

const char* kWeekdays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// A week button: a link for an open feed, a form carrying the PIN for a protected one.
std::string weekLink(const AvailabilityPage& p, sys_days monday, std::string_view text) {
  if (!p.pin) return "<a href=\"?week=" + dayText(monday) + "\">" + std::string(text) + "</a>";
  return "<form method=\"post\"><input type=\"hidden\" name=\"pin\" value=\"" + core::htmlEscape(*p.pin) +
         "\"><input type=\"hidden\" name=\"week\" value=\"" + dayText(monday) + "\"><button type=\"submit\">" +
         std::string(text) + "</button></form>";
}

}  // namespace

core::Result<AvailabilityWeek> weekOf(sys_days day, std::string_view zone) {
  if (!model::isKnownZone(zone)) return core::fail(core::ErrorCode::Invalid, "unknown time zone");
  AvailabilityWeek w;
  // Monday of the week: 1970-01-01 was a Thursday
  w.monday = day - days((weekday(day).c_encoding() + 6) % 7);
  w.zone = std::string(zone);
  auto from = model::zonedFromLocal(local_seconds(w.monday.time_since_epoch()), zone);
  auto to = model::zonedFromLocal(local_seconds((w.monday + days(7)).time_since_epoch()), zone);
  if (!from || !to) return core::fail(core::ErrorCode::Invalid, "unknown time zone");
  w.window = {from->instant, to->instant};
  return w;
}

std::optional<sys_days> parseDay(std::string_view text) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(std::string(text).c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(m)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return sys_days(ymd);
}

std::string renderAvailability(const std::vector<BusyBlock>& blocks, const AvailabilityPage& p) {
  std::vector<std::string> perDay(7);
  std::vector<BusyBlock> sorted = blocks;
  std::sort(sorted.begin(), sorted.end(), [](const BusyBlock& a, const BusyBlock& b) {
    return (a.allDay ? sys_seconds(a.startDay) : a.start) < (b.allDay ? sys_seconds(b.startDay) : b.start);
  });
  const std::string label = core::htmlEscape(p.label);
  for (std::size_t i = 0; i < 7; ++i) {
    const sys_days day = p.week.monday + days(i);
    for (const auto& b : sorted) {
      if (b.allDay) {
        if (b.startDay <= day && day < b.endDay) perDay[i] += "<li class=\"busy\">All day: " + label + "</li>";
        continue;
      }
      const auto start = model::localTimeOf({b.start, p.week.zone}), end = model::localTimeOf({b.end, p.week.zone});
      const local_days today(day.time_since_epoch());
      if (end <= today || start >= today + days(1)) continue;
      const std::string from = start < today ? "00:00" : clock(start);
      const std::string to = end >= today + days(1) ? "24:00" : clock(end);
      perDay[i] += "<li class=\"busy\">" + from + "&ndash;" + to + ": " + label + "</li>";
    }
  }
  std::string body = "<h1>" + label + ": availability</h1><p>Week of " + dayText(p.week.monday) + ", times in " +
                     core::htmlEscape(p.week.zone) + ". Only busy times are shown, never what they are.</p><nav>";
  if (p.previous) body += weekLink(p, p.week.monday - days(7), "&larr; Previous week");
  if (p.next) body += weekLink(p, p.week.monday + days(7), "Next week &rarr;");
  body += "</nav><div class=\"days\">";
  for (std::size_t i = 0; i < 7; ++i) {
    body += "<section class=\"day\" aria-labelledby=\"d" + std::to_string(i) + "\"><h2 id=\"d" + std::to_string(i) + "\">" +
            kWeekdays[i] + " " + dayText(p.week.monday + days(i)) + "</h2>";
    body += perDay[i].empty() ? "<p class=\"free\">Free all day</p>" : "<ol>" + perDay[i] + "</ol>";
    body += "</section>";
  }
  body += "</div>";
  return page(p.label + ": availability", body);
}

std::string renderPinForm(std::string_view message, std::string_view week) {
  std::string body = "<h1>Availability</h1><p>This availability page is protected by a PIN.</p>";
  if (!message.empty()) body += "<p role=\"alert\">" + core::htmlEscape(message) + "</p>";
  body += "<form method=\"post\"><label for=\"pin\">PIN</label> <input id=\"pin\" name=\"pin\" type=\"password\" "
          "inputmode=\"numeric\" autocomplete=\"off\" required autofocus>";
  if (!week.empty()) body += "<input type=\"hidden\" name=\"week\" value=\"" + core::htmlEscape(week) + "\">";
  body += " <button type=\"submit\">Show availability</button></form>";
  return page("Availability", body);
}

const std::string& availabilityCsp() {
  static const std::string csp = [] {
    auto hash = Botan::HashFunction::create_or_throw("SHA-256");
    hash->update(reinterpret_cast<const std::uint8_t*>(kStyle.data()), kStyle.size());
    const auto digest = hash->final();
    return "default-src 'none'; style-src 'sha256-" + Botan::base64_encode(digest.data(), digest.size()) +
           "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  }();
  return csp;
}

}  // namespace calgate::feeds
