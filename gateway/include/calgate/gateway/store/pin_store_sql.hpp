#pragma once
/// dns::PinStore over the org_policies table, so a pinned organisation policy survives restarts
/// and is shared by every gateway process on the same database.

#include "calgate/dns/pin_store.hpp"
#include "calgate/gateway/store/database.hpp"

namespace calgate::gateway {

class SqlPinStore final : public dns::PinStore {
 public:
  explicit SqlPinStore(Database& db);
  core::Result<std::optional<dns::Pin>> load(const std::string& domain) override;
  core::Result<void> save(const dns::Pin& pin) override;
  core::Result<void> remove(const std::string& domain) override;

 private:
  Database& db_;
};

}  // namespace calgate::gateway
