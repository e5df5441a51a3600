#include "calgate/sync/pair_store.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/store/transaction.hpp"

#include <nlohmann/json.hpp>
#include <algorithm>
#include "calgate/store/row_values.hpp"

#include <soci/soci.h>


namespace calgate::sync {

using core::ErrorCode;
using core::fail;
using policy::PairRules;

namespace {

using store::integerAt;
using store::textAt;

std::string directionName(Direction d) { return d == Direction::TwoWay ? "two_way" : "one_way"; }

constexpr const char* kSelect =
    "SELECT id, user_id, source_calendar_id, target_calendar_id, direction, rules_json, window_past_days, "
    "window_future_days, enabled, needs_confirmation, COALESCE(confirmation_reason, ''), deletions_confirmed_at, "
    "COALESCE(last_error, ''), COALESCE(policy_fingerprint, ''), last_success_at, created_at, updated_at, "
    "COALESCE(last_error_code, ''), COALESCE(last_error_cause, ''), COALESCE(guard_deletions, ''), "
    "COALESCE(confirmed_deletions, ''), "
    "CASE WHEN user_id IN (SELECT id FROM users WHERE disabled_at IS NOT NULL) THEN 1 ELSE 0 END, quarantined_at, "
    "COALESCE(quarantine_reason, ''), COALESCE(copy_seed, id), "
    "CASE WHEN EXISTS (SELECT 1 FROM calendars c JOIN accounts a ON a.id = c.account_id "
    "WHERE c.id IN (pairs.source_calendar_id, pairs.target_calendar_id) AND a.status = 'needs_reauth') "
    "THEN 1 ELSE 0 END FROM pairs ";

std::vector<std::string> idLines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (end > at) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

std::string joinLines(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : "\n") + id;
  return out;
}

core::Result<SyncPair> fromRow(const soci::row& r) {
  SyncPair p;
  p.id = textAt(r, 0);
  p.userId = textAt(r, 1);
  p.sourceCalendarId = textAt(r, 2);
  p.targetCalendarId = textAt(r, 3);
  p.direction = textAt(r, 4) == "two_way" ? Direction::TwoWay : Direction::OneWay;
  auto rules = rulesFromJson(textAt(r, 5));
  if (!rules) return fail(ErrorCode::Internal, "pair " + p.id + ": stored rules are invalid: " + rules.error().message);
  p.rules = *rules;
  auto integer = [&](std::size_t i) { return integerAt(r, i); };
  p.windowPastDays = static_cast<int>(integer(6));
  p.windowFutureDays = static_cast<int>(integer(7));
  p.enabled = integer(8) != 0;
  p.needsConfirmation = integer(9) != 0;
  p.confirmationReason = textAt(r, 10);
  if (r.get_indicator(11) != soci::i_null) p.deletionsConfirmedAt = integer(11);
  p.lastError = textAt(r, 12);
  p.policyFingerprint = textAt(r, 13);
  if (r.get_indicator(14) != soci::i_null) p.lastSuccessAt = integer(14);
  p.createdAt = integer(15);
  p.updatedAt = integer(16);
  // A kind this version does not know (written by a newer one) reads as none: it only informs.
  p.lastErrorCode = core::errorCodeFromName(textAt(r, 17));
  p.lastErrorCause = core::causeFromName(textAt(r, 18)).value_or(core::Cause::None);
  p.guardDeletions = idLines(textAt(r, 19));
  p.confirmedDeletions = idLines(textAt(r, 20));
  p.ownerSuspended = integerAt(r, 21) != 0;
  if (r.get_indicator(22) != soci::i_null) p.quarantinedAt = integer(22);
  p.quarantineReason = textAt(r, 23);
  p.copySeed = textAt(r, 24);
  p.accountNeedsReauth = integerAt(r, 25) != 0;
  return p;
}

}  // namespace

std::string rulesToJson(const PairRules& rules) {
  nlohmann::json j;
  j["mode"] = rules.mode == policy::PrivacyMode::Private ? "private" : "full";
  j["label"] = rules.label;
  j["description"] = rules.description == policy::FieldRule::Clear ? "clear" : "keep";
  j["location"] = rules.location == policy::FieldRule::Clear ? "clear" : "keep";
  if (rules.showAsOverride) j["show_as"] = std::string(model::toString(*rules.showAsOverride));
  j["attendees"] = rules.attendees == policy::AttendeeRule::CopyWhereSilent ? "copy_where_silent" : "omit";
  return j.dump();
}

