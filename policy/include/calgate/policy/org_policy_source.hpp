#pragma once
/// Where the organisation policy of a domain comes from. The sync engine, preview and the account
/// checks ask this seam; production answers from DNS (dns::OrgPolicyService: DNSSEC-validated,
/// cached, pinned), tests from a fixed table.

#include "calgate/policy/org_policy.hpp"

#include <string>

namespace calgate::policy {

class OrgPolicySource {
 public:
  virtual ~OrgPolicySource() = default;
  /// The policy that applies to `domain`. Never fails: a lookup that fails yields a fail-closed
  /// policy (private, untrusted), with the reason among its reasons. Implementations are
  /// thread-safe.
  virtual OrgPolicy policyFor(const std::string& domain) = 0;
};

}  // namespace calgate::policy
