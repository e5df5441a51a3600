#pragma once
/// The `dns:` section of the configuration: resolvers, trust anchor, what unsigned records may do.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace calgate::orgpolicy {

/// The `dns:` section of the configuration.
struct DnsConfig {
  /// Upstream DNS servers ("ip", "ip:port", "[ipv6]:port"); empty = the system's resolvers.
  std::vector<std::string> servers;
  /// DS/DNSKEY records of the trust anchor (Debian dns-root-data's root key by default).
  std::filesystem::path trustAnchor = "/usr/share/dns/root.key";
  /// What an unsigned (Insecure) record may do: tighten only (default) or nothing.
  bool ignoreUnsigned = false;
  std::chrono::seconds clockSkew{300};
  std::chrono::milliseconds timeout{2000};
};

}  // namespace calgate::orgpolicy
