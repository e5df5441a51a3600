#include "calgate/gateway/sync/org_policy_source.hpp"

#include "calgate/dns/org_policy_service.hpp"

namespace calgate::gateway::sync {

policy::OrgPolicy DnsOrgPolicySource::policyFor(const std::string& domain) { return service_.lookup(domain); }

}  // namespace calgate::gateway::sync
