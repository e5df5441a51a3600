#include "calgate/feeds/feed_store.hpp"

#include <arpa/inet.h>

#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/feeds/pin_hash.hpp"
#include "calgate/policy/evaluator.hpp"
#include "calgate/store/row_values.hpp"
#include "calgate/store/transaction.hpp"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <algorithm>

namespace calgate::feeds {

using core::ErrorCode;
using core::fail;
using store::integerAt;
using store::textAt;

namespace {

constexpr std::string_view kTokenPrefix = "cgf";
constexpr const char* kSelect =
    "SELECT id, user_id, label, calendar_ids_json, window_past_days, window_future_days, pin_scrypt, created_at, "
    "revoked_at FROM feeds ";

core::Result<Feed> fromRow(const soci::row& r) {
  Feed f;
  f.id = textAt(r, 0);
  f.userId = textAt(r, 1);
  f.label = textAt(r, 2);
  const auto ids = nlohmann::json::parse(textAt(r, 3), nullptr, false);
  if (!ids.is_array()) return fail(ErrorCode::Internal, "feed " + f.id + ": stored calendar list is unreadable");
  for (const auto& id : ids) {
    if (id.is_string()) f.calendarIds.push_back(id.get<std::string>());
  }
  f.windowPastDays = static_cast<int>(integerAt(r, 4));
  f.windowFutureDays = static_cast<int>(integerAt(r, 5));
  f.pinProtected = r.get_indicator(6) != soci::i_null && !textAt(r, 6).empty();
  f.createdAt = integerAt(r, 7);
  if (r.get_indicator(8) != soci::i_null) f.revokedAt = integerAt(r, 8);
  return f;
}

core::Result<std::vector<Feed>> query(store::Database& db, const std::string& where, const std::string& value) {
  return db.withSession([&](soci::session& sql) -> core::Result<std::vector<Feed>> {
    std::vector<Feed> out;
    soci::rowset<soci::row> rows = (sql.prepare << std::string(kSelect) + where, soci::use(value));
    for (const auto& r : rows) {
      auto f = fromRow(r);
      if (!f) return std::unexpected(f.error());
      out.push_back(std::move(*f));
    }
    return out;
  });
}

}  // namespace

bool wellFormedPin(std::string_view pin) {
  return pin.size() >= 4 && pin.size() <= 12 && std::all_of(pin.begin(), pin.end(), [](char c) {
           return c >= '0' && c <= '9';
         });
}

bool wellFormedFeedToken(std::string_view token) {
  if (!token.starts_with("cgf_") || token.size() != 4 + 43) return false;
  return std::all_of(token.begin() + 4, token.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

core::Result<IssuedFeed> FeedStore::create(const NewFeed& feed) {
  if (feed.calendarIds.empty() || feed.calendarIds.size() > 20) {
    return fail(ErrorCode::Invalid, "a feed shows 1 to 20 calendars");
  }
  if (feed.windowPastDays < 0 || feed.windowPastDays > 90 || feed.windowFutureDays < 1 || feed.windowFutureDays > 366) {
    return fail(ErrorCode::Invalid, "a feed's window is 0 to 90 days back and 1 to 366 days ahead");
  }
  if (feed.pin && !wellFormedPin(*feed.pin)) return fail(ErrorCode::Invalid, "a PIN is 4 to 12 digits");
  IssuedFeed issued;
  issued.token = core::newSecret(kTokenPrefix);
  const std::string id = core::newId("fed");
  const std::string tokenHash = core::sha256Hex(issued.token);
  const std::string label = policy::sanitiseLabel(feed.label);
  const std::string ids = nlohmann::json(feed.calendarIds).dump();
  std::string pinHash = feed.pin ? hashPin(*feed.pin) : std::string();
  soci::indicator pinInd = feed.pin ? soci::i_ok : soci::i_null;
  auto done = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    sql << "INSERT INTO feeds (id, user_id, token_sha256, label, calendar_ids_json, window_past_days, "
           "window_future_days, pin_scrypt, created_at) VALUES (:i, :u, :t, :l, :c, :p, :f, :h, :n)",
        soci::use(id), soci::use(feed.userId), soci::use(tokenHash), soci::use(label), soci::use(ids),
        soci::use(feed.windowPastDays), soci::use(feed.windowFutureDays), soci::use(pinHash, pinInd), soci::use(now);
    return {};
  });
  if (!done) return std::unexpected(done.error());
  auto stored = get(id);
  if (!stored) return std::unexpected(stored.error());
  issued.feed = std::move(*stored);
  return issued;
}

core::Result<Feed> FeedStore::get(const std::string& id) {
  auto found = query(db_, "WHERE id = :i", id);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return fail(ErrorCode::NotFound, "no such feed");
  return std::move(found->front());
}

core::Result<std::vector<Feed>> FeedStore::listForUser(const std::string& userId) {
  return query(db_, "WHERE user_id = :u ORDER BY created_at, id", userId);
}

core::Result<Feed> FeedStore::revoke(const std::string& id) {
  auto done = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    sql << "UPDATE feeds SET revoked_at = :t WHERE id = :i AND revoked_at IS NULL", soci::use(now), soci::use(id);
    return {};
  });
  if (!done) return std::unexpected(done.error());
  return get(id);
}

