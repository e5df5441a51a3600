#pragma once
/// The `_calendar-privacy.<domain>` TXT record (DESIGN.md §5):
///   v=CALPRIV1; p=private; sp=private; ma=604800; label=Busy; allow=acme.com,acme.de; rua=mailto:x@acme.com
/// The strings of one TXT record are joined without separator. `v=CALPRIV1` must come first and is
/// exact. Tag names and keywords are case-insensitive and matched exactly (no prefixes). A
/// duplicate tag, a syntax error or more than 1024 bytes make the record invalid; unknown tags are
/// ignored. A missing or unknown `p` (with a valid `v`) means the strictest level, `block`. Other
/// bad values fall back to their defaults with a warning an admin can act on.

#include "calgate/policy/org_policy.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::dns {

inline constexpr std::size_t kMaxRecordBytes = 1024;
inline constexpr std::chrono::seconds kDefaultMaxAge{86400};
inline constexpr std::chrono::seconds kMaxMaxAge{31557600};
inline constexpr std::size_t kMaxLabelBytes = 64;

struct PolicyRecord {
  policy::OrgLevel p = policy::OrgLevel::Block;
  std::optional<policy::OrgLevel> sp;  ///< for subdomains, when found at the organisational domain
  std::chrono::seconds ma = kDefaultMaxAge;
  std::optional<std::string> label;
  std::vector<std::string> allow;  ///< lower-case domain names
  std::vector<std::string> rua;    ///< reporting URIs (mailto: / https:)
  std::vector<std::string> warnings;
};

struct ParsedRecord {
  enum class Kind {
    NotPolicy,  ///< does not start with v=CALPRIV1: some other TXT record, ignored silently
    Valid,
    Invalid,    ///< starts like a policy but is broken; `error` says how
  };
  Kind kind = Kind::NotPolicy;
  PolicyRecord record;
  std::string error;
  std::string text;  ///< the joined strings
};

/// Parses one TXT record given as its character-strings.
ParsedRecord parsePolicyRecord(const std::vector<std::string>& strings);

/// Keyword for a level: "none" | "private" | "block".
std::optional<policy::OrgLevel> parseLevelKeyword(std::string_view keyword);

}  // namespace calgate::dns
