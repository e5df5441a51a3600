// Runs against SQLite, or PostgreSQL when CG_TEST_POSTGRES_URL_FILE is set (see tests/CMakeLists.txt).
// The cache's reconnect path is covered by accounts.postgresql.reconnect (user_store_test.cpp).
#include "calgate/store/statement_cache.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

using namespace calgate;
using namespace calgate::store;
using calgate::test::TestDatabase;

namespace {

struct Probe {
  std::string key;
  long long value = 0;
};

const std::string kSelect = "SELECT v FROM cache_probe WHERE k = :k";

CachedStatement<Probe>& probe(Database& db, soci::session& sql) {
  return cachedStatement<Probe>(db, sql, kSelect, [](soci::statement& st, Probe& row) {
    st.exchange(soci::into(row.value));
    st.exchange(soci::use(row.key));
  });
}

void createTable(Database& db) {
  auto made = db.withSession([](soci::session& sql) -> core::Result<void> {
    sql << "CREATE TABLE cache_probe (k TEXT PRIMARY KEY, v BIGINT NOT NULL)";
    sql << "INSERT INTO cache_probe (k, v) VALUES ('a', 1)";
    sql << "INSERT INTO cache_probe (k, v) VALUES ('b', 2)";
    return {};
  });
  REQUIRE(made);
}

}  // namespace

TEST_CASE("a cached statement is prepared once per session and runs with each call's inputs", "[store][statements]") {
  TestDatabase t;
  createTable(t.db());
  auto s = t.db().acquire();
  REQUIRE(s);
  soci::session& sql = **s;
  auto& first = probe(t.db(), sql);
  first.row.key = "a";
  REQUIRE(first.fetchOne());
  CHECK(first.row.value == 1);
  auto& again = probe(t.db(), sql);
  CHECK(&again == &first);  // the same prepared statement, not a second one
  CHECK(t.db().statementCache(sql).size() == 1);
  again.row.key = "b";
  REQUIRE(again.fetchOne());
  CHECK(again.row.value == 2);
  again.row.key = "missing";
  CHECK_FALSE(again.fetchOne());

  // a statement without a result reports the rows it changed
  struct Update {
    std::string key;
    long long value = 0;
  };
  auto& update = cachedStatement<Update>(t.db(), sql, "UPDATE cache_probe SET v = :v WHERE k = :k",
                                         [](soci::statement& st, Update& row) {
                                           st.exchange(soci::use(row.value));
                                           st.exchange(soci::use(row.key));
                                         });
  update.row = {"a", 10};
  CHECK(update.execute() == 1);
  update.row = {"missing", 10};
  CHECK(update.execute() == 0);
  again.row.key = "a";
  REQUIRE(again.fetchOne());
  CHECK(again.row.value == 10);

  // one text is one statement: reusing it with another row type is refused, not reinterpreted
  struct Other {
    std::string key;
    long long value = 0;
  };
  CHECK_THROWS_AS(cachedStatement<Other>(t.db(), sql, kSelect,
                                         [](soci::statement& st, Other& row) {
                                           st.exchange(soci::into(row.value));
                                           st.exchange(soci::use(row.key));
                                         }),
                  soci::soci_error);
}

TEST_CASE("a cached statement holds no read snapshot between calls: the session sees later commits",
          "[store][statements]") {
  TestDatabase t;
  createTable(t.db());
  auto reader = t.db().acquire();
  auto writer = t.db().acquire();
  REQUIRE(reader);
  REQUIRE(writer);
  auto& q = probe(t.db(), **reader);
  q.row.key = "a";
  REQUIRE(q.fetchOne());  // a row came: an SQLite statement left at it would keep its snapshot open

  **writer << "INSERT INTO cache_probe (k, v) VALUES ('c', 3)";

  // an ordinary statement on the reader's session sees the writer's commit, and can write
  long long rows = 0;
  **reader << "SELECT COUNT(*) FROM cache_probe", soci::into(rows);
  CHECK(rows == 3);
  CHECK_NOTHROW(**reader << "UPDATE cache_probe SET v = 4 WHERE k = 'c'");
  q.row.key = "c";
  REQUIRE(q.fetchOne());
  CHECK(q.row.value == 4);
}

TEST_CASE("cached statements belong to one session each", "[store][statements]") {
  TestDatabase t;
  createTable(t.db());
  auto one = t.db().acquire();
  auto two = t.db().acquire();
  REQUIRE(one);
  REQUIRE(two);
  auto& a = probe(t.db(), **one);
  auto& b = probe(t.db(), **two);
  CHECK(&a != &b);
  a.row.key = "a";
  b.row.key = "b";
  REQUIRE(a.fetchOne());
  REQUIRE(b.fetchOne());
  CHECK(a.row.value == 1);
  CHECK(b.row.value == 2);
  soci::session outside;  // not one of the pool's
  CHECK_THROWS_AS(t.db().statementCache(outside), soci::soci_error);
}

TEST_CASE("a cached statement whose run failed is prepared afresh at the next lookup", "[store][statements]") {
  TestDatabase t;
  createTable(t.db());
  auto s = t.db().acquire();
  REQUIRE(s);
  soci::session& sql = **s;
  // b's value comes back NULL, which SOCI refuses to put into a row without an indicator
  const std::string query = "SELECT CASE WHEN v > 1 THEN NULL ELSE v END FROM cache_probe WHERE k = :k";
  auto bind = [](soci::statement& st, Probe& row) {
    st.exchange(soci::into(row.value));
    st.exchange(soci::use(row.key));
  };
  auto& failing = cachedStatement<Probe>(t.db(), sql, query, bind);
  failing.row.key = "b";
  CHECK_THROWS_AS(failing.fetchOne(), soci::soci_error);
  CHECK(failing.broken());
  const void* before = &failing;
  auto& fresh = cachedStatement<Probe>(t.db(), sql, query, bind);  // `failing` is gone now
  // prepared anew (made before the broken one was dropped, so never at its address)
  CHECK(static_cast<const void*>(&fresh) != before);
  CHECK_FALSE(fresh.broken());
  CHECK(t.db().statementCache(sql).size() == 1);
  fresh.row.key = "a";
  REQUIRE(fresh.fetchOne());
  CHECK(fresh.row.value == 1);
}
