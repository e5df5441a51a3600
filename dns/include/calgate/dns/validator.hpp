#pragma once
/// DNSSEC validation of TXT lookups, in-process on ldns primitives, from a configured trust
/// anchor. Results are values (like Unbound's sec_status / PowerDNS's vState): Secure, Insecure
/// (provably unsigned), Bogus (validation failed), Indeterminate (could not be determined).
///
/// Beyond ldns_verify_rrsig_*, the validator enforces: the RRSIG signer is the zone whose keys
/// verify it and contains the owner name (RFC 4035 §5.3.1); NSEC/NSEC3 records are verified like
/// any RRset before they prove anything; NSEC3 iterations are capped (RFC 9276); signature
/// inception/expiration are checked against core::Clock with a bounded skew allowance; every
/// negative answer needs an authenticated denial (a bare NXDOMAIN in a signed zone is Bogus);
/// wildcard-synthesised answers are not accepted.

#include "calgate/core/clock.hpp"
#include "calgate/core/error.hpp"
#include "calgate/dns/transport.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace calgate::dns {

enum class Security { Secure, Insecure, Bogus, Indeterminate };
std::string_view toString(Security s);

/// DS or DNSKEY records (presentation format) for one zone, e.g. the root's from dns-root-data.
struct TrustAnchor {
  std::string zone;                  ///< e.g. "." or "test."
  std::vector<std::string> records;  ///< "test. IN DS 12345 13 2 ..." or "... IN DNSKEY 257 3 13 ..."
};

/// Reads DS/DNSKEY lines from a file (comments and blank lines ignored). Invalid if none parse
/// or they name different zones.
core::Result<TrustAnchor> loadTrustAnchor(const std::filesystem::path& file);

/// Debian's dns-root-data root key.
inline constexpr const char* kDefaultTrustAnchorFile = "/usr/share/dns/root.key";

struct ValidatorOptions {
  std::chrono::seconds clockSkew{300};  ///< allowance around RRSIG inception/expiration
  unsigned nsec3IterationCap = 100;     ///< more iterations than this: Bogus (RFC 9276)
  unsigned maxQueries = 48;             ///< per lookup, against loops and amplification
  std::chrono::seconds deadline{15};    ///< per lookup: past it, the result is Indeterminate
};

struct TxtAnswer {
  enum class Kind { Records, NoName, NoData };
  Security security = Security::Indeterminate;
  Kind kind = Kind::NoName;
  std::vector<std::vector<std::string>> records;  ///< each TXT record's character-strings
  std::chrono::seconds ttl{0};                    ///< how long the answer may be cached
  std::optional<core::TimePoint> signatureExpiry;  ///< earliest RRSIG expiration involved
  std::string reason;                              ///< why not Secure (or what was proven)
  std::vector<std::string> chain;                  ///< the steps walked, for admins
  core::Cause cause = core::Cause::None;           ///< why Bogus or Indeterminate, as a value (Dnssec*)
  /// Secure Records only: the inception of the RRSIG that verified the TXT RRset - when the zone
  /// signed this data. A replayed older answer has an earlier inception than a newer one.
  std::optional<core::TimePoint> signedAt{};
};

/// Where validated TXT answers come from (the Validator; scripted answers in unit tests).
class TxtSource {
 public:
  virtual ~TxtSource() = default;
  /// Looks up and validates the TXT RRset at `name`. Never throws.
  virtual TxtAnswer lookupTxt(const std::string& name) = 0;
};

/// Thread-safe if the transport is (CaresTransport is): every lookup keeps its own state.
class Validator final : public TxtSource {
 public:
  Validator(Transport& transport, TrustAnchor anchor, const core::Clock& clock, ValidatorOptions options = {});
  ~Validator() override;

  TxtAnswer lookupTxt(const std::string& name) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace calgate::dns
