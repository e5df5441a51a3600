#include "calgate/providers/caldav/caldav_provider.hpp"

#include "calgate/providers/caldav/ical_mapping.hpp"
#include "calgate/providers/caldav/this_and_future.hpp"
#include "calgate/providers/caldav/multistatus.hpp"
#include "calgate/model/recurrence.hpp"
#include "calgate/providers/http/url_guard.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <set>

namespace calgate::providers::caldav {
namespace {

using core::ErrorCode;
using core::fail;

constexpr const char* kXml = "application/xml; charset=utf-8";

std::string origin(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

std::string withSlash(std::string url) {
  if (url.empty() || url.back() != '/') url += '/';
  return url;
}

std::string utcStamp(std::chrono::sys_seconds t) {
  std::string s = model::formatUtc(t);  // 2026-11-21T09:30:00Z
  std::string out;
  for (char c : s) {
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

// Cursor: "v1\n<ctag>\n<sync-token>" (tokens are URIs or opaque strings without newlines).
struct Cursor {
  std::string ctag;
  std::string token;
};

Cursor parseCursor(const std::string& text) {
  Cursor c;
  if (!text.starts_with("v1\n")) return c;
  const auto second = text.find('\n', 3);
  if (second == std::string::npos) return c;
  c.ctag = text.substr(3, second - 3);
  c.token = text.substr(second + 1);
  return c;
}

std::string formatCursor(const Cursor& c) { return "v1\n" + c.ctag + "\n" + c.token; }

bool sameOccurrence(const model::EventTime& a, const model::EventTime& b) {
  if (const auto* za = std::get_if<model::ZonedTime>(&a)) {
    const auto* zb = std::get_if<model::ZonedTime>(&b);
    return zb && za->instant == zb->instant;
  }
  return a == b;
}


// Whether a refused sync-collection means the token is no longer valid (RFC 6578 §3.2: 403 or 409
// with the DAV:valid-sync-token precondition; iCloud: 404 or 410).
bool isInvalidSyncToken(const HttpResponse& r) {
  if (r.status == 404 || r.status == 410) return true;
  if (r.status != 403 && r.status != 409) return false;
  pugi::xml_document doc;
  if (loadDavXml(doc, r.body)) {
    const auto root = doc.document_element();
    const auto [ns, local] = qualifiedName(root);
    if (ns == kDav && local == "error") return static_cast<bool>(child(root, kDav, "valid-sync-token"));
  }
  return false;
}

// A 403 whose DAV:error says the REPORT is not supported on this collection.
bool isUnsupportedReport(const HttpResponse& r) {
  pugi::xml_document doc;
  if (!loadDavXml(doc, r.body)) return false;
  const auto root = doc.document_element();
  const auto [ns, local] = qualifiedName(root);
  return ns == kDav && local == "error" && child(root, kDav, "supported-report");
}

// A path for comparing hrefs: without scheme and host, percent-decoded (servers differ in what they
// encode).
std::string comparablePath(const std::string& href) {
  const std::string path = hrefPath(href);
  const auto hex = [](char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;  // c is a hex digit
  };
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && std::isxdigit(static_cast<unsigned char>(path[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(path[i + 2]))) {
      out += static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2]));
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out;
}

const std::string kCalendarProps =
    "<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" "
    "xmlns:cs=\"http://calendarserver.org/ns/\"><d:prop><d:resourcetype/><d:displayname/>"
    "<c:supported-calendar-component-set/><cs:getctag/><d:sync-token/><d:current-user-privilege-set/>"
    "<c:calendar-timezone/></d:prop></d:propfind>";

}  // namespace

struct CalDavProvider::Resource {
  CalendarObject object;
  std::string etag;
};

std::string resolveUrl(const std::string& base, const std::string& rawHref) {
  // A '#' in a listed href is a character of the name, not a fragment: encoded, so that an event
  // id's '#' only ever separates the parts of a split series (providers::resourceIdOf).
  // A space or control byte a server wrote raw is encoded too: no HTTP client sends one in a URL.
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string href;
  href.reserve(rawHref.size());
  for (const char c : rawHref) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '#' || c == ' ' || u < 0x20 || u == 0x7F) {
      href += '%';
      href += kHex[u >> 4];
      href += kHex[u & 0x0F];
    } else {
      href += c;
    }
  }
  if (href.find("://") != std::string::npos) return href;
  if (!href.empty() && href.front() == '/') return origin(base) + href;
  const auto slash = base.rfind('/');
  return (slash == std::string::npos ? base + "/" : base.substr(0, slash + 1)) + href;
}

CalDavProvider::CalDavProvider(HttpClient& http, CalDavAccount account, const core::Clock& clock,
                               CalDavOptions options)
    : http_(http), account_(std::move(account)), clock_(clock), options_(options) {}

core::Result<void> CalDavProvider::checkTarget(const policy::ApprovedWrite& write) const {
  if (write.target() != model::ProviderKind::CalDav) {
    return fail(ErrorCode::Invalid, "this write was approved for another provider");
  }
  return {};
}

core::Result<void> CalDavProvider::checkResource(const std::string& calendarId, const std::string& eventId,
                                                 const policy::ApprovedWrite& write) const {
  const std::string calendar = withSlash(calendarId);
  const std::string& bound = write.context().targetCalendar;
  // the same text is the same path; only differently written ones are decoded to compare
  if (!bound.empty() && withSlash(bound) != calendar && comparablePath(withSlash(bound)) != comparablePath(calendar)) {
    return fail(ErrorCode::Invalid, "refusing to write to " + comparablePath(calendar) +
                                        ": the write was approved for " + comparablePath(withSlash(bound)) + " only",
                core::Cause::WrongResource);
  }
  const std::string resource = resolveUrl(calendar, std::string(providers::resourceIdOf(eventId)));
  const std::string approved = calendar + write.event().uid + ".ics";
  if (resource == approved) return {};
  if (origin(resource) == origin(calendar) && comparablePath(resource) == comparablePath(approved)) return {};
  // a corrupted or tampered mapping must never turn into a change of someone's own event
  return fail(ErrorCode::Invalid,
              "refusing to change " + comparablePath(resource) + ": the write was approved for calgate's copy " +
                  comparablePath(approved) + " only",
              core::Cause::WrongResource);
}

core::Result<HttpResponse> CalDavProvider::request(const std::string& method, const std::string& url,
                                                   const std::string& body,
                                                   std::vector<std::pair<std::string, std::string>> headers) {
  if (!credentialsMayFollow(account_.serverUrl, url)) {
    // A calendar home or calendar on another site (a hostile server's href, or one reached through
    // an open redirect): the password stays with the site the account was connected to, and the
    // account's proven domain stays the calendars' own.
    return core::Result<HttpResponse>(std::unexpected(core::Error{
        ErrorCode::Invalid,
        "the CalDAV server pointed to another site (" + origin(url) +
            "); calgate sends the account's password only to the site it was connected to",
        std::nullopt, core::Cause::UrlRejected}));
  }
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.headers = std::move(headers);
  req.username = account_.username;
  req.password = account_.password;
  req.acceptCompressed = method != "PUT" && method != "DELETE";  // their answers carry no calendar data
  {
    std::lock_guard lock(mutex_);
    ++requests_;
  }
  auto response = http_.send(req);
  if (response && (response->status == 401)) {
    return fail(ErrorCode::Unauthorized, "the CalDAV server rejected the username or app-specific password");
  }
  return response;
}

core::Result<std::string> CalDavProvider::calendarHome() {
  {
    std::lock_guard lock(mutex_);
    if (home_) return *home_;
  }
  if (urlHasUserinfo(account_.serverUrl)) {
    // not echoed: the URL holds a secret
    return fail(ErrorCode::Invalid,
                "the CalDAV server URL must not contain a user name or password; give them as the username and "
                "app-specific password instead");
  }
  const std::string body =
      "<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:prop>"
      "<d:current-user-principal/><c:calendar-home-set/><c:calendar-user-address-set/></d:prop></d:propfind>";
  std::vector<std::string> candidates = {account_.serverUrl};
  if (account_.serverUrl.find("/.well-known/caldav") == std::string::npos) {
    candidates.push_back(origin(account_.serverUrl) + "/.well-known/caldav");
  }
  candidates.push_back(origin(account_.serverUrl) + "/");
  std::string lastProblem = "no answer";
  bool answered = false;  // some candidate gave an HTTP answer: the server is there, CalDAV is not
  std::optional<core::Error> unreachable;
  for (const auto& candidate : candidates) {
    auto r = request("PROPFIND", candidate, body, {{"Depth", "0"}, {"Content-Type", kXml}});
    if (!r) {
      if (r.error().code == ErrorCode::Unauthorized || r.error().code == ErrorCode::Invalid) return std::unexpected(r.error());
      lastProblem = r.error().message;
      if (r.error().code == ErrorCode::Unavailable || r.error().code == ErrorCode::Timeout) {
        unreachable = r.error();
      } else {
        answered = true;
      }
      continue;
    }
    answered = true;
    if (r->status != 207) {
      lastProblem = candidate + " answered HTTP " + std::to_string(r->status);
      continue;
    }
    auto ms = parseMultistatus(r->body);
    if (!ms || ms->responses.empty()) continue;
    // the URL after redirects, without userinfo (whatever the HttpClient left in it): it becomes ids
    const std::string base = r->effectiveUrl.empty() ? candidate : withoutUserinfo(r->effectiveUrl).value_or(candidate);
    const auto& resp = ms->responses.front();
    std::string home;
    std::vector<std::string> addresses;
    auto collectAddresses = [&addresses](const auto& response) {
      if (auto set = response.prop(kCalDav, "calendar-user-address-set")) {
        for (const auto& href : children(set, kDav, "href")) {
          if (addresses.size() < 32) addresses.push_back(text(href));  // bounded: a server may list anything
        }
      }
    };
    if (auto set = resp.prop(kCalDav, "calendar-home-set")) {
      home = text(child(set, kDav, "href"));
      collectAddresses(resp);
    }
    if (home.empty()) {
      auto principal = resp.prop(kDav, "current-user-principal");
      const std::string principalHref = principal ? text(child(principal, kDav, "href")) : "";
      if (principalHref.empty()) continue;
      const std::string principalUrl = resolveUrl(base, principalHref);
      auto p = request("PROPFIND", principalUrl, body, {{"Depth", "0"}, {"Content-Type", kXml}});
      if (!p) return std::unexpected(p.error());
      if (p->status != 207) return std::unexpected(statusError(*p, "PROPFIND principal", clock_));
      auto pms = parseMultistatus(p->body);
      if (!pms) return std::unexpected(pms.error());
      for (const auto& pr : pms->responses) {
        if (auto set = pr.prop(kCalDav, "calendar-home-set")) home = text(child(set, kDav, "href"));
        collectAddresses(pr);
      }
      if (home.empty()) return fail(ErrorCode::NotFound, "the CalDAV principal has no calendar-home-set");
      home = resolveUrl(p->effectiveUrl.empty() ? principalUrl : withoutUserinfo(p->effectiveUrl).value_or(principalUrl),
                        home);
    } else {
      home = resolveUrl(base, home);
    }
    if (urlHasUserinfo(home)) return fail(ErrorCode::Invalid, "the CalDAV server named a calendar home with credentials in it");
    std::lock_guard lock(mutex_);
    home_ = withSlash(home);
    addresses_ = std::move(addresses);
    return *home_;
  }
  // Nothing answered at all (refused, timed out, no such host): say so, so callers can tell a
  // server that is down from one that is not a CalDAV server.
  if (!answered && unreachable) return std::unexpected(*unreachable);
  return fail(ErrorCode::NotFound, "no CalDAV calendar home found at " + account_.serverUrl + " (" + lastProblem + ")");
}

core::Result<std::vector<std::string>> CalDavProvider::userAddresses() {
  if (auto home = calendarHome(); !home) return std::unexpected(home.error());
  std::lock_guard lock(mutex_);
  return addresses_;
}

core::Result<std::vector<CalendarInfo>> CalDavProvider::listCalendars() {
  auto home = calendarHome();
  if (!home) return std::unexpected(home.error());
  auto r = request("PROPFIND", *home, kCalendarProps, {{"Depth", "1"}, {"Content-Type", kXml}});
  if (!r) return std::unexpected(r.error());
  if (r->status != 207) return std::unexpected(statusError(*r, "PROPFIND calendar home", clock_));
  auto ms = parseMultistatus(r->body);
  if (!ms) return std::unexpected(ms.error());
  std::vector<CalendarInfo> out;
  const std::string homePath = hrefPath(*home);
  for (const auto& resp : ms->responses) {
    if (withSlash(resp.href) == withSlash(homePath)) continue;
    auto type = resp.prop(kDav, "resourcetype");
    if (!type || !child(type, kCalDav, "calendar")) continue;
    if (auto comps = resp.prop(kCalDav, "supported-calendar-component-set")) {
      bool events = false;
      for (const auto& comp : children(comps, kCalDav, "comp")) {
        if (std::string(comp.attribute("name").value()) == "VEVENT") events = true;
      }
      if (!events) continue;  // a task list (VTODO only), not a calendar of events
    }
    CalendarInfo info;
    info.id = withSlash(resolveUrl(*home, resp.href));
    info.displayName = text(resp.prop(kDav, "displayname"));
    info.changeTag = text(resp.prop(kCalServer, "getctag"));
    if (auto privileges = resp.prop(kDav, "current-user-privilege-set")) {
      bool write = false;
      for (const auto& p : children(privileges, kDav, "privilege")) {
        if (child(p, kDav, "write") || child(p, kDav, "write-content") || child(p, kDav, "all")) write = true;
      }
      info.writable = write;
    }
    const std::string tz = text(resp.prop(kCalDav, "calendar-timezone"));
    if (const auto at = tz.find("TZID:"); at != std::string::npos) {
      std::string zone = tz.substr(at + 5, tz.find_first_of("\r\n", at) - at - 5);
      if (model::isKnownZone(zone)) info.timeZone = zone;
    }
    out.push_back(std::move(info));
  }
  return out;
}

core::Result<CalDavProvider::Resource> CalDavProvider::fetch(const std::string& url, bool splitRanges) {
  auto r = request("GET", url, "", {{"Accept", "text/calendar"}});
  if (!r) return std::unexpected(r.error());
  if (r->status == 404 || r->status == 410) return fail(ErrorCode::NotFound, "no event at " + hrefPath(url));
  if (r->status != 200) return std::unexpected(statusError(*r, "GET event", clock_));
  auto object = parseCalendar(r->body, splitRanges);
  if (!object) return std::unexpected(object.error());
  return Resource{std::move(*object), r->header("etag").value_or("")};
}

core::Result<std::vector<model::Event>> CalDavProvider::getEvent(const std::string&, const std::string& eventId) {
  // A part of a series split at a THISANDFUTURE change ("<href>#from=...") lives in its resource.
  const std::string href = resourceOf(eventId);
  auto resource = fetch(href);
  if (!resource) return std::unexpected(resource.error());
  std::vector<model::Event> out;
  for (auto& e : resource->object.events) {
    e.id = href + e.id;
    if (e.id != eventId) continue;
    e.etag = resource->etag;
    if (e.recurrenceId) e.seriesId = e.id;
    out.push_back(std::move(e));
  }
  if (out.empty()) return core::fail(core::ErrorCode::NotFound, "no such event in the resource");
  return out;
}

core::Result<ChangeSet> CalDavProvider::pullChanges(const std::string& calendarId, const std::string& cursorText,
                                                    const TimeWindow& window, const KnownVersions& known) {
  const std::string calendar = withSlash(calendarId);
  Cursor cursor = parseCursor(cursorText);
  ChangeSet changes;
  // Budgets: a pull that would read more than options_ allow fails whole (BudgetExceeded), never
  // cut short, so nothing is taken for deleted because it was not read.
  std::size_t bytesRead = 0;
  auto spend = [&](const HttpResponse& r) -> core::Result<void> {
    bytesRead += r.body.size();
    if (bytesRead <= options_.maxPullBytes) return {};
    return fail(ErrorCode::Invalid,
                "the calendar's listing is larger than the " + std::to_string(options_.maxPullBytes / (1024 * 1024)) +
                    " MiB one pull may read (sync.pull_max_bytes)",
                core::Cause::BudgetExceeded);
  };

  // 1. CTag: nothing changed, nothing to do.
  auto props = request("PROPFIND", calendar, kCalendarProps, {{"Depth", "0"}, {"Content-Type", kXml}});
  if (!props) return std::unexpected(props.error());
  if (props->status != 207) return std::unexpected(statusError(*props, "PROPFIND calendar", clock_));
  auto pms = parseMultistatus(props->body);
  if (!pms) return std::unexpected(pms.error());
  std::string ctag, serverToken;
  for (const auto& resp : pms->responses) {
    if (auto c = resp.prop(kCalServer, "getctag")) ctag = text(c);
    if (auto t = resp.prop(kDav, "sync-token")) serverToken = text(t);
  }
  if (!cursor.ctag.empty() && !ctag.empty() && ctag == cursor.ctag && !cursor.token.empty()) {
    changes.cursor = cursorText;
    return changes;
  }

  std::vector<std::pair<std::string, std::string>> changed;  // href, etag
  const std::string calendarPath = hrefPath(calendar);
  auto memberOf = [&](const std::string& href) { return withSlash(href) != withSlash(calendarPath); };
  // A member as listed: a clear 404 is gone, a readable ETag is a change; anything else (a member
  // the server refused, failed on or listed without its ETag) is unreadable, never a deletion.
  // Unreadable, and said why: the user sees these in the pair's status and preview.
  auto skip = [&](const std::string& url, const std::string& etag, std::string reason) {
    changes.unreadable.push_back(url);
    changes.skipped.push_back({url, etag, std::move(reason)});
  };
  auto classify = [&](const DavResponse& resp) {
    const std::string url = resolveUrl(calendar, resp.href);
    if (resp.status && *resp.status == 404) {
      changes.removed.push_back(url);
    } else if (resp.status && (*resp.status < 200 || *resp.status > 299)) {
      skip(url, "", "the server listed it with HTTP " + std::to_string(*resp.status));
    } else if (auto etag = resp.prop(kDav, "getetag"); etag && !text(etag).empty()) {
      changed.emplace_back(url, text(etag));
    } else {
      skip(url, "", "the server listed it without an ETag");
    }
  };
  // An answer that is truncated (RFC 6578 §3.6, RFC 5323 §2.3.1: 507 on any response of it).
  auto truncatedListing = [](const Multistatus& ms) {
    return std::any_of(ms.responses.begin(), ms.responses.end(),
                       [](const DavResponse& r) { return r.status && *r.status == 507; });
  };

  // 2. sync-collection from the token (RFC 6578), or a complete listing.
  bool listed = false;
  bool truncated = false;  // the last listing round was cut short by the server
  bool resetDone = false;
  std::string token = cursor.token;
  changes.complete = token.empty();
  int round = 0;
  while (options_.preferSyncCollection && round < options_.maxSyncRounds) {
    const std::string body = "<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token>" + xmlEscape(token) +
                             "</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop>"
                             "</d:sync-collection>";
    auto r = request("REPORT", calendar, body, {{"Depth", "0"}, {"Content-Type", kXml}});
    if (!r) return std::unexpected(r.error());
    // An invalid token: RFC 6578 §3.2 says 403/409 with DAV:valid-sync-token; iCloud answers 404/410.
    // Only these start over with a complete listing: a 5xx is the server failing, an error to retry
    // later with the same token.
    if (!token.empty() && !resetDone && isInvalidSyncToken(*r)) {
      token.clear();
      changed.clear();
      changes.removed.clear();
      changes.unreadable.clear();
      changes.skipped.clear();
      changes.complete = true;
      resetDone = true;
      continue;
    }
    if (r->status == 501 || r->status == 405 || (r->status == 403 && (token.empty() || isUnsupportedReport(*r)))) {
      break;  // not supported
    }
    if (r->status != 207) return std::unexpected(statusError(*r, "sync-collection REPORT", clock_));
    if (auto ok = spend(*r); !ok) return std::unexpected(ok.error());
    auto ms = parseMultistatus(r->body);
    if (!ms) return std::unexpected(ms.error());
    ++round;
    truncated = truncatedListing(*ms);
    const std::size_t before = changed.size() + changes.removed.size() + changes.skipped.size();
    for (const auto& resp : ms->responses) {
      if (resp.status && *resp.status == 507) continue;  // the truncation marker, not a member
      if (memberOf(resp.href)) classify(resp);
    }
    const std::size_t listedSoFar = changed.size() + changes.removed.size() + changes.skipped.size();
    if (truncated && (listedSoFar == before || ms->syncToken.empty() || ms->syncToken == token)) {
      // RFC 6578 §3.6: a truncated answer lists members and hands out a token to continue from
      return fail(ErrorCode::Unavailable, "the server keeps answering its listing as truncated (507) without "
                                          "listing anything new; the pull stopped rather than loop");
    }
    if (listedSoFar > options_.maxPullEvents) {
      return fail(ErrorCode::Invalid,
                  "the calendar lists more than " + std::to_string(options_.maxPullEvents) +
                      " resources, the most one pull may take (sync.pull_max_events)",
                  core::Cause::BudgetExceeded);
    }
    token = ms->syncToken;
    listed = true;
    if (!truncated) break;
  }
  if (listed && truncated) {
    // Every round came back truncated: what is listed is real, but not everything. The token is
    // kept so the next pull continues where this one stopped; deletions must not be inferred.
    changes.complete = false;
  }

  if (!listed) {
    // 2b. No sync-collection: a time-range calendar-query. Complete only within the window.
    const std::string body =
        "<c:calendar-query xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:prop><d:getetag/></d:prop>"
        "<c:filter><c:comp-filter name=\"VCALENDAR\"><c:comp-filter name=\"VEVENT\"><c:time-range start=\"" +
        utcStamp(window.from) + "\" end=\"" + utcStamp(window.to) +
        "\"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>";
    auto r = request("REPORT", calendar, body, {{"Depth", "1"}, {"Content-Type", kXml}});
    if (!r) return std::unexpected(r.error());
    if (r->status != 207) return std::unexpected(statusError(*r, "calendar-query REPORT", clock_));
    if (auto ok = spend(*r); !ok) return std::unexpected(ok.error());
    auto ms = parseMultistatus(r->body);
    if (!ms) return std::unexpected(ms.error());
    truncated = truncatedListing(*ms);
    for (const auto& resp : ms->responses) {
      if (resp.status && *resp.status == 507) continue;
      if (memberOf(resp.href)) classify(resp);
    }
    changes.complete = !truncated;
    if (changes.complete) changes.completeWithin = window;
    token.clear();
    if (changed.size() + changes.removed.size() + changes.skipped.size() > options_.maxPullEvents) {
      return fail(ErrorCode::Invalid,
                  "the calendar lists more than " + std::to_string(options_.maxPullEvents) +
                      " resources, the most one pull may take (sync.pull_max_events)",
                  core::Cause::BudgetExceeded);
    }
  }

  // 3. What is listed at a version the caller holds (calgate's own copies as it wrote them) is not
  // read back.
  if (!known.empty()) {
    std::erase_if(changed, [&](const std::pair<std::string, std::string>& listedAt) {
      auto it = known.find(listedAt.first);
      if (it == known.end() || !sameEtag(it->second, listedAt.second)) return false;
      changes.unchanged.push_back({listedAt.first, listedAt.second});
      return true;
    });
  }
  // 4. Fetch what changed, in multiget batches. Every requested member must be answered: a member
  // left out, refused or failing is unreadable; only a clear 404 means it is gone.
  for (std::size_t i = 0; i < changed.size(); i += options_.multigetBatch) {
    std::string body =
        "<c:calendar-multiget xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:prop><d:getetag/>"
        "<c:calendar-data/></d:prop>";
    const std::size_t end = std::min(changed.size(), i + options_.multigetBatch);
    for (std::size_t k = i; k < end; ++k) body += "<d:href>" + xmlEscape(hrefPath(changed[k].first)) + "</d:href>";
    body += "</c:calendar-multiget>";
    auto r = request("REPORT", calendar, body, {{"Depth", "1"}, {"Content-Type", kXml}});
    if (!r) return std::unexpected(r.error());
    if (r->status != 207) return std::unexpected(statusError(*r, "calendar-multiget REPORT", clock_));
    if (auto ok = spend(*r); !ok) return std::unexpected(ok.error());
    auto ms = parseMultistatus(r->body);
    if (!ms) return std::unexpected(ms.error());
    std::set<std::string> answered;
    for (const auto& resp : ms->responses) {
      const std::string url = resolveUrl(calendar, resp.href);
      answered.insert(comparablePath(resp.href));
      const std::string etag = text(resp.prop(kDav, "getetag"));
      auto data = resp.prop(kCalDav, "calendar-data");
      if (!data) {
        if (resp.status && *resp.status == 404) changes.removed.push_back(url);  // gone meanwhile
        else skip(url, etag, resp.status ? "the server refused to return it (HTTP " + std::to_string(*resp.status) + ")"
                                         : "the server returned no calendar data for it");  // kept
        continue;
      }
      auto object = parseCalendar(text(data));
      if (!object) {
        skip(url, etag, object.error().message);  // kept: never taken for a deletion
        continue;
      }
      for (auto& e : object->events) {
        e.id = url + e.id;  // the parts of a series split at a THISANDFUTURE change: "<href>#from=..."
        e.etag = etag;
        if (e.recurrenceId) e.seriesId = e.id;
        changes.changed.push_back(std::move(e));
      }
    }
    for (std::size_t k = i; k < end; ++k) {
      if (!answered.contains(comparablePath(changed[k].first))) {
        skip(changed[k].first, changed[k].second, "the server left it out of its answer");
      }
    }
  }
  // A listing cut short keeps no CTag: an unchanged CTag must not end the next pull before the rest
  // of the listing has been read.
  if (truncated) ctag.clear();
  changes.cursor = formatCursor(Cursor{ctag, token});
  return changes;
}

// A write the server answered with an error. A 4xx other than 401 (the account) or 429 (slow down)
// refuses this one event (CalDAV preconditions answer 403: valid-calendar-data, max-resource-size,
// no-uid-conflict...): the engine records it as failing and goes on with the others.
core::Error CalDavProvider::writeError(const HttpResponse& r, const std::string& what) const {
  core::Error e = statusError(r, what, clock_);
  if (r.status >= 400 && r.status < 500 && r.status != 401 && r.status != 429) e.cause = core::Cause::WriteRefused;
  return e;
}

core::Result<WriteResult> CalDavProvider::put(const std::string& url, const std::string& body,
                                              const std::string& condition, const std::string& conditionValue) {
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "text/calendar; charset=utf-8"}};
  if (!condition.empty()) headers.emplace_back(condition, conditionValue);
  auto r = request("PUT", url, body, headers);
  if (!r) return std::unexpected(r.error());
  if (r->status == 412) return fail(ErrorCode::PreconditionFailed, "the event changed on the server");
  if (r->status != 200 && r->status != 201 && r->status != 204) return std::unexpected(writeError(*r, "PUT event"));
  if (auto etag = r->header("etag")) return WriteResult{url, *etag};
  // Some servers do not return the new ETag: ask for it.
  auto p = request("PROPFIND", url, "<d:propfind xmlns:d=\"DAV:\"><d:prop><d:getetag/></d:prop></d:propfind>",
                   {{"Depth", "0"}, {"Content-Type", kXml}});
  if (!p) return std::unexpected(p.error());
  auto ms = parseMultistatus(p->body);
  if (!ms || ms->responses.empty()) return WriteResult{url, ""};
  return WriteResult{url, text(ms->responses.front().prop(kDav, "getetag"))};
}