core::Result<void> FeedStore::forgetCalendars(const std::string& userId, const std::vector<std::string>& calendarIds) {
  auto feeds = listForUser(userId);
  if (!feeds) return std::unexpected(feeds.error());
  for (const auto& f : *feeds) {
    std::vector<std::string> kept;
    for (const auto& id : f.calendarIds) {
      if (std::find(calendarIds.begin(), calendarIds.end(), id) == calendarIds.end()) kept.push_back(id);
    }
    if (kept.size() == f.calendarIds.size()) continue;
    const std::string ids = nlohmann::json(kept).dump();
    auto done = db_.withSession([&](soci::session& sql) -> core::Result<void> {
      sql << "UPDATE feeds SET calendar_ids_json = :c WHERE id = :i", soci::use(ids), soci::use(f.id);
      return {};
    });
    if (!done) return done;
  }
  return {};
}

core::Result<Feed> FeedStore::findByToken(std::string_view token) {
  if (!wellFormedFeedToken(token)) return fail(ErrorCode::NotFound, "no such feed");
  // a suspended user's feeds answer like unknown ones
  auto found = query(db_,
                     "WHERE token_sha256 = :h AND revoked_at IS NULL AND user_id NOT IN "
                     "(SELECT id FROM users WHERE disabled_at IS NOT NULL)",
                     core::sha256Hex(token));
  if (!found) return std::unexpected(found.error());
  if (found->empty()) return fail(ErrorCode::NotFound, "no such feed");
  return std::move(found->front());
}

std::string pinClientKey(const std::string& feedId, std::string_view address, std::string_view hashKey) {
  std::string client(address);
  if (client.find(':') != std::string::npos && client.find('.') == std::string::npos) {
    // IPv6: one allocation (a /64) is one client, or anyone could rotate through its addresses
    in6_addr a{};
    if (inet_pton(AF_INET6, client.c_str(), &a) == 1) {
      std::fill(std::begin(a.s6_addr) + 8, std::end(a.s6_addr), 0);
      char buf[INET6_ADDRSTRLEN] = {0};
      if (inet_ntop(AF_INET6, &a, buf, sizeof buf)) client = buf;
    }
  }
  // keyed: the feed id is in the same row, so an unkeyed hash of an IPv4 address is found by trying
  // all of them
  if (!hashKey.empty()) return core::keyedHash(hashKey, "pin-client", feedId + "\n" + client);
  return core::sha256Hex("calgate-pin-client\n" + feedId + "\n" + client).substr(0, 32);
}

