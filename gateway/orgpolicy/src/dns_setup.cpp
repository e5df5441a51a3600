#include "calgate/orgpolicy/dns_setup.hpp"

namespace calgate::orgpolicy {

core::Result<OrgPolicyStack> makeOrgPolicyStack(const DnsConfig& config, dns::PinStore& pins, const core::Clock& clock) {
  auto anchor = dns::loadTrustAnchor(config.trustAnchor);
  if (!anchor) return std::unexpected(anchor.error());
  auto transport = dns::CaresTransport::create({config.servers, config.timeout, 3});
  if (!transport) return std::unexpected(transport.error());
  OrgPolicyStack stack;
  stack.transport = std::move(*transport);
  dns::ValidatorOptions options;
  options.clockSkew = config.clockSkew;
  stack.validator = std::make_unique<dns::Validator>(*stack.transport, *anchor, clock, options);
  dns::ServiceOptions serviceOptions;
  serviceOptions.unsignedRecords = config.ignoreUnsigned ? dns::UnsignedMode::Ignore : dns::UnsignedMode::Tighten;
  stack.service = std::make_unique<dns::OrgPolicyService>(*stack.validator, pins, clock, serviceOptions);
  return stack;
}

}  // namespace calgate::orgpolicy
