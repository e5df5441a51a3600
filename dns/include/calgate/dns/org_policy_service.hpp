#pragma once
/// The organisation policy for a domain, as the evaluator consumes it (policy::OrgPolicy), from
/// `_calendar-privacy.<domain>` TXT records validated with DNSSEC, following DESIGN.md §5:
///   Secure record        -> apply; cache for min(TTL, signature expiry); pin for ma=.
///   Secure denial        -> try the organisational domain (Public Suffix List, sp=); else no
///                           policy, but a pin stays until it expires.
///   Insecure (unsigned)  -> `tighten` (default): the record applies only where stricter, never
///                           lowers a pin, its allow-list is not trusted; `ignore`: not used.
///   Bogus/Indeterminate  -> keep the pin, else fail closed (private); retried soon.
/// "Data that is not proven may only tighten, never loosen." Thread-safe.

#include "calgate/core/clock.hpp"
#include "calgate/dns/pin_store.hpp"
#include "calgate/dns/policy_record.hpp"
#include "calgate/dns/validator.hpp"
#include "calgate/policy/org_policy.hpp"
#include "calgate/policy/org_policy_source.hpp"

#include <chrono>
#include <map>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace calgate::dns {

enum class UnsignedMode { Tighten, Ignore };

struct ServiceOptions {
  UnsignedMode unsignedRecords = UnsignedMode::Tighten;
  std::chrono::seconds failureRetry{60};  ///< cache time of Bogus/Indeterminate results
  std::chrono::seconds maxCache{3600};
};

/// Everything a lookup saw, for `calgate-admin dns check`.
struct LookupReport {
  policy::OrgPolicy policy;  ///< the effective policy
  std::string queriedName;   ///< where the record was looked up (exact, or the organisational domain)
  TxtAnswer answer;          ///< the answer that decided it
  std::vector<ParsedRecord> records;  ///< every TXT record there, parsed
  std::optional<Pin> pin;    ///< the pin in force after the lookup
  std::chrono::seconds cacheFor{0};
  std::vector<std::string> notes;  ///< how the state table was applied
};

class OrgPolicyService final : public policy::OrgPolicySource {
 public:
  OrgPolicyService(TxtSource& validator, PinStore& pins, const core::Clock& clock, ServiceOptions options = {});

  /// The policy for accounts of `domain` (cached). Never fails: failures fail closed.
  policy::OrgPolicy lookup(const std::string& domain);
  /// The same as lookup(): the seam the sync engine and the API ask.
  policy::OrgPolicy policyFor(const std::string& domain) override { return lookup(domain); }

  /// A fresh lookup (no cache), with the details an admin needs.
  LookupReport inspect(const std::string& domain);

  /// "sub.acme.co.uk" -> "acme.co.uk" (Public Suffix List); empty if none.
  static std::string organisationalDomain(const std::string& domain);

 private:
  LookupReport resolve(const std::string& domain);

  TxtSource& validator_;
  PinStore& pins_;
  const core::Clock& clock_;
  ServiceOptions options_;
  // Guards cache_ and inflight_ only, so warm lookups never wait on the network. Resolutions of
  // different domains run side by side; callers asking for a domain being resolved wait for that
  // one resolution (single flight), so a slow domain holds only its own callers.
  std::mutex cacheMutex_;
  std::map<std::string, std::shared_future<policy::OrgPolicy>> inflight_;
  struct Cached {
    policy::OrgPolicy policy;
    long long until = 0;
  };
  std::map<std::string, Cached> cache_;
};

}  // namespace calgate::dns
