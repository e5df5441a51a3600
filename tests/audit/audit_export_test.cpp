// The audit chain for reviewers over a real store (SQLite, or PostgreSQL when
// CG_TEST_POSTGRES_URL_FILE is set): signed checkpoints, the JSON Lines export and its offline
// verification (every kind of tampering named), retention that leaves a verifiable remainder, and
// a database-side rewrite of the whole chain caught by a checkpoint.
#include "calgate/audit/audit_export.hpp"
#include "calgate/audit/audit_log.hpp"
#include "calgate/audit/chain.hpp"
#include "calgate/audit/checkpoints.hpp"
#include "calgate/audit/export_verifier.hpp"
#include "calgate/core/signing.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/store/row_values.hpp"
#include "support/test_database.hpp"
#include "fakes/fake_clock.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <sstream>
#include <vector>

using namespace calgate;
using calgate::test::TestDatabase;
using nlohmann::json;

namespace {

struct Log {
  TestDatabase t;
  test::FakeClock clock = test::FakeClock::at(std::chrono::year{2026} / std::chrono::December / 1, std::chrono::hours(9));
  core::SigningKey key = *core::SigningKey::fromSeed(std::string(32, 'k'));
  Log() {
    store::Migrator m(t.db(), store::builtinMigrations(t.dialect()), clock);
    REQUIRE(m.migrate());
  }
  /// `n` entries, alternating between two users, an hour apart.
  void add(int n) {
    audit::AuditLog log(t.db(), clock);
    for (int i = 0; i < n; ++i) {
      audit::AuditEntry e;
      e.userId = i % 2 ? "usr_bob" : "usr_ada";
      e.action = "sync.write";
      e.objectRef = "pair/p" + std::to_string(i);
      e.decision = "create";
      e.reasons = {"reason " + std::to_string(i)};
      REQUIRE(log.append(e));
      clock.advance(std::chrono::hours(1));
    }
  }
  std::string exported(audit::ExportFilter filter = {}) {
    std::ostringstream out;
    auto done = audit::exportAudit(t.db(), clock, key, filter, out);
    INFO((done ? "" : done.error().describe()));
    REQUIRE(done);
    return out.str();
  }
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string joined(const std::vector<std::string>& ls) {
  std::string out;
  for (const auto& l : ls) out += l + "\n";
  return out;
}

core::Result<audit::VerifiedExport> verify(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  return audit::verifyExport(in, key);
}

std::string failure(const std::string& text, const std::string& key) {
  auto r = verify(text, key);
  REQUIRE_FALSE(r);
  return r.error().message;
}

/// The line index of entry `seq`.
std::size_t lineOf(const std::vector<std::string>& ls, long long seq) {
  for (std::size_t i = 0; i < ls.size(); ++i) {
    const auto j = json::parse(ls[i]);
    if ((j["type"] == "entry" || j["type"] == "link") && j["seq"] == seq) return i;
  }
  FAIL("no entry " << seq);
  return 0;
}

}  // namespace

TEST_CASE("an audit export verifies offline with the pinned key, whole or for one user", "[store][audit]") {
  Log l;
  l.add(10);
  const std::string all = l.exported();
  auto v = verify(all, l.key.publicKey());
  INFO((v ? "" : v.error().message));
  REQUIRE(v);
  CHECK(v->entries == 10);
  CHECK(v->links == 0);
  CHECK(v->checkpoints == 1);  // the export signed its last entry
  CHECK(v->lastSeq - v->firstSeq == 9);
  // the export left a checkpoint in the database: the log verifies in place against the key
  auto inPlace = audit::AuditLog(l.t.db(), l.clock).verify(l.key.publicKey());
  INFO((inPlace ? "" : inPlace.error().message));
  REQUIRE(inPlace);
  CHECK(*inPlace == 10);

  // one user's entries whole, the others' as links: nothing of bob's leaves, the chain still checks
  const std::string ada = l.exported({std::nullopt, std::nullopt, std::string("usr_ada")});
  CHECK(ada.find("usr_bob") == std::string::npos);
  CHECK(ada.find("reason 1\"") == std::string::npos);
  v = verify(ada, l.key.publicKey());
  REQUIRE(v);
  CHECK(v->entries == 5);
  CHECK(v->links == 5);

  // a time range: entries 3..6 (an hour apart from 09:00)
  const long long t0 = std::chrono::sys_seconds(std::chrono::sys_days(std::chrono::year{2026} / std::chrono::December / 1)).time_since_epoch().count() + 9 * 3600;
  const std::string range = l.exported({t0 + 3 * 3600, t0 + 6 * 3600, std::nullopt});
  v = verify(range, l.key.publicKey());
  REQUIRE(v);
  CHECK(v->entries == 4);

  // another installation's key: refused
  const auto other = *core::SigningKey::fromSeed(std::string(32, 'o'));
  CHECK_THAT(failure(all, other.publicKey()), Catch::Contains("not signed by the pinned key"));
  CHECK_THAT(failure(all, "not a key"), Catch::Contains("not base64 of 32 bytes"));
}

TEST_CASE("tampering with an audit export is detected and named: edit, delete, reorder, truncate, re-hash",
          "[store][audit]") {
  Log l;
  l.add(8);
  const std::string text = l.exported();
  const auto ls = lines(text);
  const std::string key = l.key.publicKey();
  const long long first = json::parse(ls[1])["seq"];

  SECTION("an edited entry names itself") {
    auto edited = ls;
    const auto i = lineOf(edited, first + 3);
    auto j = json::parse(edited[i]);
    j["decision"] = "denied";
    edited[i] = j.dump();
    CHECK_THAT(failure(joined(edited), key), Catch::Contains("entry " + std::to_string(first + 3) + " was altered"));
  }
  SECTION("a deleted entry breaks the chain at the next one") {
    auto cut = ls;
    cut.erase(cut.begin() + static_cast<long>(lineOf(cut, first + 4)));
    CHECK_THAT(failure(joined(cut), key),
               Catch::Contains("entry " + std::to_string(first + 5) + ": the chain is broken") &&
                   Catch::Contains("entry " + std::to_string(first + 3)));
  }
  SECTION("reordered entries are named") {
    auto swapped = ls;
    std::swap(swapped[lineOf(swapped, first + 2)], swapped[lineOf(swapped, first + 3)]);
    CHECK_THAT(failure(joined(swapped), key), Catch::Contains("reordered"));
  }
  SECTION("a truncated export: without its seal, or without its last entries") {
    auto noSeal = ls;
    noSeal.pop_back();
    CHECK_THAT(failure(joined(noSeal), key), Catch::Contains("truncated") && Catch::Contains("without its signed seal"));
    auto shorter = ls;
    const auto seal = shorter.back();
    shorter.resize(lineOf(shorter, first + 5));  // entries from first+5 on and the checkpoint gone
    shorter.push_back(seal);
    CHECK_THAT(failure(joined(shorter), key), Catch::Contains("truncated") &&
                                                  Catch::Contains("names entry " + std::to_string(first + 7)));
  }
  SECTION("an edit re-hashed down the chain without the key fails at the signatures") {
    auto forged = ls;
    std::string prev;
    std::string digest = audit::kGenesis;
    for (std::size_t i = 1; i < forged.size(); ++i) {
      auto j = json::parse(forged[i]);
      if (j["type"] == "entry") {
        if (j["seq"] == first + 2) j["decision"] = "denied";
        if (!prev.empty()) j["prev"] = prev;
        j["hash"] = audit::entryHash(j["prev"].get<std::string>(),
                                     {j["at"], j["actor"], j["user_id"], j["action"], j["object_ref"], j["decision"], j["details"]});
        prev = j["hash"];
        digest = audit::exportDigestStep(digest, 'e', j["seq"], prev);
      } else if (j["type"] == "checkpoint") {
        j["hash"] = prev;
      } else if (j["type"] == "seal") {
        j["last_hash"] = prev;
        j["digest"] = digest;
      }
      forged[i] = j.dump();
    }
    CHECK_THAT(failure(joined(forged), key),
               Catch::Contains("checkpoint of entry " + std::to_string(first + 7)) && Catch::Contains("re-hashed without the key"));
  }
  SECTION("an entry turned into a link (hiding it) breaks the seal") {
    auto hidden = ls;
    const auto i = lineOf(hidden, first + 1);
    auto j = json::parse(hidden[i]);
    hidden[i] = json{{"type", "link"}, {"seq", j["seq"]}, {"prev", j["prev"]}, {"hash", j["hash"]}}.dump();
    CHECK_THAT(failure(joined(hidden), key), Catch::Contains("do not match the seal"));
  }
  SECTION("the header is sealed too: an edited filter fails") {
    auto edited = ls;
    auto j = json::parse(edited[0]);
    j["filter"]["user_id"] = "usr_someone_else";
    edited[0] = j.dump();
    CHECK_THAT(failure(joined(edited), key), Catch::Contains("not signed by the pinned key"));
  }
  SECTION("one spelling per line: re-serialised or CR-terminated lines are refused") {
    auto spaced = ls;
    spaced[2].insert(1, " ");
    CHECK_THAT(failure(joined(spaced), key), Catch::Contains("line 3: not written as calgate writes it"));
    std::string crlf;
    for (const auto& line : ls) crlf += line + "\r\n";
    CHECK_THAT(failure(crlf, key), Catch::Contains("line 1: not written as calgate writes it"));
  }
  SECTION("an anchor kept from an earlier export must be there, with its hash") {
    const auto j = json::parse(ls[lineOf(ls, first + 4)]);
    std::istringstream in(text);
    CHECK(audit::verifyExport(in, key, {{first + 4, j["hash"].get<std::string>()}}));
    std::istringstream again(text);
    auto bad = audit::verifyExport(again, key, {{first + 4, std::string(64, 'f')}});
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("entry " + std::to_string(first + 4) + " is not the entry you kept"));
  }
  SECTION("not an export at all") {
    CHECK_THAT(failure("{\"type\":\"entry\"}\n", key), Catch::Contains("not a calgate audit export"));
    CHECK_THAT(failure("", key), Catch::Contains("empty"));
    CHECK_THAT(failure(ls[0] + "\n" + std::string(70000, 'x') + "\n", key), Catch::Contains("longer than 64 KiB"));
  }
}

