#pragma once
/// The audit chain's arithmetic, shared by the log, its export and the offline verifier (which
/// has no database): how an entry's hash covers its predecessor's hash and its own fields, and
/// the texts a checkpoint and an export's closing record sign. Pure functions.

#include <string>
#include <string_view>

namespace calgate::audit {

/// The prev_sha256 of the very first entry.
inline const std::string kGenesis(64, '0');

/// An entry's fields as stored (details: the stored JSON text, byte for byte).
struct ChainFields {
  long long at = 0;
  std::string actor, userId, action, objectRef, decision, details;
};

/// Lower-case hex SHA-256 over "calgate-audit-v1", `prev` and every field, each length-prefixed.
std::string entryHash(std::string_view prev, const ChainFields& f);

/// What a checkpoint signs: entry `seq` had hash `entrySha256`, attested at `at`.
std::string checkpointMessage(long long seq, std::string_view entrySha256, long long at);

/// What an export's closing record signs: its header line's hash, the exported range (first seq
/// and the prev it starts from, last seq and its hash), how many lines carry a whole entry and how many only its link,
/// the running digest over every line's kind, seq and hash (exportDigestStep), and when.
struct ExportSeal {
  std::string headerSha256;  ///< of the header line (without its newline): the filter is sealed too
  long long firstSeq = 0;
  std::string firstPrev;
  long long lastSeq = 0;
  std::string lastHash;
  long long entries = 0, links = 0;
  std::string digest;
  long long at = 0;
};
std::string exportSealMessage(const ExportSeal& seal);
/// The digest after one more line: SHA-256 of the digest so far, the line's kind ('e' entry,
/// 'l' link), its seq and its hash. The first line starts from kGenesis.
std::string exportDigestStep(std::string_view digest, char kind, long long seq, std::string_view hash);

}  // namespace calgate::audit
