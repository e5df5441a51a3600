#pragma once
/// Verifies an audit export (audit_export.hpp) offline: no database, only the file and the public
/// key the reviewer pinned (`calgate-admin audit public-key`). Reads line by line (constant
/// memory, each line at most kMaxLine bytes) and checks that
/// - every whole entry's hash is its content's (an edited entry names itself),
/// - every line's prev is the hash of the line before, and seqs only grow (a removed, inserted or
///   reordered entry names where the chain breaks),
/// - every checkpoint signs the entry before it, with the pinned key,
/// - the last line is the seal, signed with the pinned key over the range, the counts and the
///   digest of all lines (a truncated file, a dropped or re-typed line, or a chain re-hashed by
///   someone without the key fails here; an earlier checkpoint names the entry range).
/// Errors are Invalid with the line and the entry. Pure; thread-safe.

#include "calgate/core/error.hpp"

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::audit {

struct VerifiedExport {
  long long entries = 0, links = 0, checkpoints = 0;
  long long firstSeq = 0, lastSeq = 0;
  std::string lastHash;
};

inline constexpr std::size_t kMaxLine = 64 * 1024;

/// An entry hash the reviewer kept from an earlier export (its seal's last seq and hash): the new
/// export must hold entry `seq` with exactly that hash when it covers it. This is what catches
/// someone who rewrote the chain in the database and removed every checkpoint since.
struct Anchor {
  long long seq = 0;
  std::string hash;
};

/// Every line must be exactly as calgate writes it (compact JSON, keys sorted, no CR): another
/// spelling of a line (which other tools might read differently) is rejected.
core::Result<VerifiedExport> verifyExport(std::istream& in, std::string_view publicKey,
                                          const std::vector<Anchor>& anchors = {});

}  // namespace calgate::audit