TEST_CASE("retention purges old audit entries after a checkpoint; what remains verifies, in place and exported",
          "[store][audit]") {
  Log l;
  l.add(12);  // 09:00 .. 20:00
  const long long cutoff = l.clock.nowUnixSeconds() - 6 * 3600;  // the first six entries are older
  audit::AuditLog log(l.t.db(), l.clock);
  auto removed = log.purgeBefore(cutoff, l.key);
  REQUIRE(removed);
  CHECK(*removed == 6);
  auto kept = log.verify(l.key.publicKey());
  INFO((kept ? "" : kept.error().message));
  REQUIRE(kept);
  CHECK(*kept == 7);  // six entries and the purge's own record
  auto stored = log.read(0, 100);
  REQUIRE(stored);
  CHECK(stored->back().entry.action == "audit.purge");
  CHECK(stored->back().entry.facts.at("entries") == "6");
  auto v = verify(l.exported(), l.key.publicKey());
  REQUIRE(v);
  CHECK(v->entries == 7);
  // the newest entry is never purged: the chain goes on from it
  l.clock.advance(std::chrono::hours(24 * 500));
  REQUIRE(log.purgeBefore(l.clock.nowUnixSeconds(), l.key));
  kept = log.verify(l.key.publicKey());
  REQUIRE(kept);
  CHECK(*kept == 2);  // the newest (the first purge's record) and the second purge's record
  l.add(2);
  kept = log.verify(l.key.publicKey());
  REQUIRE(kept);
  CHECK(*kept == 4);

  // removing entries with no purge on record is caught, even where a checkpoint would anchor them
  REQUIRE(l.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "DELETE FROM audit_log WHERE seq = (SELECT MIN(seq) FROM audit_log)";
    return {};
  }));
  auto broken = log.verify(l.key.publicKey());
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().message, Catch::Contains("were removed without a recorded purge"));
  // and removing a prefix no checkpoint anchors
  REQUIRE(l.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "DELETE FROM audit_checkpoints";
    return {};
  }));
  broken = log.verify();
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().message, Catch::Contains("no checkpoint of a purge anchors it"));
}

