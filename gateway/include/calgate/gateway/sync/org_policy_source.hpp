#pragma once
/// Where the sync engine gets the organisation policy of a source account's domain. In
/// production: the DNS module's OrgPolicyService (DNSSEC-validated, cached, pinned).

#include "calgate/policy/org_policy.hpp"

#include <string>

namespace calgate::dns {
class OrgPolicyService;
}

namespace calgate::gateway::sync {

class OrgPolicySource {
 public:
  virtual ~OrgPolicySource() = default;
  /// Never fails: a failed lookup yields a fail-closed policy.
  virtual policy::OrgPolicy policyFor(const std::string& domain) = 0;
};

class DnsOrgPolicySource final : public OrgPolicySource {
 public:
  explicit DnsOrgPolicySource(dns::OrgPolicyService& service) : service_(service) {}
  policy::OrgPolicy policyFor(const std::string& domain) override;

 private:
  dns::OrgPolicyService& service_;
};

}  // namespace calgate::gateway::sync