core::Result<PairRules> rulesFromJson(const std::string& text) {
  if (text.size() > 4096) return fail(ErrorCode::Invalid, "rules are larger than 4 KiB");
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::Invalid, "rules must be a JSON object");
  PairRules rules;
  auto choice = [&](const char* key, std::initializer_list<const char*> allowed,
                    std::string fallback) -> core::Result<std::string> {
    if (!j.contains(key)) return fallback;
    if (!j[key].is_string()) return fail(ErrorCode::Invalid, std::string("rules.") + key + " must be a string");
    const auto v = j[key].get<std::string>();
    for (const char* a : allowed) {
      if (v == a) return v;
    }
    std::string list;
    for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return fail(ErrorCode::Invalid, std::string("rules.") + key + " must be one of " + list);
  };
  for (const auto& [key, value] : j.items()) {
    if (key != "mode" && key != "label" && key != "description" && key != "location" && key != "show_as" &&
        key != "attendees") {
      return fail(ErrorCode::Invalid, "rules." + key + " is not a known rule");
    }
  }
  auto mode = choice("mode", {"full", "private"}, "full");
  auto desc = choice("description", {"keep", "clear"}, "keep");
  auto loc = choice("location", {"keep", "clear"}, "keep");
  auto att = choice("attendees", {"omit", "copy_where_silent"}, "omit");
  for (auto* r : {&mode, &desc, &loc, &att}) {
    if (!*r) return std::unexpected(r->error());
  }
  rules.mode = *mode == "private" ? policy::PrivacyMode::Private : policy::PrivacyMode::Full;
  rules.description = *desc == "clear" ? policy::FieldRule::Clear : policy::FieldRule::Keep;
  rules.location = *loc == "clear" ? policy::FieldRule::Clear : policy::FieldRule::Keep;
  rules.attendees = *att == "copy_where_silent" ? policy::AttendeeRule::CopyWhereSilent : policy::AttendeeRule::Omit;
  if (j.contains("label")) {
    if (!j["label"].is_string()) return fail(ErrorCode::Invalid, "rules.label must be a string");
    rules.label = j["label"].get<std::string>();
    if (rules.label.size() > 100) return fail(ErrorCode::Invalid, "rules.label is longer than 100 bytes");
  }
  if (j.contains("show_as")) {
    if (!j["show_as"].is_string()) return fail(ErrorCode::Invalid, "rules.show_as must be a string");
    rules.showAsOverride = model::showAsFromString(j["show_as"].get<std::string>());
    if (!rules.showAsOverride) return fail(ErrorCode::Invalid, "rules.show_as is not a known free/busy value");
  }
  return rules;
}

namespace {
core::Result<void> checkWindow(int pastDays, int futureDays) {
  if (pastDays < 0 || pastDays > 3650 || futureDays < 0 || futureDays > 3650) {
    return fail(ErrorCode::Invalid, "the sync window must be 0 to 3650 days each way");
  }
  return {};
}
}  // namespace