TEST_CASE("someone who can write the database rewrites an entry and re-hashes the whole chain: the signed checkpoint "
          "catches it",
          "[store][audit]") {
  Log l;
  l.add(6);
  REQUIRE(audit::Checkpoints(l.t.db(), l.clock, l.key).signHead());
  // the attacker edits entry 2 and recomputes every hash after it, consistently
  REQUIRE(l.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT seq, at, actor, COALESCE(user_id, ''), action, object_ref, "
                                                   "COALESCE(decision, ''), details_json, prev_sha256 FROM audit_log ORDER BY seq");
    std::vector<std::pair<long long, audit::ChainFields>> all;
    std::string firstPrev;
    for (const auto& r : rows) {
      if (firstPrev.empty()) firstPrev = r.get<std::string>(8);
      all.push_back({store::integerAt(r, 0), {store::integerAt(r, 1), store::textAt(r, 2), store::textAt(r, 3),
                                              store::textAt(r, 4), store::textAt(r, 5), store::textAt(r, 6), store::textAt(r, 7)}});
    }
    all[1].second.decision = "denied";
    std::string prev = firstPrev;
    for (auto& [seq, f] : all) {
      const std::string hash = audit::entryHash(prev, f);
      sql << "UPDATE audit_log SET decision = :d, prev_sha256 = :p, entry_sha256 = :h WHERE seq = :s", soci::use(f.decision),
          soci::use(prev), soci::use(hash), soci::use(seq);
      prev = hash;
    }
    return {};
  }));
  // without the key the chain looks whole; the checkpoint says otherwise, and calgate refuses to
  // sign the rewritten chain
  auto looked = audit::AuditLog(l.t.db(), l.clock).verify();
  CHECK_FALSE(looked);
  auto checked = audit::AuditLog(l.t.db(), l.clock).verify(l.key.publicKey());
  REQUIRE_FALSE(checked);
  CHECK_THAT(checked.error().message, Catch::Contains("checkpoint of entry") && Catch::Contains("rewritten"));
  l.add(1);
  auto refused = audit::Checkpoints(l.t.db(), l.clock, l.key).signHead();
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("no longer has the hash calgate signed"));
  std::ostringstream out;
  CHECK_FALSE(audit::exportAudit(l.t.db(), l.clock, l.key, {}, out));
}

