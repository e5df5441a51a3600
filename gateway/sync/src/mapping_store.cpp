#include "calgate/sync/mapping_store.hpp"

#include "calgate/core/ids.hpp"
#include "calgate/store/transaction.hpp"

#include "calgate/store/multi_row.hpp"
#include "calgate/store/row_values.hpp"

#include <soci/soci.h>

#include <map>
#include <span>
#include <tuple>

namespace calgate::sync {

using core::ErrorCode;
using core::fail;

namespace {

using store::integerAt;
using store::textAt;

MappingState stateFrom(const std::string& s) {
  if (s == "synced") return MappingState::Synced;
  if (s == "denied") return MappingState::Denied;
  return MappingState::Deleted;
}

}  // namespace

std::string_view toString(MappingState s) {
  switch (s) {
    case MappingState::Synced: return "synced";
    case MappingState::Denied: return "denied";
    case MappingState::Deleted: return "deleted";
  }
  return "deleted";
}

core::Result<std::vector<Mapping>> MappingStore::load(const std::string& pairId, const std::string& sourceCalendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::vector<Mapping>> {
    std::vector<Mapping> out;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT source_event_id, source_recurrence_id, COALESCE(source_etag, ''), "
                        "COALESCE(target_event_id, ''), COALESCE(target_etag, ''), COALESCE(content_sha256, ''), "
                        "COALESCE(start_at, 0), COALESCE(end_at, 0), all_day, state, deleted_at, recurring, updated_at, "
                        "expanded_until FROM mappings WHERE pair_id = :p AND source_calendar_id = :c",
         soci::use(pairId), soci::use(sourceCalendarId));
    for (const auto& r : rows) {
      Mapping m;
      m.pairId = pairId;
      m.sourceCalendarId = sourceCalendarId;
      m.sourceEventId = textAt(r, 0);
      m.sourceRecurrenceId = textAt(r, 1);
      m.sourceEtag = textAt(r, 2);
      m.targetEventId = textAt(r, 3);
      m.targetEtag = textAt(r, 4);
      m.contentSha256 = textAt(r, 5);
      m.startAt = integerAt(r, 6);
      m.endAt = integerAt(r, 7);
      m.allDay = integerAt(r, 8) != 0;
      m.state = stateFrom(textAt(r, 9));
      if (r.get_indicator(10) != soci::i_null) m.deletedAt = integerAt(r, 10);
      m.recurring = integerAt(r, 11) != 0;
      m.updatedAt = integerAt(r, 12);
      if (r.get_indicator(13) != soci::i_null) m.expandedUntil = integerAt(r, 13);
      out.push_back(std::move(m));
    }
    return out;
  });
}

namespace {

// Mapping rows written through two statements prepared once per transaction: the upsert (one
// statement, so a crash never leaves half a mapping; the unique key makes it an upsert) and the
// copy's ETag on every mapping of its resource.
class RowWriter {
 public:
  RowWriter(soci::session& sql, long long now) : now_(now) {
    upsert_ = std::make_unique<soci::statement>(
        (sql.prepare << "INSERT INTO mappings (id, pair_id, source_calendar_id, source_event_id, source_recurrence_id, "
                        "source_etag, target_event_id, target_etag, content_sha256, start_at, end_at, all_day, state, "
                        "deleted_at, recurring, created_at, updated_at, expanded_until) "
                        "VALUES (:id, :p, :c, :e, :r, :se, :te, :tt, :h, :s, :en, :a, :st, :d, :rc, :cr, :up, :x) "
                        "ON CONFLICT (pair_id, source_calendar_id, source_event_id, source_recurrence_id) DO UPDATE SET "
                        "source_etag = excluded.source_etag, target_event_id = excluded.target_event_id, "
                        "target_etag = excluded.target_etag, content_sha256 = excluded.content_sha256, "
                        "start_at = excluded.start_at, end_at = excluded.end_at, all_day = excluded.all_day, "
                        "state = excluded.state, deleted_at = excluded.deleted_at, recurring = excluded.recurring, "
                        "updated_at = excluded.updated_at, expanded_until = excluded.expanded_until",
         soci::use(id_), soci::use(m_.pairId), soci::use(m_.sourceCalendarId), soci::use(m_.sourceEventId),
         soci::use(m_.sourceRecurrenceId), soci::use(m_.sourceEtag), soci::use(m_.targetEventId),
         soci::use(m_.targetEtag), soci::use(m_.contentSha256), soci::use(m_.startAt), soci::use(m_.endAt),
         soci::use(allDay_), soci::use(state_), soci::use(deletedAt_, deletedInd_), soci::use(recurring_),
         soci::use(now_), soci::use(now_), soci::use(expandedUntil_, expandedInd_)));
    etag_ = std::make_unique<soci::statement>(
        (sql.prepare << "UPDATE mappings SET target_etag = :e WHERE pair_id = :p AND target_event_id = :t AND "
                        "state = 'synced'",
         soci::use(m_.targetEtag), soci::use(m_.pairId), soci::use(m_.targetEventId)));
  }
  /// `linkResource`: every mapping of the copy's resource (a series and its occurrences) takes its ETag.
  void save(const Mapping& m, bool linkResource = true) {
    m_ = m;
    id_ = core::newId("map");
    state_ = std::string(toString(m.state));
    allDay_ = m.allDay ? 1 : 0;
    recurring_ = m.recurring ? 1 : 0;
    deletedAt_ = m.deletedAt.value_or(0);
    deletedInd_ = m.deletedAt ? soci::i_ok : soci::i_null;
    expandedUntil_ = m.expandedUntil.value_or(0);
    expandedInd_ = m.expandedUntil ? soci::i_ok : soci::i_null;
    upsert_->execute(true);
    if (linkResource && !m.targetEventId.empty() && m.state == MappingState::Synced) etag_->execute(true);
  }

