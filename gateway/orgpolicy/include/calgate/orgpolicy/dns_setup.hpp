#pragma once
/// Builds the organisation-policy lookup (c-ares transport -> DNSSEC validator -> policy service)
/// from the `dns:` section of the configuration.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/dns/cares_transport.hpp"
#include "calgate/dns/org_policy_service.hpp"
#include "calgate/dns/validator.hpp"
#include "calgate/orgpolicy/dns_config.hpp"

#include <memory>

namespace calgate::orgpolicy {

struct OrgPolicyStack {
  std::unique_ptr<dns::Transport> transport;
  std::unique_ptr<dns::Validator> validator;
  std::unique_ptr<dns::OrgPolicyService> service;
};

/// Invalid when the trust anchor cannot be read or the server list is malformed.
core::Result<OrgPolicyStack> makeOrgPolicyStack(const DnsConfig& config, dns::PinStore& pins, const core::Clock& clock);

}  // namespace calgate::orgpolicy
