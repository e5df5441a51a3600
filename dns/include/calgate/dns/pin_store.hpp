#pragma once
/// Persistence of pinned policies (DESIGN.md §5, MTA-STS-style downgrade protection): a policy
/// proven by a Secure record stays in force for its ma= seconds, across restarts, whatever later
/// unproven answers say - and whatever older, still validly signed records an attacker replays. The gateway's store implements this; tests use MemoryPinStore.

#include "calgate/core/error.hpp"
#include "calgate/policy/org_policy.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace calgate::dns {

struct Pin {
  std::string domain;  ///< the domain whose accounts the policy covers (lower case)
  policy::OrgLevel level = policy::OrgLevel::None;
  std::optional<std::string> label;
  std::vector<std::string> allow;
  long long expiresAt = 0;  ///< Unix seconds
  std::string recordText;   ///< the record it came from, for admins
  /// When the zone signed that record (RRSIG inception, Unix seconds); 0 when unknown. A secure
  /// record signed earlier than this is a replay of older data: it never lowers the pin.
  long long signedAt = 0;
  /// The name whose record proved it ("_calendar-privacy.acme.com."); "" when unknown. A pin
  /// proven at a domain's own name is never lowered by the organisational domain's record.
  std::string provenAt{};
};

class PinStore {
 public:
  virtual ~PinStore() = default;
  virtual core::Result<std::optional<Pin>> load(const std::string& domain) = 0;
  virtual core::Result<void> save(const Pin& pin) = 0;
  virtual core::Result<void> remove(const std::string& domain) = 0;
};

/// In-memory pins (tests, and `dns check` without a database).
class MemoryPinStore final : public PinStore {
 public:
  core::Result<std::optional<Pin>> load(const std::string& domain) override;
  core::Result<void> save(const Pin& pin) override;
  core::Result<void> remove(const std::string& domain) override;

 private:
  std::mutex mutex_;
  std::map<std::string, Pin> pins_;
};

}  // namespace calgate::dns
