#include "calgate/orgpolicy/sql_pin_store.hpp"

#include "calgate/dns/policy_record.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

namespace calgate::orgpolicy {
namespace {

std::string joinDomains(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& d : v) out += (out.empty() ? "" : ",") + d;
  return out;
}

std::vector<std::string> splitDomains(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto end = std::min(s.find(',', start), s.size());
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

SqlPinStore::SqlPinStore(store::Database& db) : db_(db) {}

core::Result<std::optional<dns::Pin>> SqlPinStore::load(const std::string& domain) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::optional<dns::Pin>> {
    dns::Pin pin;
    std::string level, label, allow, record, provenAt;
    long long until = 0, signedAt = 0;
    soci::indicator labelInd = soci::i_null, untilInd = soci::i_null, recordInd = soci::i_null;
    sql << "SELECT level, label, allow_list, pinned_until, record_text, signed_at, proven_at FROM org_policies WHERE domain = :d",
        soci::use(domain), soci::into(level), soci::into(label, labelInd), soci::into(allow),
        soci::into(until, untilInd), soci::into(record, recordInd), soci::into(signedAt),
        soci::into(provenAt);
    if (!sql.got_data() || untilInd != soci::i_ok) return std::optional<dns::Pin>();
    pin.domain = domain;
    pin.level = dns::parseLevelKeyword(level).value_or(policy::OrgLevel::Block);
    if (labelInd == soci::i_ok) pin.label = label;
    pin.allow = splitDomains(allow);
    pin.expiresAt = until;
    if (recordInd == soci::i_ok) pin.recordText = record;
    pin.signedAt = signedAt;
    pin.provenAt = provenAt;
    return std::optional<dns::Pin>(pin);
  });
}

core::Result<void> SqlPinStore::save(const dns::Pin& pin) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    const std::string level(policy::toString(pin.level));
    const std::string label = pin.label.value_or("");
    soci::indicator labelInd = pin.label ? soci::i_ok : soci::i_null;
    const std::string allow = joinDomains(pin.allow);
    const long long fetched = pin.expiresAt;  // refreshed with the pin
    sql << "DELETE FROM org_policies WHERE domain = :d", soci::use(pin.domain);
    sql << "INSERT INTO org_policies (domain, record_text, level, label, allow_list, validation_state, reasons, "
           "fetched_at, cache_expires_at, pinned_until, signed_at, proven_at) "
           "VALUES (:d, :r, :l, :lb, :a, 'secure', '', :f, :c, :p, :s, :n)",
        soci::use(pin.domain), soci::use(pin.recordText), soci::use(level), soci::use(label, labelInd),
        soci::use(allow), soci::use(fetched), soci::use(fetched), soci::use(pin.expiresAt), soci::use(pin.signedAt),
        soci::use(pin.provenAt);
    tx.commit();
    return {};
  });
}

core::Result<void> SqlPinStore::remove(const std::string& domain) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "DELETE FROM org_policies WHERE domain = :d", soci::use(domain);
    return {};
  });
}

}  // namespace calgate::orgpolicy
