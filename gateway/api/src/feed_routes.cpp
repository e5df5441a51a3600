// Availability feeds: /v1/feeds manages them; GET /feeds/{token}.ics serves busy blocks to whoever
// holds the capability URL (and the PIN, when one is set). Rendered live from the calendars on
// every request; nothing of the events is stored.

#include "calgate/core/hash.hpp"
#include "calgate/core/log.hpp"
#include "calgate/feeds/busy_calendar.hpp"
#include "calgate/feeds/availability_page.hpp"
#include "calgate/feeds/feed_store.hpp"
#include "calgate/sync/sync_service.hpp"
#include "support.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <future>
#include <mutex>

namespace calgate::api {
namespace {

using core::ErrorCode;
constexpr const char* kCalendarType = "text/calendar; charset=utf-8";

// Rendered feeds for a minute: calendar apps poll subscriptions, and every render reads each
// calendar from its provider; failures for half a minute. Keyed by feed id and its calendars; a
// revoked feed is refused before the cache is consulted (the token lookup reads the database on
// every request). One render per feed at a time: a request arriving while its feed renders gets
// the last good rendering (up to kStaleSeconds old, marked stale) or waits for the render.
class RenderCache {
 public:
  static constexpr long long kSeconds = 60;
  static constexpr long long kFailureSeconds = 30;
  static constexpr long long kStaleSeconds = 3600;
  static constexpr std::size_t kMaxFeeds = 1000;

  /// What a request does: answer from the cache, wait for another request's render, or render.
  struct Turn {
    std::optional<http::Response> answer;
    std::shared_future<http::Response> render;  ///< valid: wait for this render
    bool mine = false;                          ///< render it (then finish())
  };

  Turn take(const std::string& key, long long now) {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it != entries_.end() && it->second.until > now) return Turn{it->second.response, {}, false};
    if (const auto flight = flights_.find(key); flight != flights_.end()) {
      if (auto stale = staleOf(key, now)) return Turn{std::move(stale), {}, false};
      return Turn{std::nullopt, flight->second.future, false};
    }
    Flight& f = flights_[key];
    f.future = f.promise.get_future().share();
    return Turn{std::nullopt, {}, true};
  }

  /// The render is over: kept for `seconds` (a failure with the last good rendering, if still
  /// young enough, is answered with that, marked stale); everyone waiting gets the answer.
  http::Response finish(const std::string& key, long long now, http::Response rendered, long long seconds) {
    std::promise<http::Response> promise;
    http::Response answer = rendered;
    {
      std::lock_guard lock(mutex_);
      if (entries_.size() >= kMaxFeeds) {
        std::erase_if(entries_, [now](const auto& e) { return e.second.until <= now; });
        std::erase_if(good_, [now](const auto& e) { return e.second.first + kStaleSeconds <= now; });
        if (entries_.size() >= kMaxFeeds) entries_.erase(entries_.begin());
        if (good_.size() >= kMaxFeeds) good_.erase(good_.begin());
      }
      if (rendered.status == 200) {
        good_[key] = {now, rendered};
      } else if (auto stale = staleOf(key, now)) {
        answer = *stale;
      }
      entries_[key] = Entry{now + seconds, answer};
      promise = std::move(flights_[key].promise);
      flights_.erase(key);
    }
    promise.set_value(answer);
    return answer;
  }

