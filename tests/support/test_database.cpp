#include "support/test_database.hpp"

#include "calgate/core/ids.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <cstdlib>
#include <stdexcept>

namespace calgate::test {
namespace {

std::string postgresBaseUrl() {
  const char* file = std::getenv("CG_TEST_POSTGRES_URL_FILE");
  if (!file || !*file) return {};
  std::string url = readFile(file);
  while (!url.empty() && (url.back() == '\n' || url.back() == ' ')) url.pop_back();
  if (url.empty()) throw std::runtime_error(std::string("no PostgreSQL URL in ") + file);
  return url;
}

// Replaces the database name (the path after the authority) of a postgresql:// URL.
std::string withDatabase(const std::string& url, const std::string& name) {
  const auto slash = url.find('/', url.find("://") + 3);
  return url.substr(0, slash) + "/" + name;
}

std::unique_ptr<store::Database> openOrThrow(const std::string& url, const std::filesystem::path& dir) {
  auto target = store::resolveDatabaseUrl(url, dir);
  if (!target) throw std::runtime_error(target.error().message);
  auto db = store::Database::open(*target, 4);
  if (!db) throw std::runtime_error(db.error().message);
  return std::move(*db);
}

std::string pgKeywords(const std::string& url) {
  auto target = store::resolveDatabaseUrl(url, {});
  if (!target) throw std::runtime_error(target.error().message);
  return target->connectString;
}

}  // namespace

bool usingPostgres() { return !postgresBaseUrl().empty(); }

TestDatabase::TestDatabase() {
  const std::string base = postgresBaseUrl();
  if (base.empty()) {
    url_ = "sqlite://" + (dir_.path() / "test.db").string();
  } else {
    dialect_ = store::Dialect::Postgresql;
    adminUrl_ = base;
    name_ = core::newId("t");
    soci::session admin(*soci::factory_postgresql(), pgKeywords(adminUrl_));
    admin << "CREATE DATABASE " + name_;
    url_ = withDatabase(base, name_);
  }
  db_ = openOrThrow(url_, dir_.path());
}

TestDatabase::~TestDatabase() {
  db_.reset();
  if (!name_.empty()) {
    try {
      soci::session admin(*soci::factory_postgresql(), pgKeywords(adminUrl_));
      admin << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    } catch (const std::exception&) {
      // the cluster is thrown away after the run anyway
    }
  }
}

store::Database& TestDatabase::db() {
  if (!db_) db_ = openOrThrow(url_, dir_.path());
  return *db_;
}

std::filesystem::path TestDatabase::sqliteFile() const {
  if (dialect_ != store::Dialect::Sqlite) return {};
  return dir_.path() / "test.db";
}

}  // namespace calgate::test
