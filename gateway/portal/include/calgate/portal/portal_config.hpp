#pragma once
/// The `portal:` section of the configuration: how long sessions and sign-in links last, and who
/// may create their own calgate user by signing in. Plain values.

#include <chrono>
#include <string>
#include <vector>

namespace calgate::portal {

struct PortalConfig {
  /// A session ends this long after it began (never extended by use).
  std::chrono::seconds sessionLifetime{std::chrono::hours(24 * 14)};
  /// A one-time sign-in link works this long.
  std::chrono::seconds loginLinkLifetime{std::chrono::hours(24)};
  /// Domains whose organisations' members (a Google Workspace account of the domain, a Microsoft
  /// work account of its tenant) may sign in without a calgate user: one is created for them.
  /// Lower case; empty: only users the operator created may sign in.
  std::vector<std::string> signupDomains;
};

}  // namespace calgate::portal
