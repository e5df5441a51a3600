#pragma once
/// The DNS transport seam: send one query, get the raw response. Production uses c-ares
/// (cares_transport.hpp); tests script answers or wrap a real transport to tamper with it.

#include "calgate/core/error.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace calgate::dns {

/// RR type numbers used here.
enum class RrType : std::uint16_t { A = 1, NS = 2, CNAME = 5, SOA = 6, TXT = 16, DS = 43, RRSIG = 46, NSEC = 47,
                                    DNSKEY = 48, NSEC3 = 50 };

class Transport {
 public:
  virtual ~Transport() = default;
  /// Sends `name`/`type`/IN with EDNS0 (DO bit, 1232-byte buffer), RD and CD set and a random id;
  /// returns the response's wire bytes. Timeout / Unavailable when no answer arrives.
  /// Implementations must be thread-safe.
  virtual core::Result<std::vector<std::uint8_t>> query(const std::string& name, RrType type) = 0;
};

/// The query message for `name`/`type` as Transport::query sends it (id from the system CSPRNG).
/// Exposed for transports and tests. Invalid for a malformed name.
core::Result<std::vector<std::uint8_t>> buildQuery(const std::string& name, RrType type, std::uint16_t* idOut = nullptr);

}  // namespace calgate::dns