core::Result<WriteResult> CalDavProvider::create(const std::string& calendarId, const policy::ApprovedWrite& write) {
  if (auto ok = checkTarget(write); !ok) return std::unexpected(ok.error());
  const std::string copy = withSlash(calendarId) + write.event().uid + ".ics";
  if (auto ok = checkResource(calendarId, copy, write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Upsert) return fail(ErrorCode::Invalid, "not an upsert");
  const std::string url = withSlash(calendarId) + write.event().uid + ".ics";
  if (write.event().recurrenceId) return writeSeries(url, "", write, false);  // an override joins its series
  auto body = calendarText(write.event(), std::chrono::time_point_cast<std::chrono::seconds>(clock_.now()), 0);
  if (!body) return std::unexpected(body.error());
  auto created = put(url, *body, "If-None-Match", "*");
  if (!created && created.error().code == ErrorCode::PreconditionFailed) {
    // Already there: an earlier attempt succeeded (crash between write and record). Idempotent.
    auto existing = fetch(url, false);  // a copy is rewritten as stored: a user's range stays one resource
    if (!existing) return std::unexpected(existing.error());
    return WriteResult{url, existing->etag, true};
  }
  return created;
}

core::Result<WriteResult> CalDavProvider::update(const std::string& calendarId, const std::string& eventId,
                                                 const std::string& etag, const policy::ApprovedWrite& write) {
  if (auto ok = checkTarget(write); !ok) return std::unexpected(ok.error());
  if (auto ok = checkResource(calendarId, eventId, write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Upsert) return fail(ErrorCode::Invalid, "not an upsert");
  return writeSeries(eventId, etag, write, false);
}

core::Result<WriteResult> CalDavProvider::writeSeries(const std::string& url, const std::string& callerEtag,
                                                      const policy::ApprovedWrite& write, bool removal) {
  const model::Event& ev = write.event();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto current = fetch(url, false);
    std::vector<model::Event> events;
    int sequence = 0;
    std::string etag;
    if (!current) {
      if (current.error().code != ErrorCode::NotFound) return std::unexpected(current.error());
      if (removal) return WriteResult{url, ""};  // nothing left to cancel
      if (ev.recurrenceId) return fail(ErrorCode::NotFound, "the series of this occurrence is not in the calendar");
      auto body = calendarText(ev, std::chrono::time_point_cast<std::chrono::seconds>(clock_.now()), 0);
      if (!body) return std::unexpected(body.error());
      return put(url, *body, "If-None-Match", "*");
    }
    events = std::move(current->object.events);
    sequence = current->object.sequence + 1;  // RFC 5545: SEQUENCE grows with each significant change
    etag = (attempt == 0 && !callerEtag.empty()) ? callerEtag : current->etag;
    if (!ev.recurrenceId) {
      // the master: replace it, keep the overrides
      auto master = std::find_if(events.begin(), events.end(), [](const model::Event& e) { return !e.recurrenceId; });
      if (master != events.end()) {
        // occurrences cancelled here (remove() adds EXDATEs) stay cancelled: the new master does not
        // know of them
        model::Event replacement = ev;
        for (const auto& line : master->recurrence) {
          if (line.starts_with("EXDATE") &&
              std::find(replacement.recurrence.begin(), replacement.recurrence.end(), line) == replacement.recurrence.end()) {
            replacement.recurrence.push_back(line);
          }
        }
        *master = std::move(replacement);
      } else {
        events.insert(events.begin(), ev);
      }
    } else {
      auto same = std::find_if(events.begin(), events.end(), [&](const model::Event& e) {
        return e.recurrenceId && sameOccurrence(*e.recurrenceId, *ev.recurrenceId);
      });
      if (removal) {
        if (same != events.end()) events.erase(same);
        auto master = std::find_if(events.begin(), events.end(), [](const model::Event& e) { return !e.recurrenceId; });
        if (master != events.end()) {
          const std::string exdate = model::exdateLineFor(*ev.recurrenceId);
          if (std::find(master->recurrence.begin(), master->recurrence.end(), exdate) == master->recurrence.end()) {
            master->recurrence.push_back(exdate);
          }
        }
      } else if (same != events.end()) {
        *same = ev;
      } else {
        events.push_back(ev);
      }
    }
    if (events.empty()) {
      // the only override of a resource without a master was cancelled: nothing is left of it
      std::vector<std::pair<std::string, std::string>> headers;
      if (!etag.empty()) headers.emplace_back("If-Match", etag);
      auto r = request("DELETE", url, "", headers);
      if (!r) return std::unexpected(r.error());
      if (r->status == 412 && attempt == 0) continue;  // re-read once
      if (r->status / 100 == 2 || r->status == 404 || r->status == 410) return WriteResult{url, ""};
      return std::unexpected(writeError(*r, "DELETE event"));
    }
    for (auto& e : events) e.uid = events.front().uid;
    auto body = calendarText(events, std::chrono::time_point_cast<std::chrono::seconds>(clock_.now()), sequence);
    if (!body) return std::unexpected(body.error());
    auto written = put(url, *body, "If-Match", etag);
    if (!written && written.error().code == ErrorCode::PreconditionFailed && attempt == 0) continue;  // re-read once
    return written;
  }
  return fail(ErrorCode::PreconditionFailed, "the event kept changing on the server");
}

core::Result<void> CalDavProvider::remove(const std::string& calendarId, const std::string& eventId,
                                          const std::string& etag, const policy::ApprovedWrite& write) {
  if (auto ok = checkTarget(write); !ok) return std::unexpected(ok.error());
  if (auto ok = checkResource(calendarId, eventId, write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Delete) return fail(ErrorCode::Invalid, "not a delete");
  if (write.event().recurrenceId) {
    auto done = writeSeries(eventId, etag, write, true);
    if (!done) return std::unexpected(done.error());
    return {};
  }
  std::string currentEtag = etag;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!currentEtag.empty()) headers.emplace_back("If-Match", currentEtag);
    auto r = request("DELETE", eventId, "", headers);
    if (!r) return std::unexpected(r.error());
    if (r->status == 200 || r->status == 204 || r->status == 404 || r->status == 410) return {};
    if (r->status == 412 && attempt == 0) {
      auto fresh = fetch(eventId);
      if (!fresh) {
        if (fresh.error().code == ErrorCode::NotFound) return {};
        return std::unexpected(fresh.error());
      }
      currentEtag = fresh->etag;
      continue;
    }
    return std::unexpected(writeError(*r, "DELETE event"));
  }
  return fail(ErrorCode::PreconditionFailed, "the event kept changing on the server");
}

}  // namespace calgate::providers::caldav
