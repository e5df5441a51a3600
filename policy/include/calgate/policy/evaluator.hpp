#pragma once
/// The policy evaluator (DESIGN.md §4): source event + pair rules + organisation policy ->
/// an ApprovedWrite or a denial, with the reasons for the audit log. The effective privacy is the
/// strictest of the pair's rule and the organisation's policy. Pure and thread-safe.

#include "calgate/policy/approved_write.hpp"
#include "calgate/policy/org_policy.hpp"
#include "calgate/policy/pair_rules.hpp"
#include "calgate/policy/write_context.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace calgate::policy {

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
  /// Decides what, if anything, of `source` may be written to the target.
  /// - Copies calgate itself wrote (origin marker) are denied with no write: never mirrored back.
  /// - A source with an unknown time zone or malformed recurrence is denied with no write.
  /// - A cancelled source, or an organisation that blocks this target, yields an approved Delete
  ///   (mode Denied for the latter), so an existing copy can be removed.
  /// Organisation data that is not proven only tightens: allow= counts only from a Secure or
  /// pinned policy; an unpinned Bogus/Indeterminate result makes the event private (fail closed).
  /// Every policy in `orgs` applies (one per domain the source account is proven to belong to)
  /// and the strictest wins; none: no organisation restricts the source.
  Decision evaluate(const PairRules& rules, std::span<const OrgPolicy> orgs, const model::Event& source,
                    const WriteContext& context) const;
  /// The same with one organisation policy.
  Decision evaluate(const PairRules& rules, const OrgPolicy& org, const model::Event& source,
                    const WriteContext& context) const {
    return evaluate(rules, std::span<const OrgPolicy>(&org, 1), source, context);
  }
};

/// The UID calgate gives the copy of `sourceKey` (or of its series) in `pairId`: deterministic
/// (so retries and re-syncs address the same copy) and unlinkable to the source's own UID.
std::string targetUid(std::string_view pairId, std::string_view sourceKey);

/// The opaque source reference written in the copy's origin marker (source ids, such as CalDAV
/// hrefs, often embed the source UID; this does not). The sync engine computes the same value to
/// find the mapping.
std::string originReference(std::string_view pairId, std::string_view sourceKey);

/// Cleans a label: control characters removed, whitespace trimmed, at most 100 bytes (cut on a
/// UTF-8 boundary); empty -> "Busy".
std::string sanitiseLabel(std::string_view label);

std::string_view toString(EffectiveMode m);

}  // namespace calgate::policy