TEST_CASE("a chain rewritten in the database with every checkpoint removed is caught by the anchor a reviewer kept",
          "[store][audit]") {
  Log l;
  l.add(6);
  // the reviewer's earlier export: they keep its last entry's seq and hash
  auto v = verify(l.exported(), l.key.publicKey());
  REQUIRE(v);
  const audit::Anchor kept{v->lastSeq, v->lastHash};
  l.add(3);
  // the attacker rewrites entry 2 onward and removes the checkpoints that would tell
  REQUIRE(l.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT seq, at, actor, COALESCE(user_id, ''), action, object_ref, "
                                                   "COALESCE(decision, ''), details_json FROM audit_log ORDER BY seq");
    std::vector<std::pair<long long, audit::ChainFields>> all;
    for (const auto& r : rows) {
      all.push_back({store::integerAt(r, 0), {store::integerAt(r, 1), store::textAt(r, 2), store::textAt(r, 3),
                                              store::textAt(r, 4), store::textAt(r, 5), store::textAt(r, 6), store::textAt(r, 7)}});
    }
    all[1].second.decision = "denied";
    std::string prev = audit::kGenesis;
    for (auto& [seq, f] : all) {
      const std::string hash = audit::entryHash(prev, f);
      sql << "UPDATE audit_log SET decision = :d, prev_sha256 = :p, entry_sha256 = :h WHERE seq = :s", soci::use(f.decision),
          soci::use(prev), soci::use(hash), soci::use(seq);
      prev = hash;
    }
    sql << "DELETE FROM audit_checkpoints";
    return {};
  }));
  // the database alone cannot tell any more (documented in docs/security.md)...
  CHECK(audit::AuditLog(l.t.db(), l.clock).verify(l.key.publicKey()));
  // ...but the new export no longer holds the entry the reviewer kept
  const std::string fresh = l.exported();
  CHECK(verify(fresh, l.key.publicKey()));
  std::istringstream in(fresh);
  auto anchored = audit::verifyExport(in, l.key.publicKey(), {kept});
  REQUIRE_FALSE(anchored);
  CHECK_THAT(anchored.error().message, Catch::Contains("is not the entry you kept") && Catch::Contains("rewritten"));
}

TEST_CASE("checkpoints are signed with the key and verify with its public half only", "[audit]") {
  const auto key = *core::SigningKey::fromSeed(std::string(32, 's'));
  CHECK(key.keyId().size() == 16);
  CHECK(core::keyIdOf(key.publicKey()) == key.keyId());
  const std::string sig = key.sign(audit::checkpointMessage(7, std::string(64, 'a'), 100));
  audit::Checkpoint c{7, std::string(64, 'a'), 100, key.keyId(), sig};
  CHECK(audit::verifyCheckpoint(c, key.publicKey()));
  c.at = 101;
  CHECK_FALSE(audit::verifyCheckpoint(c, key.publicKey()));
  CHECK_FALSE(core::SigningKey::fromSeed("short"));
  CHECK_FALSE(core::verifySignature(key.publicKey(), "m", "not base64!"));
}