 private:
  struct Entry {
    long long until = 0;
    http::Response response;
  };
  struct Flight {
    std::promise<http::Response> promise;
    std::shared_future<http::Response> future;
  };
  // The last good rendering, marked stale, if it is young enough. The caller holds mutex_.
  std::optional<http::Response> staleOf(const std::string& key, long long now) const {
    const auto it = good_.find(key);
    if (it == good_.end() || it->second.first + kStaleSeconds <= now) return std::nullopt;
    http::Response r = it->second.second;
    r.headers.emplace_back("Age", std::to_string(now - it->second.first));
    r.headers.emplace_back("Warning", "110 - \"Response is Stale\"");
    return r;
  }
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::pair<long long, http::Response>> good_;  // when rendered, what
  std::map<std::string, Flight> flights_;
};

Reply<feeds::Feed> ownedFeed(Services& services, const http::Request& request) {
  auto feed = feeds::FeedStore(*services.db, *services.clock).get(request.params.at("id"));
  if (!feed) return std::unexpected(failure(feed.error(), request));
  if (feed->userId != callerId(request)) return std::unexpected(notFound());
  return std::move(*feed);
}

http::Response createFeed(Services& services, http::Request& request) {
  if (auto ok = requireVault(services); !ok) return ok.error();
  auto owned = feeds::FeedStore(*services.db, *services.clock).listForUser(callerId(request));
  core::Result<std::size_t> live = owned ? core::Result<std::size_t>(std::count_if(
                                               owned->begin(), owned->end(), [](const auto& f) { return !f.revokedAt; }))
                                         : std::unexpected(owned.error());
  if (auto over = overLimit(live, services.limits.feedsPerUser, "feeds", "feeds_per_user", request)) {
    return *over;
  }
  auto body = readJsonObject(request);
  if (!body) return body.error();
  ObjectReader in(*body);
  if (auto ok = in.only({"calendar_ids", "label", "window", "pin"}); !ok) return ok.error();
  feeds::NewFeed feed;
  feed.userId = callerId(request);
  auto ids = in.requiredStringList("calendar_ids", 20, 64);
  if (!ids) return ids.error();
  auto label = in.optionalString("label", 1, 100);
  if (!label) return label.error();
  if (*label) feed.label = **label;
  auto window = in.optionalObject("window");
  if (!window) return window.error();
  if (*window) {
    if (auto ok = (*window)->only({"past_days", "future_days"}); !ok) return ok.error();
    auto past = (*window)->optionalInteger("past_days", 0, 90);
    if (!past) return past.error();
    auto future = (*window)->optionalInteger("future_days", 1, 366);
    if (!future) return future.error();
    if (*past) feed.windowPastDays = static_cast<int>(**past);
    if (*future) feed.windowFutureDays = static_cast<int>(**future);
  }
  auto pin = in.optionalString("pin", 0, 64);
  if (!pin) return pin.error();
  if (*pin) {
    if (!feeds::wellFormedPin(**pin)) return invalidField("pin", "must be 4 to 12 digits");
    feed.pin = **pin;
  }
  for (std::size_t i = 0; i < ids->size(); ++i) {
    auto calendar = ownedCalendar(services, request, "calendar_ids[" + std::to_string(i) + "]", (*ids)[i]);
    if (!calendar) return calendar.error();
  }
  feed.calendarIds = *ids;
  auto issued = feeds::FeedStore(*services.db, *services.clock).create(feed);
  if (!issued) return failure(issued.error(), request);
  auditCaller(services, request, "feed.create", "feed/" + issued->feed.id, "created",
              {{"pin_protected", issued->feed.pinProtected ? "yes" : "no"}});
  nlohmann::json out = feedJson(issued->feed);
  out["token"] = issued->token;
  out["url"] = "/feeds/" + issued->token + ".ics";
  http::Response r = jsonResponse(201, out);
  r.headers.emplace_back("Location", "/v1/feeds/" + issued->feed.id);
  return r;
}

std::optional<std::string> pinOf(const http::Request& request) {
  if (auto header = request.header("x-feed-pin"); header && !header->empty()) return std::string(*header);
  if (auto query = parseQuery(request.query)) {
    for (const auto& [k, v] : *query) {
      if (k == "pin") return v;
    }
  }
  return std::nullopt;
}

// Reads every calendar of the feed (within the outbound budget) and collects its busy blocks in
// `window`. A calendar that cannot be read fails the whole render: never show a calendar as free
// because of an outage.
Reply<std::vector<feeds::BusyBlock>> collectBlocks(Services& services, const feeds::Feed& feed,
                                                   const http::Request& request, const providers::TimeWindow& window) {
  const auto deadline = std::chrono::steady_clock::now() + services.outboundBudget;
  sync::CalendarStore calendars(*services.db, *services.clock);
  std::vector<feeds::BusyBlock> blocks;
  for (const auto& id : feed.calendarIds) {
    auto calendar = calendars.get(id);
    if (!calendar) {
      if (calendar.error().code == ErrorCode::NotFound) continue;  // its account was removed since
      return std::unexpected(failure(calendar.error(), request));
    }
    auto account = services.accounts->get(calendar->accountId);
    if (!account) {
      if (account.error().code == ErrorCode::NotFound) continue;
      return std::unexpected(failure(account.error(), request));
    }
    if (account->userId != feed.userId) continue;
    auto unavailable = [&](const core::Error& e) {
      core::log::warn("feed.source_failed", {{"request_id", request.requestId}, {"feed_id", feed.id},
                                             {"calendar_id", id}, {"error", e.message}});
      if (e.cause != core::Cause::BudgetExceeded) {
        return std::unexpected(http::problem(502, "feed-source-unavailable", "Bad Gateway",
                                             "a calendar of this feed could not be read; try again later"));
      }
      if (e.code == ErrorCode::Timeout) {
        return std::unexpected(http::problem(503, "feed-too-slow", "Service Unavailable",
                                             "a calendar of this feed answers too slowly; try again later"));
      }
      return std::unexpected(http::problem(503, "feed-too-large", "Service Unavailable",
                                           "the calendars of this feed have more than " +
                                               std::to_string(services.limits.feedBlocks) +
                                               " busy blocks in its window; give the feed a shorter window"));
    };
    auto provider = services.providers->open(*calendar, deadline);
    if (!provider) return unavailable(provider.error());
    auto listing = (*provider)->pullChanges(calendar->providerCalendarId, "", window);
    if (!listing) return unavailable(listing.error());
    auto found = feeds::busyBlocks(listing->changed, window, feed.id + "|" + calendar->id,
                                   calendar->timeZone.empty() ? "UTC" : calendar->timeZone,
                                   services.limits.feedBlocks - std::min(blocks.size(), services.limits.feedBlocks));
    if (!found) return unavailable(found.error());
    blocks.insert(blocks.end(), found->begin(), found->end());
  }
  return blocks;
}

Reply<http::Response> renderFeed(Services& services, const feeds::Feed& feed, const http::Request& request,
                                 long long now) {
  const auto window = providers::TimeWindow::around(std::chrono::sys_seconds(std::chrono::seconds(now)),
                                                    feed.windowPastDays, feed.windowFutureDays);
  auto blocks = collectBlocks(services, feed, request, window);
  if (!blocks) return std::unexpected(blocks.error());
  return http::Response::text(
      200, feeds::renderBusyCalendar(std::move(*blocks), feed.label, std::chrono::sys_seconds(std::chrono::seconds(now))),
      kCalendarType);
}

// The feed a capability URL names, within its limits: unknown tokens cost the guesser (per client
// address), a known feed has its own bucket. The answer (404, 429, 503) when there is none to serve.
Reply<feeds::Feed> feedOfToken(Services& services, http::Request& request) {
  const std::string token = request.params["token"];
  // Only well-formed tokens get a rate-limit bucket: random paths cannot crowd out real feeds'.
  if (!feeds::wellFormedFeedToken(token)) return std::unexpected(notFound());
  auto limited = [](const std::chrono::seconds wait, const std::string& what) {
    http::Response r = http::problem(429, "rate-limited", "Too Many Requests",
                                     what + "; retry after " + std::to_string(wait.count()) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(wait.count()));
    return r;
  };
  if (!services.accounts) {
    return std::unexpected(http::problem(503, "unavailable", "Service Unavailable", "feeds are not available yet"));
  }
  auto feed = feeds::FeedStore(*services.db, *services.clock).findByToken(token);
  if (!feed) {
    // Guessing tokens costs the guesser (per client address), never the buckets of real feeds:
    // only feeds that exist get one, so a flood of random tokens cannot crowd them out.
    if (feed.error().code == ErrorCode::NotFound && services.unknownFeedLimiter) {
      if (const auto wait = services.unknownFeedLimiter->take("client:" + request.clientAddress)) {
        return std::unexpected(limited(*wait, "too many requests for unknown feeds"));
      }
    }
    return std::unexpected(failure(feed.error(), request));
  }
  if (services.feedLimiter) {
    if (const auto wait = services.feedLimiter->take("feed:" + feed->id)) {
      return std::unexpected(limited(*wait, "this feed was requested too often"));
    }
  }
  return std::move(*feed);
}

http::Response serveFeed(Services& services, RenderCache& cache, http::Request& request) {
  auto feed = feedOfToken(services, request);
  if (!feed) return feed.error();
  feeds::FeedStore store(*services.db, *services.clock);
  if (feed->pinProtected) {
    const auto pin = pinOf(request);
    if (!pin || pin->empty()) {
      return http::problem(401, "pin-required", "Unauthorized", "this feed needs its PIN (query pin= or X-Feed-Pin)");
    }
    auto check = store.checkPin(feed->id, *pin, request.clientAddress, services.hashKey);
    if (!check) return failure(check.error(), request);
    if (check->lockedFor) {
      http::Response r = http::problem(429, "pin-locked", "Too Many Requests",
                                       "too many wrong PINs; the feed is locked for " +
                                           std::to_string(check->lockedFor->count()) + " s");
      r.headers.emplace_back("Retry-After", std::to_string(check->lockedFor->count()));
      return r;
    }
    if (!check->accepted) return http::problem(401, "pin-invalid", "Unauthorized", "wrong PIN");
  }

  const long long now = services.clock->nowUnixSeconds();
  std::string cacheKey = feed->id;
  for (const auto& id : feed->calendarIds) cacheKey += "|" + id;  // a changed calendar list is another feed
  RenderCache::Turn turn = cache.take(cacheKey, now);
  if (turn.answer) return *turn.answer;
  if (!turn.mine) {
    // another request renders this feed now: wait for it, within the render's own budget
    if (turn.render.wait_for(services.outboundBudget) == std::future_status::ready) return turn.render.get();
    http::Response r = http::problem(503, "feed-rendering", "Service Unavailable",
                                     "this feed is being rendered; try again shortly");
    r.headers.emplace_back("Retry-After", std::to_string(RenderCache::kFailureSeconds));
    return r;
  }
  Reply<http::Response> rendered = std::unexpected(http::problem(500, "internal", "Internal Server Error",
                                                                 "the feed could not be rendered"));
  try {
    rendered = renderFeed(services, *feed, request, now);
  } catch (const std::exception& e) {  // the requests waiting for this render must get an answer
    core::log::error("feed.render_failed", {{"request_id", request.requestId}, {"error", e.what()}});
  }
  if (!rendered) {
    http::Response r = rendered.error();
    r.headers.emplace_back("Retry-After", std::to_string(RenderCache::kFailureSeconds));
    // remembered briefly, so repeating the request does not keep a thread waiting on the provider
    return cache.finish(cacheKey, now, r, RenderCache::kFailureSeconds);
  }
  return cache.finish(cacheKey, now, *rendered, RenderCache::kSeconds);
}

constexpr std::size_t kMaxAvailabilityForm = 1024;

http::Response htmlPage(int status, std::string body) {
  http::Response r = http::Response::text(status, std::move(body), "text/html; charset=utf-8");
  r.headers.emplace_back("Content-Security-Policy", feeds::availabilityCsp());
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");  // the URL is the capability
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  return r;
}

// The week a request asks for ("week=YYYY-MM-DD", any of its days; default: this week), in the
// zone of the feed's first calendar, which must overlap the feed's window.
Reply<feeds::AvailabilityPage> weekPage(Services& services, const feeds::Feed& feed, const std::string& week, long long now) {
  const auto nowDay = std::chrono::floor<std::chrono::days>(std::chrono::sys_seconds(std::chrono::seconds(now)));
  const auto day = week.empty() ? std::optional<std::chrono::sys_days>(nowDay) : feeds::parseDay(week);
  if (!day) return std::unexpected(http::problem(400, "invalid-query", "Bad Request", "week must be a date, YYYY-MM-DD"));
  std::string zone = "UTC";
  if (!feed.calendarIds.empty()) {
    if (auto c = sync::CalendarStore(*services.db, *services.clock).get(feed.calendarIds.front()); c && !c->timeZone.empty()) {
      zone = c->timeZone;
    }
  }
  auto w = feeds::weekOf(*day, zone);
  if (!w) w = feeds::weekOf(*day, "UTC");
  const auto window = providers::TimeWindow::around(std::chrono::sys_seconds(std::chrono::seconds(now)), feed.windowPastDays,
                                                    feed.windowFutureDays);
  if (w->window.to <= window.from || w->window.from >= window.to) {
    return std::unexpected(http::problem(400, "invalid-query", "Bad Request", "that week is outside this feed's window"));
  }
  feeds::AvailabilityPage page{feed.label, *w, w->window.from > window.from, w->window.to < window.to};
  page.week.window = {std::max(w->window.from, window.from), std::min(w->window.to, window.to)};
  return page;
}

http::Response showWeek(Services& services, const feeds::Feed& feed, http::Request& request, const std::string& week,
                        std::optional<std::string> pin) {
  auto page = weekPage(services, feed, week, services.clock->nowUnixSeconds());
  if (!page) return page.error();
  page->pin = std::move(pin);
  auto blocks = collectBlocks(services, feed, request, page->week.window);
  if (!blocks) return blocks.error();
  return htmlPage(200, feeds::renderAvailability(*blocks, *page));
}

std::string fieldOf(const std::vector<std::pair<std::string, std::string>>& fields, const char* name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return {};
}

// GET: the week of an open feed, or the PIN form of a protected one.
http::Response availabilityPage(Services& services, http::Request& request) {
  auto feed = feedOfToken(services, request);
  if (!feed) return feed.error();
  auto query = parseQuery(request.query);
  if (!query) return http::problem(400, "invalid-query", "Bad Request", "malformed query");
  const std::string week = fieldOf(*query, "week");
  if (feed->pinProtected) return htmlPage(200, feeds::renderPinForm("", week));
  return showWeek(services, *feed, request, week, std::nullopt);
}

// POST (the PIN form, the week buttons of a protected feed): the PIN is checked with the ICS
// feed's lockout before anything is read.
http::Response availabilityForm(Services& services, http::Request& request) {
  if (!request.hasMediaType("application/x-www-form-urlencoded")) {
    return http::problem(415, "unsupported-media-type", "Unsupported Media Type", "a form: application/x-www-form-urlencoded");
  }
  if (request.body.size() > kMaxAvailabilityForm) {
    return http::problem(413, "body-too-large", "Content Too Large", "the form is at most 1 KiB");
  }
  auto fields = parseQuery(request.body);
  if (!fields) return http::problem(400, "invalid-form", "Bad Request", "a malformed form");
  auto feed = feedOfToken(services, request);
  if (!feed) return feed.error();
  const std::string week = fieldOf(*fields, "week"), pin = fieldOf(*fields, "pin");
  if (!feed->pinProtected) return showWeek(services, *feed, request, week, std::nullopt);
  if (pin.empty()) return htmlPage(401, feeds::renderPinForm("Enter the PIN.", week));
  auto check = feeds::FeedStore(*services.db, *services.clock).checkPin(feed->id, pin, request.clientAddress, services.hashKey);
  if (!check) return failure(check.error(), request);
  if (check->lockedFor) {
    const long long minutes = (check->lockedFor->count() + 59) / 60;
    http::Response r = htmlPage(429, feeds::renderPinForm("Too many wrong PINs: try again in " + std::to_string(minutes) +
                                                              " minute" + (minutes == 1 ? "" : "s") + ".",
                                                          week));
    r.headers.emplace_back("Retry-After", std::to_string(check->lockedFor->count()));
    return r;
  }
  if (!check->accepted) return htmlPage(401, feeds::renderPinForm("Wrong PIN.", week));
  return showWeek(services, *feed, request, week, pin);
}

}  // namespace

