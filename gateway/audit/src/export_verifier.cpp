#include "calgate/audit/export_verifier.hpp"

#include "calgate/audit/chain.hpp"
#include "calgate/audit/checkpoints.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/core/signing.hpp"

#include <nlohmann/json.hpp>

#include <set>

#include <string>

namespace calgate::audit {
namespace {

using nlohmann::json;

struct State {
  std::string_view publicKey;
  const std::vector<Anchor>* anchors = nullptr;
  std::set<long long> anchorsSeen;
  long long lineNo = 0;
  bool sealed = false;
  VerifiedExport out;
  ExportSeal seal;
  std::string prevHash;  ///< the hash of the last entry or link; "" before the first
  long long prevSeq = 0;

  core::Error bad(const std::string& what) const {
    return core::Error{core::ErrorCode::Invalid, "line " + std::to_string(lineNo) + ": " + what, std::nullopt};
  }
};

std::string textOf(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

long long numberOf(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<long long>() : -1;
}

core::Result<void> chainLine(State& s, const json& j, bool whole) {
  const long long seq = numberOf(j, "seq");
  const std::string prev = textOf(j, "prev"), hash = textOf(j, "hash");
  const std::string name = "entry " + std::to_string(seq);
  if (seq <= 0 || prev.size() != 64 || hash.size() != 64) return std::unexpected(s.bad("malformed entry"));
  if (!s.prevHash.empty() && seq <= s.prevSeq) {
    return std::unexpected(s.bad(name + " comes after entry " + std::to_string(s.prevSeq) + ": entries were reordered"));
  }
  if (!s.prevHash.empty() && prev != s.prevHash) {
    return std::unexpected(s.bad(name + ": the chain is broken: its prev is not the hash of entry " +
                                 std::to_string(s.prevSeq) + " before it (an entry was removed, inserted or reordered here)"));
  }
  if (whole) {
    ChainFields f{numberOf(j, "at"), textOf(j, "actor"), textOf(j, "user_id"), textOf(j, "action"),
                  textOf(j, "object_ref"), textOf(j, "decision"), textOf(j, "details")};
    if (entryHash(prev, f) != hash) return std::unexpected(s.bad(name + " was altered: its content does not match its hash"));
    ++s.out.entries;
  } else {
    ++s.out.links;
  }
  for (const auto& a : *s.anchors) {
    if (a.seq != seq) continue;
    if (a.hash != hash) {
      return std::unexpected(s.bad(name + " is not the entry you kept from an earlier export (its hash differs): the log "
                                          "was rewritten up to here"));
    }
    s.anchorsSeen.insert(seq);
  }
  if (s.prevHash.empty()) s.seal.firstSeq = seq, s.seal.firstPrev = prev, s.out.firstSeq = seq;
  s.seal.digest = exportDigestStep(s.seal.digest, whole ? 'e' : 'l', seq, hash);
  s.prevHash = hash;
  s.prevSeq = s.out.lastSeq = seq;
  s.out.lastHash = hash;
  return {};
}

core::Result<void> checkpointLine(State& s, const json& j) {
  Checkpoint c{numberOf(j, "seq"), textOf(j, "hash"), numberOf(j, "at"), textOf(j, "key_id"), textOf(j, "signature")};
  const std::string name = "the checkpoint of entry " + std::to_string(c.seq);
  if (c.seq != s.prevSeq || c.entrySha256 != s.prevHash) {
    return std::unexpected(s.bad(name + " does not sign the entry before it: entries up to " + std::to_string(c.seq) +
                                 " were changed and re-hashed, or lines were moved"));
  }
  if (!verifyCheckpoint(c, s.publicKey)) {
    return std::unexpected(s.bad(name + " is not signed by the pinned key: entries up to " + std::to_string(c.seq) +
                                 " were re-hashed without the key, or the export is from another installation"));
  }
  ++s.out.checkpoints;
  return {};
}

core::Result<void> sealLine(State& s, const json& j) {
  ExportSeal claimed{s.seal.headerSha256, numberOf(j, "first_seq"), textOf(j, "first_prev"), numberOf(j, "last_seq"),
                     textOf(j, "last_hash"), numberOf(j, "entries"), numberOf(j, "links"), textOf(j, "digest"),
                     numberOf(j, "at")};
  if (s.out.entries + s.out.links == 0 || claimed.firstSeq <= 0) {
    return std::unexpected(s.bad("the export holds no entries"));
  }
  if (textOf(j, "key_id") != core::keyIdOf(s.publicKey) ||
      !core::verifySignature(s.publicKey, exportSealMessage(claimed), textOf(j, "signature"))) {
    return std::unexpected(s.bad("the seal is not signed by the pinned key: the export was re-hashed or forged without "
                                 "the key, or comes from another installation"));
  }
  s.seal.lastSeq = s.out.lastSeq;
  s.seal.lastHash = s.out.lastHash;
  s.seal.entries = s.out.entries;
  s.seal.links = s.out.links;
  if (claimed.lastSeq != s.seal.lastSeq || claimed.lastHash != s.seal.lastHash) {
    return std::unexpected(s.bad("the export was truncated: the seal names entry " + std::to_string(claimed.lastSeq) +
                                 " as the last, the file ends at entry " + std::to_string(s.seal.lastSeq)));
  }
  if (claimed.firstSeq != s.seal.firstSeq || claimed.firstPrev != s.seal.firstPrev) {
    return std::unexpected(s.bad("entries were removed from the start: the seal names entry " +
                                 std::to_string(claimed.firstSeq) + " as the first, the file starts at entry " +
                                 std::to_string(s.seal.firstSeq)));
  }
  if (claimed.entries != s.seal.entries || claimed.links != s.seal.links || claimed.digest != s.seal.digest) {
    return std::unexpected(s.bad("the lines do not match the seal: an entry was removed, added, reordered or turned into a link"));
  }
  s.sealed = true;
  return {};
}

core::Result<void> oneLine(State& s, const std::string& text) {
  if (s.sealed) return std::unexpected(s.bad("lines after the seal"));
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::unexpected(s.bad("not a JSON object"));
  // one spelling only: what calgate writes (a line others might read differently is not accepted)
  if (j.dump(-1, ' ', false, json::error_handler_t::replace) != text) {
    return std::unexpected(s.bad("not written as calgate writes it (compact JSON, keys in order): the line was "
                                 "re-serialised or edited"));
  }
  const std::string type = textOf(j, "type");
  if (s.lineNo == 1) {
    if (type != "header" || textOf(j, "format") != "calgate-audit-export/1") {
      return std::unexpected(s.bad("not a calgate audit export (format calgate-audit-export/1 expected)"));
    }
    s.seal.headerSha256 = core::sha256Hex(text);
    return {};
  }
  if (type == "entry" || type == "link") return chainLine(s, j, type == "entry");
  if (type == "checkpoint") return checkpointLine(s, j);
  if (type == "seal") return sealLine(s, j);
  return std::unexpected(s.bad("unknown line type \"" + type.substr(0, 40) + "\""));
}

}  // namespace

core::Result<VerifiedExport> verifyExport(std::istream& in, std::string_view publicKey, const std::vector<Anchor>& anchors) {
  if (core::keyIdOf(publicKey).empty()) {
    return core::fail(core::ErrorCode::Invalid, "the public key is not base64 of 32 bytes (calgate-admin audit public-key prints it)");
  }
  State s;
  s.publicKey = publicKey;
  s.anchors = &anchors;
  s.seal.digest = kGenesis;
  std::string text;
  while (std::getline(in, text)) {
    ++s.lineNo;
    if (text.size() > kMaxLine) return std::unexpected(s.bad("longer than 64 KiB"));
    if (auto ok = oneLine(s, text); !ok) return std::unexpected(ok.error());
  }
  if (s.lineNo == 0) return core::fail(core::ErrorCode::Invalid, "the export is empty");
  if (!s.sealed) {
    return core::fail(core::ErrorCode::Invalid,
                      "the export was truncated: it ends at line " + std::to_string(s.lineNo) + " (after entry " +
                          std::to_string(s.out.lastSeq) + ") without its signed seal");
  }
  for (const auto& a : anchors) {
    if (a.seq >= s.out.firstSeq && a.seq <= s.out.lastSeq && !s.anchorsSeen.count(a.seq)) {
      return core::fail(core::ErrorCode::Invalid, "entry " + std::to_string(a.seq) +
                                                      ", which you kept from an earlier export, is missing from this one");
    }
  }
  return s.out;
}

}  // namespace calgate::audit