core::Result<SyncPair> PairStore::create(const NewPair& pair) {
  if (auto ok = checkWindow(pair.windowPastDays, pair.windowFutureDays); !ok) return std::unexpected(ok.error());
  if (pair.sourceCalendarId == pair.targetCalendarId) {
    return fail(ErrorCode::Invalid, "a pair needs two different calendars");
  }
  const std::string id = core::newId("pair");
  const std::string rules = rulesToJson(pair.rules);
  const std::string direction = directionName(pair.direction);
  auto done = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    // the copies a deleted pair of the same calendars left are this pair's now
    std::string seed;
    soci::indicator seedInd = soci::i_null;
    sql << "SELECT copy_seed FROM retired_pairs WHERE source_calendar_id = :s AND target_calendar_id = :t",
        soci::into(seed, seedInd), soci::use(pair.sourceCalendarId), soci::use(pair.targetCalendarId);
    if (!sql.got_data() || seedInd != soci::i_ok) seed = id;
    sql << "INSERT INTO pairs (id, user_id, source_calendar_id, target_calendar_id, direction, rules_json, "
           "window_past_days, window_future_days, copy_seed, created_at, updated_at) "
           "VALUES (:i, :u, :s, :t, :d, :r, :p, :f, :k, :c, :m)",
        soci::use(id), soci::use(pair.userId), soci::use(pair.sourceCalendarId), soci::use(pair.targetCalendarId),
        soci::use(direction), soci::use(rules), soci::use(pair.windowPastDays), soci::use(pair.windowFutureDays),
        soci::use(seed), soci::use(now), soci::use(now);
    sql << "DELETE FROM retired_pairs WHERE source_calendar_id = :s AND target_calendar_id = :t",
        soci::use(pair.sourceCalendarId), soci::use(pair.targetCalendarId);
    tx.commit();
    return {};
  });
  if (!done) return std::unexpected(done.error());
  return get(id);
}

core::Result<SyncPair> PairStore::get(const std::string& id) {
  return db_.withSession([&](soci::session& sql) -> core::Result<SyncPair> {
    soci::rowset<soci::row> rows = (sql.prepare << std::string(kSelect) + "WHERE id = :i", soci::use(id));
    for (const auto& r : rows) return fromRow(r);
    return fail(ErrorCode::NotFound, "no such pair");
  });
}

core::Result<std::vector<SyncPair>> PairStore::list(const std::string& where, const std::optional<std::string>& calendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<SyncPair>> {
    std::vector<SyncPair> out;
    const std::string query = std::string(kSelect) + where + " ORDER BY id";
    soci::rowset<soci::row> rows = calendarId ? (sql.prepare << query, soci::use(*calendarId)) : (sql.prepare << query);
    for (const auto& r : rows) {
      auto p = fromRow(r);
      if (!p) return std::unexpected(p.error());
      out.push_back(std::move(*p));
    }
    return out;
  });
}

namespace {
constexpr const char* kRunnable =
    "WHERE enabled = 1 AND quarantined_at IS NULL AND "
    "user_id NOT IN (SELECT id FROM users WHERE disabled_at IS NOT NULL) AND NOT EXISTS ("
    "SELECT 1 FROM calendars c JOIN accounts a ON a.id = c.account_id WHERE c.id IN "
    "(pairs.source_calendar_id, pairs.target_calendar_id) AND a.status = 'needs_reauth')";
}  // namespace

core::Result<std::vector<SyncPair>> PairStore::listRunnable() { return list(kRunnable); }

core::Result<std::vector<SyncPair>> PairStore::listRunnableReading(const std::string& calendarId) {
  return list(std::string(kRunnable) + " AND :c IN (source_calendar_id, CASE WHEN direction = 'two_way' THEN target_calendar_id END)",
              calendarId);
}

core::Result<std::vector<SyncPair>> PairStore::listAll() { return list(""); }

core::Result<std::vector<SyncPair>> PairStore::listForUser(const std::string& userId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<SyncPair>> {
    std::vector<SyncPair> out;
    soci::rowset<soci::row> rows =
        (sql.prepare << std::string(kSelect) + "WHERE user_id = :u ORDER BY created_at, id", soci::use(userId));
    for (const auto& r : rows) {
      auto p = fromRow(r);
      if (!p) return std::unexpected(p.error());
      out.push_back(std::move(*p));
    }
    return out;
  });
}

