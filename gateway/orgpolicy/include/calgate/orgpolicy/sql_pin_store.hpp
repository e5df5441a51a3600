#pragma once
/// dns::PinStore over the org_policies table, so a pinned organisation policy survives restarts
/// and is shared by every gateway process on the same database.

#include "calgate/dns/pin_store.hpp"
#include "calgate/store/database.hpp"

namespace calgate::orgpolicy {

class SqlPinStore final : public dns::PinStore {
 public:
  explicit SqlPinStore(store::Database& db);
  core::Result<std::optional<dns::Pin>> load(const std::string& domain) override;
  core::Result<void> save(const dns::Pin& pin) override;
  core::Result<void> remove(const std::string& domain) override;

 private:
  store::Database& db_;
};

}  // namespace calgate::orgpolicy
