#pragma once
/// One write transaction on a borrowed session, for the stores above this library. On SQLite it is
/// BEGIN IMMEDIATE, which takes the write lock up front (waiting up to busy_timeout) instead of
/// failing with SQLITE_BUSY when a read-then-write transaction has to upgrade while another
/// connection writes. Rolled back unless committed. Throws soci::soci_error like any statement:
/// use it inside Database::withSession, which turns that into an error value. One per session.

#include "calgate/store/database.hpp"

#include <soci/soci.h>

namespace calgate::store {

class WriteTransaction {
 public:
  WriteTransaction(soci::session& session, Dialect dialect) : session_(session) {
    session_ << (dialect == Dialect::Sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction() {
    if (done_) return;
    try {
      session_ << "ROLLBACK";
    } catch (const std::exception&) {
      // the connection is gone; the server discards the transaction
    }
  }
  void commit() {
    session_ << "COMMIT";
    done_ = true;
  }

 private:
  soci::session& session_;
  bool done_ = false;
};

}  // namespace calgate::store