 private:
  Mapping m_;
  std::string id_, state_;
  int allDay_ = 0, recurring_ = 0;
  long long now_, deletedAt_ = 0, expandedUntil_ = 0;
  soci::indicator deletedInd_ = soci::i_null, expandedInd_ = soci::i_null;
  std::unique_ptr<soci::statement> upsert_, etag_;
};

// A record group's mappings in a few statements rather than two each: the upserts as multi-row
// INSERTs, then each copy's ETag on every synced mapping of its resource as one UPDATE per pair and
// chunk. The end state is that of saving the rows one by one in order (RowWriter): of a key saved
// twice, the last save; of a resource, the ETag of its last synced save.
class GroupWriter {
 public:
  GroupWriter(soci::session& sql, store::Dialect dialect, long long now) : sql_(sql), dialect_(dialect), now_(now) {}

  void save(const std::vector<StepRecord>& steps) {
    std::vector<const Mapping*> all;
    for (const auto& step : steps) {
      for (const auto& m : step.mappings) all.push_back(&m);
    }
    // one row per key (a statement may not upsert a row twice), at its last save's place
    std::map<std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>, std::size_t> last;
    for (std::size_t i = 0; i < all.size(); ++i) {
      last[{all[i]->pairId, all[i]->sourceCalendarId, all[i]->sourceEventId, all[i]->sourceRecurrenceId}] = i;
    }
    std::vector<const Mapping*> rows;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (last[{all[i]->pairId, all[i]->sourceCalendarId, all[i]->sourceEventId, all[i]->sourceRecurrenceId}] == i) {
        rows.push_back(all[i]);
      }
    }
    const std::size_t chunk = store::rowsPerStatement(kColumns);
    for (std::size_t at = 0; at < rows.size(); at += chunk) {
      upsert(std::span(rows).subspan(at, std::min(chunk, rows.size() - at)));
    }
    linkEtags(all);
  }

 private:
  static constexpr std::size_t kColumns = 18;
  struct Cells {
    std::string id, state;
    int allDay = 0, recurring = 0;
    long long deletedAt = 0, expandedUntil = 0;
    soci::indicator deletedInd = soci::i_null, expandedInd = soci::i_null;
  };

