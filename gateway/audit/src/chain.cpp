#include "calgate/audit/chain.hpp"

#include "calgate/core/hash.hpp"

namespace calgate::audit {
namespace {

std::string field(std::string_view s) { return std::to_string(s.size()) + ":" + std::string(s) + "\n"; }

}  // namespace

std::string entryHash(std::string_view prev, const ChainFields& f) {
  return core::sha256Hex("calgate-audit-v1\n" + field(prev) + field(std::to_string(f.at)) + field(f.actor) +
                         field(f.userId) + field(f.action) + field(f.objectRef) + field(f.decision) + field(f.details));
}

std::string checkpointMessage(long long seq, std::string_view entrySha256, long long at) {
  return "calgate-audit-checkpoint-v1\n" + field(std::to_string(seq)) + field(entrySha256) + field(std::to_string(at));
}

std::string exportSealMessage(const ExportSeal& s) {
  return "calgate-audit-export-v1\n" + field(s.headerSha256) + field(std::to_string(s.firstSeq)) + field(s.firstPrev) +
         field(std::to_string(s.lastSeq)) + field(s.lastHash) + field(std::to_string(s.entries)) +
         field(std::to_string(s.links)) + field(s.digest) + field(std::to_string(s.at));
}

std::string exportDigestStep(std::string_view digest, char kind, long long seq, std::string_view hash) {
  return core::sha256Hex(field(digest) + field(std::string(1, kind)) + field(std::to_string(seq)) + field(hash));
}

}  // namespace calgate::audit
