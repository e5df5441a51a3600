#pragma once
/// The policy evaluator (DESIGN.md §4): source event + pair rules + organisation policy ->
/// an ApprovedWrite or a denial, with the reasons for the audit log. The effective privacy is the
/// strictest of the pair's rule and the organisation's policy. Pure and thread-safe.

#include "calgate/policy/approved_write.hpp"
#include "calgate/policy/org_policy.hpp"
#include "calgate/policy/pair_rules.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::policy {

/// Where the write would go.
struct WriteContext {
  std::string pairId;
  std::string sourceKey;  ///< identifies the source event within the pair (ids only, no content)
  providers::ProviderKind targetProvider = providers::ProviderKind::CalDav;
  std::string targetDomain;  ///< domain of the target account's email address
  /// Whether writing attendees to the target would invite them. True for Google (guests get the
  /// event on their calendars even with sendUpdates=none) and Microsoft 365; for CalDAV, true
  /// unless the server is known not to do scheduling.
  bool targetInvitesAttendees = true;
};

/// Strictness order: Full < Private < Denied.
enum class EffectiveMode { Full, Private, Denied };

struct Decision {
  EffectiveMode mode = EffectiveMode::Denied;
  std::optional<ApprovedWrite> write;  ///< empty when denied
  std::vector<std::string> reasons;    ///< e.g. "pair: private", "org acme.com p=private (secure)"

  bool approved() const { return write.has_value(); }
};

class Evaluator {
 public:
  /// Decides what, if anything, of `source` may be written to the target. Denies copies that
  /// calgate itself wrote (they carry an origin marker) so nothing is ever mirrored back.
  /// A cancelled source event yields an approved Delete.
  Decision evaluate(const PairRules& rules, const OrgPolicy& org, const providers::Event& source,
                    const WriteContext& context) const;
};

/// The UID calgate gives the copy of `sourceKey` in `pairId`: deterministic (so retries and
/// re-syncs address the same copy) and unlinkable to the source's own UID.
std::string targetUid(std::string_view pairId, std::string_view sourceKey);

/// Cleans a label: control characters removed, whitespace trimmed, at most 100 bytes (cut on a
/// UTF-8 boundary); empty -> "Busy".
std::string sanitiseLabel(std::string_view label);

std::string_view toString(EffectiveMode m);

}  // namespace calgate::policy
