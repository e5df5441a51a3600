#pragma once
/// Statements over many rows at once: a record group's mappings or audit entries reach the database
/// in one INSERT per chunk (one round trip on PostgreSQL, one parse on SQLite) instead of one
/// statement each. The caller binds the values in row order, columns within a row, each from a
/// variable that outlives the statement. The text helpers are pure; executeOnce uses the session
/// it is given (one thread's, inside withSession).

#include "calgate/store/database.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <cstddef>
#include <string>

namespace calgate::store {

/// Rows one statement takes at most with `columns` values each: at most 256 rows and well under
/// SQLite's limit of 32,766 bound values (PostgreSQL's is 65,535).
inline std::size_t rowsPerStatement(std::size_t columns) {
  return std::clamp<std::size_t>(30000 / std::max<std::size_t>(columns, 1), 1, 256);
}

/// A placeholder bound by position: "?" on SQLite (whose named parameters are looked up one by
/// one, quadratic in their number), ":name" on PostgreSQL (SOCI numbers them).
inline std::string parameter(Dialect dialect, const std::string& name) {
  return dialect == Dialect::Sqlite ? std::string("?") : ":" + name;
}

/// "(:v0_0, :v0_1), (:v1_0, :v1_1)" (SQLite: "(?, ?), (?, ?)"): `rows` tuples of `columns`
/// placeholders.
inline std::string valuesList(Dialect dialect, std::size_t rows, std::size_t columns) {
  std::string out;
  out.reserve(rows * columns * 10);
  for (std::size_t r = 0; r < rows; ++r) {
    out += r ? ", (" : "(";
    for (std::size_t c = 0; c < columns; ++c) {
      if (c) out += ", ";
      out += parameter(dialect, "v" + std::to_string(r) + "_" + std::to_string(c));
    }
    out += ')';
  }
  return out;
}

/// Runs `query` once, with the values `bind(statement)` hands to `statement.exchange(soci::use(...))`,
/// as a one-time statement: on PostgreSQL one round trip (PQexecParams), no server-side prepared
/// statement to deallocate afterwards (a deallocation inside a failed transaction would fail and
/// leave it behind on the pooled connection). Throws soci::soci_error (use inside withSession).
template <class Bind>
void executeOnce(soci::session& sql, const std::string& query, Bind&& bind) {
  soci::statement st(sql);
  bind(st);
  st.alloc();
  st.prepare(query, soci::details::st_one_time_query);
  st.define_and_bind();
  st.execute(true);
}

}  // namespace calgate::store