  void upsert(std::span<const Mapping* const> rows) {
    std::vector<Cells> cells(rows.size());  // bound by address: sized before binding
    const std::string query =
        "INSERT INTO mappings (id, pair_id, source_calendar_id, source_event_id, source_recurrence_id, source_etag, "
        "target_event_id, target_etag, content_sha256, start_at, end_at, all_day, state, deleted_at, recurring, "
        "created_at, updated_at, expanded_until) VALUES " +
        store::valuesList(dialect_, rows.size(), kColumns) + " " + kOnConflict;
    store::executeOnce(sql_, query, [&](soci::statement& st) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const Mapping& m = *rows[i];
        Cells& c = cells[i];
        c.id = core::newId("map");
        c.state = std::string(toString(m.state));
        c.allDay = m.allDay ? 1 : 0;
        c.recurring = m.recurring ? 1 : 0;
        c.deletedAt = m.deletedAt.value_or(0);
        c.deletedInd = m.deletedAt ? soci::i_ok : soci::i_null;
        c.expandedUntil = m.expandedUntil.value_or(0);
        c.expandedInd = m.expandedUntil ? soci::i_ok : soci::i_null;
        const std::initializer_list<const std::string*> texts = {
            &c.id, &m.pairId, &m.sourceCalendarId, &m.sourceEventId, &m.sourceRecurrenceId,
            &m.sourceEtag, &m.targetEventId, &m.targetEtag, &m.contentSha256};
        for (const std::string* text : texts) {
          st.exchange(soci::use(*text));
        }
        st.exchange(soci::use(m.startAt));
        st.exchange(soci::use(m.endAt));
        st.exchange(soci::use(c.allDay));
        st.exchange(soci::use(c.state));
        st.exchange(soci::use(c.deletedAt, c.deletedInd));
        st.exchange(soci::use(c.recurring));
        st.exchange(soci::use(now_));
        st.exchange(soci::use(now_));
        st.exchange(soci::use(c.expandedUntil, c.expandedInd));
      }
    });
  }

  // Per pair, each resource's last synced ETag, then one UPDATE per chunk of resources.
  void linkEtags(const std::vector<const Mapping*>& all) {
    std::map<std::string_view, std::map<std::string_view, std::string_view>> etags;  // pair -> resource -> ETag
    for (const Mapping* m : all) {
      if (!m->targetEventId.empty() && m->state == MappingState::Synced) {
        etags[m->pairId][m->targetEventId] = m->targetEtag;
      }
    }
    const std::size_t chunk = store::rowsPerStatement(4);
    for (const auto& [pair, resources] : etags) {
      std::vector<std::pair<std::string, std::string>> list(resources.begin(), resources.end());
      for (std::size_t at = 0; at < list.size(); at += chunk) {
        update(std::string(pair), std::span(list).subspan(at, std::min(chunk, list.size() - at)));
      }
    }
  }

  void update(const std::string& pair, std::span<const std::pair<std::string, std::string>> resources) {
    std::string cases, in;
    for (std::size_t i = 0; i < resources.size(); ++i) {
      const std::string n = std::to_string(i);
      cases += " WHEN " + store::parameter(dialect_, "t" + n) + " THEN " + store::parameter(dialect_, "e" + n);
      in += (i ? ", " : "") + store::parameter(dialect_, "i" + n);
    }
    const std::string query = "UPDATE mappings SET target_etag = CASE target_event_id" + cases +
                              " END WHERE pair_id = " + store::parameter(dialect_, "p") +
                              " AND state = 'synced' AND target_event_id IN (" + in + ")";
    store::executeOnce(sql_, query, [&](soci::statement& st) {
      for (const auto& [resource, etag] : resources) {
        st.exchange(soci::use(resource));
        st.exchange(soci::use(etag));
      }
      st.exchange(soci::use(pair));
      for (const auto& r : resources) st.exchange(soci::use(r.first));
    });
  }

  static constexpr const char* kOnConflict =
      "ON CONFLICT (pair_id, source_calendar_id, source_event_id, source_recurrence_id) DO UPDATE SET "
      "source_etag = excluded.source_etag, target_event_id = excluded.target_event_id, "
      "target_etag = excluded.target_etag, content_sha256 = excluded.content_sha256, "
      "start_at = excluded.start_at, end_at = excluded.end_at, all_day = excluded.all_day, "
      "state = excluded.state, deleted_at = excluded.deleted_at, recurring = excluded.recurring, "
      "updated_at = excluded.updated_at, expanded_until = excluded.expanded_until";

  soci::session& sql_;
  store::Dialect dialect_;
  long long now_;
};

void setEtagRows(soci::session& sql, const std::string& pairId, const std::string& targetEventId,
                 const std::string& etag) {
  sql << "UPDATE mappings SET target_etag = :e WHERE pair_id = :p AND target_event_id = :t AND state = 'synced'",
      soci::use(etag), soci::use(pairId), soci::use(targetEventId);
}

}  // namespace