core::Result<std::size_t> FeedStore::purge(long long revokedBefore, long long staleBefore) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    soci::statement feeds = (sql.prepare << "DELETE FROM feeds WHERE revoked_at IS NOT NULL AND revoked_at < :r",
                             soci::use(revokedBefore));
    feeds.execute(true);
    soci::statement attempts =
        (sql.prepare << "DELETE FROM feed_pin_attempts WHERE updated_at < :s AND (locked_until IS NULL OR locked_until < :n)",
         soci::use(staleBefore), soci::use(staleBefore));
    attempts.execute(true);
    return static_cast<std::size_t>(feeds.get_affected_rows() + attempts.get_affected_rows());
  });
}

core::Result<PinCheck> FeedStore::checkPin(const std::string& feedId, std::string_view pin, std::string_view client,
                                           std::string_view hashKey) {
  // Every attempt is counted - and the lock decided - in one transaction before the (slow) scrypt
  // run, so concurrent guesses cannot all pass a "not locked yet" check: at most kPinAttempts
  // guesses per lock window and client, however many arrive at once.
  std::string stored;
  const long long now = clock_.nowUnixSeconds();
  const std::string key = pinClientKey(feedId, client, hashKey);
  bool settled = false;  // no PIN on the feed, or locked before this attempt: no scrypt run
  auto reserved = db_.withSession([&](soci::session& sql) -> core::Result<PinCheck> {
    store::WriteTransaction tx(sql, db_.dialect());
    soci::indicator pinInd = soci::i_null;
    sql << "SELECT pin_scrypt FROM feeds WHERE id = :i", soci::into(stored, pinInd), soci::use(feedId);
    if (!sql.got_data()) return fail(ErrorCode::NotFound, "no such feed");
    settled = true;
    if (pinInd == soci::i_null || stored.empty()) return PinCheck{true, std::nullopt};
    sql << "INSERT INTO feed_pin_attempts (feed_id, client, failures, updated_at) VALUES (:f, :c, 0, :n) "
           "ON CONFLICT (feed_id, client) DO NOTHING",
        soci::use(feedId), soci::use(key), soci::use(now);
    long long lockedUntil = 0, failures = 0;
    soci::indicator lockInd = soci::i_null;
    const std::string lockRow = db_.dialect() == store::Dialect::Postgresql ? " FOR UPDATE" : "";
    sql << "SELECT failures, locked_until FROM feed_pin_attempts WHERE feed_id = :f AND client = :c" + lockRow,
        soci::into(failures), soci::into(lockedUntil, lockInd), soci::use(feedId), soci::use(key);
    if (lockInd != soci::i_null && lockedUntil > now) return PinCheck{false, std::chrono::seconds(lockedUntil - now)};
    settled = false;
    ++failures;  // counted now; a right PIN resets the count below
    PinCheck check;
    std::optional<long long> until;
    if (failures % kPinAttempts == 0) {
      const long long locks = failures / kPinAttempts;
      const long long seconds = std::min<long long>(86400, kFirstLock.count() << std::min<long long>(locks - 1, 7));
      until = now + seconds;
      check.lockedFor = std::chrono::seconds(seconds);
    }
    soci::indicator untilInd = until ? soci::i_ok : soci::i_null;
    long long untilValue = until.value_or(0);
    sql << "UPDATE feed_pin_attempts SET failures = :n, locked_until = :t, updated_at = :u WHERE feed_id = :f AND "
           "client = :c",
        soci::use(failures), soci::use(untilValue, untilInd), soci::use(now), soci::use(feedId), soci::use(key);
    tx.commit();
    return check;
  });
  if (!reserved || settled) return reserved;
  // Hash only well-formed PINs: anything else is simply wrong (and costs no scrypt run).
  if (!wellFormedPin(pin) || !verifyPin(pin, stored)) {
    if (reserved->lockedFor) return reserved;  // this wrong guess was the last one allowed
    return PinCheck{false, std::nullopt};
  }
  // Right: this client starts afresh (also lifting a lock this very attempt set).
  auto reset = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "DELETE FROM feed_pin_attempts WHERE feed_id = :f AND client = :c", soci::use(feedId), soci::use(key);
    return {};
  });
  if (!reset) return std::unexpected(reset.error());
  return PinCheck{true, std::nullopt};
}

}  // namespace calgate::feeds