core::Result<SyncPair> PairStore::change(const std::string& id, const PairChange& change) {
  // Read, apply and write in one transaction holding the row, so two changes at once cannot undo
  // each other (each applies to what the other wrote).
  auto done = db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    const std::string lock = db_.dialect() == store::Dialect::Postgresql ? " FOR UPDATE" : "";
    std::optional<SyncPair> current;
    {
      soci::rowset<soci::row> rows = (sql.prepare << std::string(kSelect) + "WHERE id = :i" + lock, soci::use(id));
      for (const auto& r : rows) {
        auto p = fromRow(r);
        if (!p) return std::unexpected(p.error());
        current = std::move(*p);
      }
    }
    if (!current) return fail(ErrorCode::NotFound, "no such pair");
    SyncPair next = *current;
    if (change.direction) next.direction = *change.direction;
    if (change.rules) next.rules = *change.rules;
    if (change.editRules) change.editRules(next.rules);
    if (change.windowPastDays) next.windowPastDays = *change.windowPastDays;
    if (change.windowFutureDays) next.windowFutureDays = *change.windowFutureDays;
    if (change.enabled) next.enabled = *change.enabled;
    if (auto ok = checkWindow(next.windowPastDays, next.windowFutureDays); !ok) return ok;
    const std::string rules = rulesToJson(next.rules);
    const std::string direction = directionName(next.direction);
    const int enabled = next.enabled ? 1 : 0;
    const long long now = clock_.nowUnixSeconds();
    sql << "UPDATE pairs SET direction = :d, rules_json = :r, window_past_days = :p, window_future_days = :f, "
           "enabled = :e, updated_at = :t WHERE id = :i",
        soci::use(direction), soci::use(rules), soci::use(next.windowPastDays), soci::use(next.windowFutureDays),
        soci::use(enabled), soci::use(now), soci::use(id);
    tx.commit();
    return {};
  });
  if (!done) return std::unexpected(done.error());
  return get(id);
}

core::Result<void> PairStore::update(const std::string& id, const std::string& statement,
                                     const std::optional<std::string>& text, int timeBinds) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    soci::statement st(sql);
    st.alloc();
    if (text) st.exchange(soci::use(*text));
    for (int i = 0; i < timeBinds; ++i) st.exchange(soci::use(now));
    st.exchange(soci::use(id));
    st.prepare(statement);
    st.define_and_bind();
    st.execute(true);
    if (st.get_affected_rows() == 0) return fail(ErrorCode::NotFound, "no such pair");
    return {};
  });
}

core::Result<void> PairStore::setRules(const std::string& id, const PairRules& rules) {
  return update(id, "UPDATE pairs SET rules_json = :r, updated_at = :t WHERE id = :i", rulesToJson(rules), 1);
}

std::string deletionsDigest(const std::vector<std::string>& deletionIds) {
  if (deletionIds.empty()) return {};
  std::vector<std::string> sorted = deletionIds;
  std::sort(sorted.begin(), sorted.end());
  std::string all;
  for (const auto& id : sorted) all += id + "\n";
  return core::sha256Hex(all);
}

core::Result<void> PairStore::pause(const std::string& id, const std::string& reason,
                                    const std::vector<std::string>& deletionIds) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    const std::string r = reason.substr(0, 500);
    const std::string held = joinLines(deletionIds);
    soci::statement st = (sql.prepare << "UPDATE pairs SET needs_confirmation = 1, confirmation_reason = :r, "
                                         "guard_deletions = :g, confirmed_deletions = NULL, deletions_confirmed_at = NULL, "
                                         "updated_at = :t WHERE id = :i",
                          soci::use(r), soci::use(held), soci::use(now), soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) return fail(ErrorCode::NotFound, "no such pair");
    return {};
  });
}

core::Result<void> PairStore::confirmDeletions(const std::string& id, const std::string& digest) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    soci::rowset<soci::row> rows = (sql.prepare << std::string(kSelect) + "WHERE id = :i", soci::use(id));
    auto it = rows.begin();
    if (it == rows.end()) return fail(ErrorCode::NotFound, "no such pair");
    auto pair = fromRow(*it);
    if (!pair) return std::unexpected(pair.error());
    if (!pair->needsConfirmation) return fail(ErrorCode::Conflict, "the pair is not waiting for a confirmation");
    if (!digest.empty() && digest != deletionsDigest(pair->guardDeletions)) {
      return fail(ErrorCode::Conflict,
                  "the deletions the pair holds are not the ones confirmed (they changed since they were shown); "
                  "look at the pair again and confirm what it shows now");
    }
    const long long now = clock_.nowUnixSeconds();
    const std::string held = joinLines(pair->guardDeletions);
    sql << "UPDATE pairs SET needs_confirmation = 0, confirmation_reason = NULL, confirmed_deletions = :c, "
           "deletions_confirmed_at = :t, updated_at = :t2 WHERE id = :i",
        soci::use(held), soci::use(now), soci::use(now), soci::use(id);
    tx.commit();
    return {};
  });
}