void addFeedRoutes(http::Router& router, Services& services) {
  router.add({"POST", "/v1/feeds", true, [&services](http::Request& request) { return createFeed(services, request); }});

  router.add({"GET", "/v1/feeds", true, [&services](http::Request& request) {
                auto list = feeds::FeedStore(*services.db, *services.clock).listForUser(callerId(request));
                if (!list) return failure(list.error(), request);
                nlohmann::json out = nlohmann::json::array();
                for (const auto& f : *list) out.push_back(feedJson(f));
                return jsonResponse(200, {{"feeds", out}});
              }});

  router.add({"GET", "/v1/feeds/{id}", true, [&services](http::Request& request) {
                auto feed = ownedFeed(services, request);
                if (!feed) return feed.error();
                return jsonResponse(200, feedJson(*feed));
              }});

  router.add({"DELETE", "/v1/feeds/{id}", true, [&services](http::Request& request) {
                auto feed = ownedFeed(services, request);
                if (!feed) return feed.error();
                auto revoked = feeds::FeedStore(*services.db, *services.clock).revoke(feed->id);
                if (!revoked) return failure(revoked.error(), request);
                auditCaller(services, request, "feed.revoke", "feed/" + feed->id, "revoked");
                return noContent();
              }});

  auto cache = std::make_shared<RenderCache>();
  router.add({"GET", "/availability/{token}", false, [&services](http::Request& request) { return availabilityPage(services, request); },
              /*outbound=*/true});
  router.add({"POST", "/availability/{token}", false, [&services](http::Request& request) { return availabilityForm(services, request); },
              /*outbound=*/true});
  router.add({"GET", "/feeds/{token}.ics", false,
              [&services, cache](http::Request& request) { return serveFeed(services, *cache, request); },
              /*outbound=*/true});
}

}  // namespace calgate::api