core::Result<void> MappingStore::save(const Mapping& m) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    long long now = clock_.nowUnixSeconds();
    RowWriter rows(sql, now);
    rows.save(m, false);  // only this row: the ETag of the resource's other mappings is recordWrite's business
    return {};
  });
}

core::Result<void> MappingStore::recordWrite(const Mapping& m, const audit::AuditEntry& entry) {
  return recordAll({m}, entry);
}

core::Result<void> MappingStore::recordAll(const std::vector<Mapping>& mappings,
                                           const std::optional<audit::AuditEntry>& entry) {
  return recordSteps({StepRecord{mappings, entry}});
}

core::Result<void> MappingStore::recordSteps(const std::vector<StepRecord>& steps) {
  if (steps.empty()) return {};
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    store::WriteTransaction tx(sql, db_.dialect());
    GroupWriter(sql, db_.dialect(), now).save(steps);
    std::vector<const audit::AuditEntry*> entries;
    for (const auto& step : steps) {
      if (step.entry) entries.push_back(&*step.entry);
    }
    audit::AuditLog::appendAllWithin(sql, db_.dialect(), entries, now);
    tx.commit();
    return {};
  });
}

core::Result<void> MappingStore::setTargetEtag(const std::string& pairId, const std::string& targetEventId,
                                               const std::string& etag) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    setEtagRows(sql, pairId, targetEventId, etag);
    return {};
  });
}

core::Result<std::size_t> MappingStore::purgeDeletedBefore(long long cutoffUnix) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    soci::statement st =
        (sql.prepare << "DELETE FROM mappings WHERE deleted_at IS NOT NULL AND deleted_at < :c", soci::use(cutoffUnix));
    st.execute(true);
    return static_cast<std::size_t>(st.get_affected_rows());
  });
}

core::Result<std::string> MappingStore::cursor(const std::string& pairId, const std::string& calendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::string> {
    std::string value;
    soci::indicator ind = soci::i_null;
    sql << "SELECT value FROM cursors WHERE pair_id = :p AND calendar_id = :c ORDER BY updated_at DESC LIMIT 1",
        soci::into(value, ind), soci::use(pairId), soci::use(calendarId);
    if (!sql.got_data() || ind == soci::i_null) return std::string();
    return value;
  });
}

core::Result<void> MappingStore::saveCursor(const std::string& pairId, const std::string& calendarId,
                                            const std::string& kind, const std::string& value, long long takenAt) {
  if (value.size() > 8192) return fail(ErrorCode::Invalid, "the provider's sync cursor is longer than 8 KiB");
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    sql << "INSERT INTO cursors (pair_id, calendar_id, kind, value, updated_at, taken_at) VALUES (:p, :c, :k, :v, :t, "
           ":a) ON CONFLICT (pair_id, calendar_id, kind) DO UPDATE SET value = excluded.value, "
           "updated_at = excluded.updated_at, taken_at = excluded.taken_at",
        soci::use(pairId), soci::use(calendarId), soci::use(kind), soci::use(value), soci::use(now), soci::use(takenAt);
    return {};
  });
}

core::Result<std::optional<long long>> MappingStore::cursorTakenAt(const std::string& pairId,
                                                                   const std::string& calendarId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::optional<long long>> {
    long long at = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT taken_at FROM cursors WHERE pair_id = :p AND calendar_id = :c ORDER BY updated_at DESC LIMIT 1",
        soci::into(at, ind), soci::use(pairId), soci::use(calendarId);
    if (!sql.got_data() || ind == soci::i_null) return std::optional<long long>();
    return std::optional<long long>(at);
  });
}

core::Result<MappingCounts> MappingStore::countByState(const std::string& pairId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<MappingCounts> {
    MappingCounts n;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT state, CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END, COUNT(*) FROM mappings "
                        "WHERE pair_id = :p GROUP BY state, CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END",
         soci::use(pairId));
    for (const auto& r : rows) {
      const std::string state = store::textAt(r, 0);
      const bool kept = store::integerAt(r, 1) != 0;
      const long long count = store::integerAt(r, 2);
      if (state == "synced") n.synced += count;
      else if (state == "denied") n.denied += count;
      else if (state == "deleted" && kept) n.keptDeleted += count;  // a user deleted the copy
      else if (state == "deleted") n.deleted += count;             // the source went
    }
    return n;
  });
}

}  // namespace calgate::sync
