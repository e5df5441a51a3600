#pragma once
/// The calendars of connected accounts that calgate knows about (ids and names only).

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/model/identity.hpp"
#include "calgate/providers/provider.hpp"
#include "calgate/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::sync {

struct CalendarRef {
  std::string id;                  ///< calgate's id ("cal_...")
  std::string accountId;
  model::ProviderKind provider = model::ProviderKind::CalDav;  ///< the account's provider
  std::string providerCalendarId;  ///< Google calendarId, Graph id, CalDAV collection URL
  std::string displayName;
  std::string timeZone;            ///< IANA; "UTC" when the provider did not say or named an unknown zone
  bool writable = true;
  /// Who the calendar's account is proven to be (accounts::identitiesFromColumn): as a source, the
  /// organisation policies of model::policyDomains(identities) apply; as a target, it is inside
  /// the organisations of model::memberDomains(identities) only.
  std::vector<model::Identity> identities{};
};

/// Thread-safe.
class CalendarStore {
 public:
  CalendarStore(store::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}
  /// Records a calendar of `accountId` (or refreshes its name and zone); returns it.
  core::Result<CalendarRef> upsert(const std::string& accountId, const std::string& providerCalendarId,
                                   const std::string& displayName, const std::string& timeZone, bool writable);
  /// The same for a calendar as a provider lists it.
  core::Result<CalendarRef> upsert(const std::string& accountId, const providers::CalendarInfo& calendar) {
    return upsert(accountId, calendar.id, calendar.displayName, calendar.timeZone, calendar.writable);
  }
  /// NotFound when there is no such calendar.
  core::Result<CalendarRef> get(const std::string& id);
  /// The calendars of one account, by name.
  core::Result<std::vector<CalendarRef>> listForAccount(const std::string& accountId);

 private:
  store::Database& db_;
  const core::Clock& clock_;
};

}  // namespace calgate::sync
