#pragma once
/// An organisation's privacy policy as calgate sees it: the value the DNS module produces from
/// the `_calendar-privacy.<domain>` TXT record (DESIGN.md §5), including how well it is proven.
/// A plain value: no I/O here.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::policy {

enum class OrgLevel {
  None,     ///< no restriction
  Private,  ///< events of the domain are written stripped, except to the organisation itself / allow-list
  Block,    ///< events of the domain are written only to the organisation itself / allow-list
};

/// How the policy was established (Unbound/PowerDNS style validation states, plus "no record").
enum class Validation {
  Secure,         ///< DNSSEC-proven record
  Insecure,       ///< provably unsigned zone
  Bogus,          ///< validation failed; the DNS module fails closed
  Indeterminate,  ///< could not be determined (timeouts, ...); the DNS module fails closed
  NoRecord,       ///< no record published (secure denial) or no lookup made
};

struct OrgPolicy {
  std::string domain;                ///< the organisation's domain, lower case
  OrgLevel level = OrgLevel::None;
  std::optional<std::string> label;  ///< title for stripped events (label=)
  std::vector<std::string> allow;    ///< domains that may receive full details (allow=)
  Validation validation = Validation::NoRecord;
  /// The level and allow-list come from an earlier Secure record still pinned by its ma=, even if
  /// today's lookup was not proven (DESIGN.md §5 downgrade protection).
  bool pinned = false;
  std::vector<std::string> reasons;  ///< how the DNS module arrived at this (for the audit log)

  /// No policy for `domain`.
  static OrgPolicy none(std::string domain);


  /// True when the policy data may loosen anything (admit allow-listed domains): a Secure record or
  /// a pinned one. Unsigned or unproven data may only tighten.
  bool trusted() const { return validation == Validation::Secure || pinned; }

  /// True when the lookup failed to prove anything and no pin covers it: fail closed.
  bool failClosed() const {
    return !pinned && (validation == Validation::Bogus || validation == Validation::Indeterminate);
  }

  /// True when `targetDomain` is inside the organisation (its domain or a subdomain), or - only if
  /// trusted() - an allow-listed domain or a subdomain of one. An empty target is never admitted.
  bool admitsTarget(std::string_view targetDomain) const;
  /// True when any of `targetDomains` (the domains a target is proven to be inside) is admitted.
  bool admitsTarget(const std::vector<std::string>& targetDomains) const;

  /// "org acme.com p=private (secure)", "... (bogus, pinned)"
  std::string describe() const;
};

std::string_view toString(OrgLevel level);
std::string_view toString(Validation v);

}  // namespace calgate::policy