core::Result<void> PairStore::release(const std::string& id) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    soci::statement st = (sql.prepare << "UPDATE pairs SET quarantined_at = NULL, quarantine_reason = NULL, "
                                         "updated_at = :t WHERE id = :i AND quarantined_at IS NOT NULL",
                          soci::use(now), soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      int known = 0;
      sql << "SELECT COUNT(*) FROM pairs WHERE id = :i", soci::into(known), soci::use(id);
      return known == 0 ? fail(ErrorCode::NotFound, "no such pair") : fail(ErrorCode::Conflict, "the pair is not quarantined");
    }
    sql << "DELETE FROM jobs WHERE pair_id = :p AND state = 'dead'", soci::use(id);
    tx.commit();
    return {};
  });
}

core::Result<void> PairStore::resume(const std::string& id) {
  return update(id,
                "UPDATE pairs SET needs_confirmation = 0, confirmation_reason = NULL, guard_deletions = NULL, "
                "confirmed_deletions = NULL, deletions_confirmed_at = NULL, updated_at = :t WHERE id = :i",
                std::nullopt, 1);
}

core::Result<void> PairStore::clearConfirmation(const std::string& id) {
  return update(id,
                "UPDATE pairs SET deletions_confirmed_at = NULL, confirmed_deletions = NULL, confirmation_reason = NULL, "
                "guard_deletions = NULL, updated_at = :t WHERE id = :i",
                std::nullopt, 1);
}

core::Result<void> PairStore::recordSuccess(const std::string& id) {
  return update(id,
                "UPDATE pairs SET last_error = NULL, last_error_code = NULL, last_error_cause = NULL, "
                "last_success_at = :t, updated_at = :t2 WHERE id = :i",
                std::nullopt, 2);
}

core::Result<void> PairStore::recordFailure(const std::string& id, const core::Error& error) {
  const std::string message = error.message.substr(0, 500);
  const std::string code(core::errorCodeName(error.code));
  const std::string cause(core::causeName(error.cause));
  soci::indicator causeInd = cause.empty() ? soci::i_null : soci::i_ok;
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    soci::statement st = (sql.prepare << "UPDATE pairs SET last_error = :e, last_error_code = :c, last_error_cause = :k, "
                                         "updated_at = :t WHERE id = :i",
                          soci::use(message), soci::use(code), soci::use(cause, causeInd), soci::use(now), soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) return fail(ErrorCode::NotFound, "no such pair");
    return {};
  });
}

core::Result<void> PairStore::setPolicyFingerprint(const std::string& id, const std::string& fingerprint) {
  return update(id, "UPDATE pairs SET policy_fingerprint = :f, updated_at = :t WHERE id = :i", fingerprint, 1);
}

core::Result<void> PairStore::remove(const std::string& id) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    // explicit, not only ON DELETE CASCADE: the jobs of the pair go too, so nothing runs it again
    sql << "DELETE FROM jobs WHERE pair_id = :i", soci::use(id);
    sql << "DELETE FROM mappings WHERE pair_id = :i", soci::use(id);
    sql << "DELETE FROM cursors WHERE pair_id = :i", soci::use(id);
    // remembered by its calendars: a pair made for them again takes over the copies
    sql << "INSERT INTO retired_pairs (source_calendar_id, target_calendar_id, copy_seed, retired_at) "
           "SELECT source_calendar_id, target_calendar_id, COALESCE(copy_seed, id), :n FROM pairs WHERE id = :i "
           "ON CONFLICT (source_calendar_id, target_calendar_id) DO UPDATE SET copy_seed = excluded.copy_seed, "
           "retired_at = excluded.retired_at",
        soci::use(clock_.nowUnixSeconds()), soci::use(id);
    soci::statement st = (sql.prepare << "DELETE FROM pairs WHERE id = :i", soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) return fail(ErrorCode::NotFound, "no such pair");
    tx.commit();
    return {};
  });
}

}  // namespace calgate::sync
