#include "calgate/dns/validator.hpp"

#include <ldns/ldns.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace calgate::dns {
namespace {

using core::ErrorCode;
using core::fail;

// ---------------------------------------------------------------------------------------------
// ldns ownership helpers
struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct ListDeepFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrFree {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;
using RrList = std::unique_ptr<ldns_rr_list, ListDeepFree>;
using Rdf = std::unique_ptr<ldns_rdf, RdfFree>;
using Rr = std::unique_ptr<ldns_rr, RrFree>;

RrList newList() { return RrList(ldns_rr_list_new()); }

std::string nameText(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "";
  std::free(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

Rdf dname(const std::string& text) {
  ldns_rdf* r = nullptr;
  if (ldns_str2rdf_dname(&r, text.c_str()) != LDNS_STATUS_OK) return nullptr;
  ldns_dname2canonical(r);
  return Rdf(r);
}

bool sameName(const ldns_rdf* a, const ldns_rdf* b) { return ldns_dname_compare(a, b) == 0; }
// `sub` equals `parent` or lies below it.
bool atOrBelow(const ldns_rdf* sub, const ldns_rdf* parent) {
  return sameName(sub, parent) || ldns_dname_is_subdomain(sub, parent);
}

std::string_view statusText(ldns_status s) { return ldns_get_errorstr_by_id(s); }

// ---------------------------------------------------------------------------------------------
// A response, sorted for validation.
struct Response {
  Pkt pkt;
  ldns_pkt_rcode rcode = LDNS_RCODE_NOERROR;
  RrList answer = newList();       // RRs of the queried name and type
  RrList answerSigs = newList();   // RRSIGs covering them
  RrList denials = newList();      // NSEC / NSEC3 from the authority section
  RrList denialSigs = newList();   // RRSIGs covering those
  bool cname = false;
};

void sortResponse(Response& r, const ldns_rdf* qname, ldns_rr_type qtype) {
  const ldns_rr_list* answer = ldns_pkt_answer(r.pkt.get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (!sameName(ldns_rr_owner(rr), qname)) continue;
    const ldns_rr_type t = ldns_rr_get_type(rr);
    if (t == qtype) {
      ldns_rr_list_push_rr(r.answer.get(), ldns_rr_clone(rr));
    } else if (t == LDNS_RR_TYPE_RRSIG && ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == qtype) {
      ldns_rr_list_push_rr(r.answerSigs.get(), ldns_rr_clone(rr));
    } else if (t == LDNS_RR_TYPE_CNAME) {
      r.cname = true;
    }
  }
  const ldns_rr_list* authority = ldns_pkt_authority(r.pkt.get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(authority); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(authority, i);
    const ldns_rr_type t = ldns_rr_get_type(rr);
    if (t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3) {
      ldns_rr_list_push_rr(r.denials.get(), ldns_rr_clone(rr));
    } else if (t == LDNS_RR_TYPE_RRSIG) {
      const ldns_rr_type covered = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr));
      if (covered == LDNS_RR_TYPE_NSEC || covered == LDNS_RR_TYPE_NSEC3) {
        ldns_rr_list_push_rr(r.denialSigs.get(), ldns_rr_clone(rr));
      }
    }
  }
}

struct ZoneKeys {
  Security security = Security::Indeterminate;
  std::string reason;
  RrList keys;  // the zone's DNSKEY RRset, once proven
};

}  // namespace

std::string_view toString(Security s) {
  switch (s) {
    case Security::Secure: return "secure";
    case Security::Insecure: return "insecure";
    case Security::Bogus: return "bogus";
    case Security::Indeterminate: return "indeterminate";
  }
  return "indeterminate";
}

core::Result<TrustAnchor> loadTrustAnchor(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return fail(ErrorCode::Invalid, "cannot read trust anchor file " + file.string());
  TrustAnchor anchor;
  for (std::string line; std::getline(in, line);) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == ';' || line[start] == '#') continue;
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, line.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) continue;
    Rr guard(rr);
    const ldns_rr_type t = ldns_rr_get_type(rr);
    if (t != LDNS_RR_TYPE_DS && t != LDNS_RR_TYPE_DNSKEY) continue;
    const std::string zone = nameText(ldns_rr_owner(rr));
    if (!anchor.zone.empty() && anchor.zone != zone) {
      return fail(ErrorCode::Invalid, "trust anchor file " + file.string() + " names more than one zone");
    }
    anchor.zone = zone;
    anchor.records.push_back(line);
  }
  if (anchor.records.empty()) return fail(ErrorCode::Invalid, "no DS or DNSKEY record in " + file.string());
  return anchor;
}

struct Validator::Impl {
  Transport& transport;
  TrustAnchor anchor;
  const core::Clock& clock;
  ValidatorOptions options;
  Rdf anchorZone;
  RrList anchorRecords = newList();

  // per lookup
  unsigned queries = 0;
  std::vector<std::string> chain;
  std::optional<long long> earliestExpiry;
  std::map<std::string, ZoneKeys> zones;

  Impl(Transport& t, TrustAnchor a, const core::Clock& c, ValidatorOptions o)
      : transport(t), anchor(std::move(a)), clock(c), options(o) {
    anchorZone = dname(anchor.zone);
    for (const auto& line : anchor.records) {
      ldns_rr* rr = nullptr;
      if (ldns_rr_new_frm_str(&rr, line.c_str(), 0, nullptr, nullptr) == LDNS_STATUS_OK) {
        ldns_rr_list_push_rr(anchorRecords.get(), rr);
      }
    }
  }

  core::Result<Response> fetch(const ldns_rdf* name, ldns_rr_type type) {
    if (++queries > options.maxQueries) return fail(ErrorCode::Invalid, "too many queries for one lookup");
    const std::string text = nameText(name);
    auto wire = transport.query(text, static_cast<RrType>(type));
    if (!wire) return std::unexpected(wire.error());
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, wire->data(), wire->size()) != LDNS_STATUS_OK) {
      return fail(ErrorCode::Invalid, "malformed DNS answer for " + text);
    }
    Response r;
    r.pkt.reset(raw);
    r.rcode = ldns_pkt_get_rcode(raw);
    // The answer must be for the question asked.
    const ldns_rr_list* question = ldns_pkt_question(raw);
    if (ldns_rr_list_rr_count(question) != 1 || !sameName(ldns_rr_owner(ldns_rr_list_rr(question, 0)), name) ||
        ldns_rr_get_type(ldns_rr_list_rr(question, 0)) != type) {
      return fail(ErrorCode::Invalid, "DNS answer for " + text + " is for another question");
    }
    sortResponse(r, name, type);
    return r;
  }

  long long now() const { return clock.nowUnixSeconds(); }

  // Checks one RRSIG's metadata; empty string when acceptable.
  std::string checkSignature(const ldns_rr* sig, const ldns_rdf* zone, const ldns_rdf* owner) {
    if (!sameName(ldns_rr_rrsig_signame(sig), zone)) {
      return "signed by " + nameText(ldns_rr_rrsig_signame(sig)) + ", not by the zone " + nameText(zone);
    }
    if (!atOrBelow(owner, zone)) return "signer " + nameText(zone) + " does not contain " + nameText(owner);
    if (ldns_rdf2native_int8(ldns_rr_rrsig_labels(sig)) < ldns_dname_label_count(owner)) {
      return "answer synthesised from a wildcard (not accepted)";
    }
    // RRSIG times are serial-number arithmetic around now (RFC 4034 §3.1.5).
    const auto nowSerial = static_cast<std::uint32_t>(now());
    const auto inception = ldns_rdf2native_int32(ldns_rr_rrsig_inception(sig));
    const auto expiration = ldns_rdf2native_int32(ldns_rr_rrsig_expiration(sig));
    const long long skew = options.clockSkew.count();
    const long long sinceInception = static_cast<std::int32_t>(nowSerial - inception);
    const long long untilExpiration = static_cast<std::int32_t>(expiration - nowSerial);
    if (sinceInception < -skew) return "signature not yet valid (inception in the future)";
    if (untilExpiration < -skew) return "signature expired";
    const long long expiresAt = now() + untilExpiration;
    if (!earliestExpiry || expiresAt < *earliestExpiry) earliestExpiry = expiresAt;
    return {};
  }

  // Verifies `rrset` (one owner, one type) with any of `sigs` made by `zone` with `keys`.
  bool verifyRrset(const ldns_rr_list* rrset, const ldns_rr_list* sigs, const ldns_rdf* zone, const ldns_rr_list* keys,
                   std::string& reason) {
    if (ldns_rr_list_rr_count(rrset) == 0) {
      reason = "empty RRset";
      return false;
    }
    const ldns_rdf* owner = ldns_rr_owner(ldns_rr_list_rr(rrset, 0));
    const ldns_rr_type type = ldns_rr_get_type(ldns_rr_list_rr(rrset, 0));
    std::string last = "no signature";
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(sigs); ++i) {
      const ldns_rr* sig = ldns_rr_list_rr(sigs, i);
      if (ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) != type || !sameName(ldns_rr_owner(sig), owner)) continue;
      if (auto problem = checkSignature(sig, zone, owner); !problem.empty()) {
        last = problem;
        continue;
      }
      const ldns_status st = ldns_verify_rrsig_keylist_notime(rrset, sig, keys, nullptr);
      if (st == LDNS_STATUS_OK) return true;
      last = std::string("signature does not verify: ") + std::string(statusText(st));
    }
    reason = nameText(owner) + " " + typeName(type) + ": " + last;
    return false;
  }

  static std::string typeName(ldns_rr_type t) {
    char* s = ldns_rr_type2str(t);
    std::string out = s ? s : "?";
    std::free(s);
    return out;
  }

  // The signer named by the first signature in `sigs` (empty when unsigned).
  static Rdf signerOf(const ldns_rr_list* sigs) {
    if (ldns_rr_list_rr_count(sigs) == 0) return nullptr;
    Rdf r(ldns_rdf_clone(ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, 0))));
    ldns_dname2canonical(r.get());
    return r;
  }

  // Verifies every NSEC/NSEC3 record (each is an RRset of its own) and the NSEC3 iteration cap.
  bool verifyDenialRecords(const Response& r, const ldns_rdf* zone, const ldns_rr_list* keys, std::string& reason) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(r.denials.get()); ++i) {
      const ldns_rr* rec = ldns_rr_list_rr(r.denials.get(), i);
      if (ldns_rr_get_type(rec) == LDNS_RR_TYPE_NSEC3 && ldns_nsec3_iterations(rec) > options.nsec3IterationCap) {
        reason = "NSEC3 uses " + std::to_string(ldns_nsec3_iterations(rec)) + " iterations (cap " +
                 std::to_string(options.nsec3IterationCap) + ")";
        return false;
      }
      RrList single = newList();
      ldns_rr_list_push_rr(single.get(), ldns_rr_clone(rec));
      if (!verifyRrset(single.get(), r.denialSigs.get(), zone, keys, reason)) {
        reason = "denial record " + reason;
        return false;
      }
    }
    return true;
  }

  // Proves, with verified NSEC/NSEC3, that `name`/`type` does not exist. On success sets
  // `delegation` when the proof shows a delegation (NS present) at `name`.
  bool proveDenial(const Response& r, const ldns_rdf* name, ldns_rr_type type, const ldns_rdf* zone,
                   const ldns_rr_list* keys, bool& delegation, std::string& reason) {
    if (ldns_rr_list_rr_count(r.denials.get()) == 0) {
      reason = "negative answer without NSEC/NSEC3 proof";
      return false;
    }
    if (!verifyDenialRecords(r, zone, keys, reason)) return false;
    Rr question(ldns_rr_new());
    ldns_rr_set_owner(question.get(), ldns_rdf_clone(name));
    ldns_rr_set_type(question.get(), type);
    ldns_rr_set_class(question.get(), LDNS_RR_CLASS_IN);
    const bool nsec3 = ldns_rr_get_type(ldns_rr_list_rr(r.denials.get(), 0)) == LDNS_RR_TYPE_NSEC3;
    delegation = false;
    ldns_status st;
    if (nsec3) {
      ldns_rr* match = nullptr;
      st = ldns_dnssec_verify_denial_nsec3_match(question.get(), r.denials.get(), r.denialSigs.get(), r.rcode, type,
                                                 ldns_rr_list_rr_count(r.answer.get()) == 0, &match);
      if (st == LDNS_STATUS_OK && match) {
        delegation = ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(match), LDNS_RR_TYPE_NS);
      }
    } else {
      st = ldns_dnssec_verify_denial(question.get(), r.denials.get(), r.denialSigs.get());
      for (std::size_t i = 0; st == LDNS_STATUS_OK && i < ldns_rr_list_rr_count(r.denials.get()); ++i) {
        const ldns_rr* rec = ldns_rr_list_rr(r.denials.get(), i);
        if (sameName(ldns_rr_owner(rec), name)) {
          delegation = ldns_nsec_bitmap_covers_type(ldns_nsec_get_bitmap(rec), LDNS_RR_TYPE_NS);
        }
      }
    }
    if (st != LDNS_STATUS_OK) {
      reason = "NSEC" + std::string(nsec3 ? "3" : "") + " records do not prove the denial: " + std::string(statusText(st));
      return false;
    }
    return true;
  }

  ZoneKeys keysFor(const ldns_rdf* zone, int depth = 0) {
    const std::string zoneText = nameText(zone);
    if (auto it = zones.find(zoneText); it != zones.end()) {
      ZoneKeys copy;
      copy.security = it->second.security;
      copy.reason = it->second.reason;
      if (it->second.keys) copy.keys.reset(ldns_rr_list_clone(it->second.keys.get()));
      return copy;
    }
    ZoneKeys result = computeKeys(zone, depth);
    ZoneKeys stored;
    stored.security = result.security;
    stored.reason = result.reason;
    if (result.keys) stored.keys.reset(ldns_rr_list_clone(result.keys.get()));
    zones[zoneText] = std::move(stored);
    return result;
  }

  ZoneKeys computeKeys(const ldns_rdf* zone, int depth) {
    const std::string zoneText = nameText(zone);
    auto bogus = [&](std::string why) { return ZoneKeys{Security::Bogus, zoneText + ": " + why, nullptr}; };
    auto indeterminate = [&](std::string why) { return ZoneKeys{Security::Indeterminate, zoneText + ": " + why, nullptr}; };
    if (depth > 16) return bogus("delegation chain too deep");
    if (!atOrBelow(zone, anchorZone.get())) return bogus("outside the trust anchor " + anchor.zone);

    if (sameName(zone, anchorZone.get())) {
      auto r = fetch(zone, LDNS_RR_TYPE_DNSKEY);
      if (!r) return indeterminate("DNSKEY query failed: " + r.error().message);
      if (r->rcode != LDNS_RCODE_NOERROR || ldns_rr_list_rr_count(r->answer.get()) == 0) {
        return indeterminate("no DNSKEY answer for the trust anchor zone");
      }
      RrList anchored = newList();
      for (std::size_t i = 0; i < ldns_rr_list_rr_count(r->answer.get()); ++i) {
        const ldns_rr* key = ldns_rr_list_rr(r->answer.get(), i);
        for (std::size_t j = 0; j < ldns_rr_list_rr_count(anchorRecords.get()); ++j) {
          if (ldns_rr_compare_ds(key, ldns_rr_list_rr(anchorRecords.get(), j))) {
            ldns_rr_list_push_rr(anchored.get(), ldns_rr_clone(key));
            break;
          }
        }
      }
      if (ldns_rr_list_rr_count(anchored.get()) == 0) return bogus("no DNSKEY matches the trust anchor");
      std::string reason;
      if (!verifyRrset(r->answer.get(), r->answerSigs.get(), zone, anchored.get(), reason)) {
        return bogus("DNSKEY set not signed by the trust anchor key: " + reason);
      }
      chain.push_back("DNSKEY " + zoneText + " verified with the trust anchor");
      return ZoneKeys{Security::Secure, {}, std::move(r->answer)};
    }

    // The parent's word on this zone: its DS RRset, or a proof that there is none.
    auto ds = fetch(zone, LDNS_RR_TYPE_DS);
    if (!ds) return indeterminate("DS query failed: " + ds.error().message);
    if (ds->rcode != LDNS_RCODE_NOERROR && ds->rcode != LDNS_RCODE_NXDOMAIN) {
      return indeterminate("DS query answered " + std::string(ldns_pkt_rcode2str(ds->rcode) ? "with an error rcode" : ""));
    }
    const bool positive = ldns_rr_list_rr_count(ds->answer.get()) > 0;
    Rdf parent = signerOf(positive ? ds->answerSigs.get() : ds->denialSigs.get());
    if (!parent) return bogus(positive ? "DS RRset is unsigned" : "no DS and no signed proof of its absence");
    if (sameName(parent.get(), zone) || !ldns_dname_is_subdomain(zone, parent.get())) {
      return bogus("DS signed by " + nameText(parent.get()) + ", which is not a parent of " + zoneText);
    }
    ZoneKeys parentKeys = keysFor(parent.get(), depth + 1);
    if (parentKeys.security != Security::Secure) return parentKeys;
    std::string reason;
    if (!positive) {
      bool delegation = false;
      if (!proveDenial(*ds, zone, LDNS_RR_TYPE_DS, parent.get(), parentKeys.keys.get(), delegation, reason)) {
        return bogus("absence of DS not proven: " + reason);
      }
      chain.push_back("DS " + zoneText + ": proven absent by " + nameText(parent.get()) + " (unsigned delegation)");
      return ZoneKeys{Security::Insecure, zoneText + " is an unsigned zone (no DS at its parent)", nullptr};
    }
    if (!verifyRrset(ds->answer.get(), ds->answerSigs.get(), parent.get(), parentKeys.keys.get(), reason)) {
      return bogus("DS RRset does not verify: " + reason);
    }
    chain.push_back("DS " + zoneText + " verified with " + nameText(parent.get()));

    auto keys = fetch(zone, LDNS_RR_TYPE_DNSKEY);
    if (!keys) return indeterminate("DNSKEY query failed: " + keys.error().message);
    if (ldns_rr_list_rr_count(keys->answer.get()) == 0) return bogus("DS present but no DNSKEY RRset");
    RrList matched = newList();
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(keys->answer.get()); ++i) {
      const ldns_rr* key = ldns_rr_list_rr(keys->answer.get(), i);
      for (std::size_t j = 0; j < ldns_rr_list_rr_count(ds->answer.get()); ++j) {
        if (ldns_rr_compare_ds(key, ldns_rr_list_rr(ds->answer.get(), j))) {
          ldns_rr_list_push_rr(matched.get(), ldns_rr_clone(key));
          break;
        }
      }
    }
    if (ldns_rr_list_rr_count(matched.get()) == 0) return bogus("no DNSKEY matches the parent's DS");
    if (!verifyRrset(keys->answer.get(), keys->answerSigs.get(), zone, matched.get(), reason)) {
      return bogus("DNSKEY RRset not signed by a key matching the DS: " + reason);
    }
    chain.push_back("DNSKEY " + zoneText + " verified with its DS");
    return ZoneKeys{Security::Secure, {}, std::move(keys->answer)};
  }

  // An unsigned answer is acceptable only below a provably unsigned delegation.
  ZoneKeys proveInsecure(const ldns_rdf* name) {
    // names from just below the anchor down to `name`
    std::vector<Rdf> names;
    for (Rdf n(ldns_rdf_clone(name)); n && !sameName(n.get(), anchorZone.get());) {
      if (!ldns_dname_is_subdomain(n.get(), anchorZone.get())) {
        return ZoneKeys{Security::Bogus, nameText(name) + " is outside the trust anchor " + anchor.zone, nullptr};
      }
      Rdf parent(ldns_dname_left_chop(n.get()));
      names.push_back(std::move(n));
      n = std::move(parent);
    }
    std::reverse(names.begin(), names.end());
    for (const auto& n : names) {
      auto ds = fetch(n.get(), LDNS_RR_TYPE_DS);
      if (!ds) return ZoneKeys{Security::Indeterminate, "DS query failed: " + ds.error().message, nullptr};
      if (ldns_rr_list_rr_count(ds->answer.get()) > 0) {
        ZoneKeys zk = keysFor(n.get());  // a secure delegation: keep walking below it
        if (zk.security != Security::Secure) return zk;
        continue;
      }
      Rdf signer = signerOf(ds->denialSigs.get());
      if (!signer) {
        return ZoneKeys{Security::Bogus, "unsigned answer, and no signed proof of an unsigned delegation above it",
                        nullptr};
      }
      ZoneKeys zk = keysFor(signer.get());
      if (zk.security != Security::Secure) return zk;
      bool delegation = false;
      std::string reason;
      if (!proveDenial(*ds, n.get(), LDNS_RR_TYPE_DS, signer.get(), zk.keys.get(), delegation, reason)) {
        return ZoneKeys{Security::Bogus, "unsigned answer: " + reason, nullptr};
      }
      if (delegation) {
        chain.push_back("DS " + nameText(n.get()) + ": proven absent by " + nameText(signer.get()) +
                        " (unsigned delegation)");
        return ZoneKeys{Security::Insecure, nameText(n.get()) + " is an unsigned zone (no DS at its parent)", nullptr};
      }
    }
    return ZoneKeys{Security::Bogus, "answer is unsigned but comes from a signed zone", nullptr};
  }

  TxtAnswer lookup(const std::string& nameText_) {
    TxtAnswer out;
    Rdf name = dname(nameText_);
    if (!name) {
      out.security = Security::Bogus;
      out.reason = "malformed name";
      return out;
    }
    auto r = fetch(name.get(), LDNS_RR_TYPE_TXT);
    if (!r) {
      out.security = Security::Indeterminate;
      out.reason = r.error().message;
      return out;
    }
    if (r->rcode != LDNS_RCODE_NOERROR && r->rcode != LDNS_RCODE_NXDOMAIN) {
      out.security = Security::Indeterminate;
      char* rc = ldns_pkt_rcode2str(r->rcode);
      out.reason = std::string("DNS server answered ") + (rc ? rc : "an error");
      std::free(rc);
      return out;
    }
    if (r->cname) {
      out.security = Security::Indeterminate;
      out.reason = "a CNAME at the policy name is not supported; publish the TXT record itself";
      return out;
    }
    const bool positive = ldns_rr_list_rr_count(r->answer.get()) > 0;
    out.kind = positive ? TxtAnswer::Kind::Records
                        : (r->rcode == LDNS_RCODE_NXDOMAIN ? TxtAnswer::Kind::NoName : TxtAnswer::Kind::NoData);
    if (positive) {
      long long ttl = 86400;
      for (std::size_t i = 0; i < ldns_rr_list_rr_count(r->answer.get()); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(r->answer.get(), i);
        ttl = std::min<long long>(ttl, ldns_rr_ttl(rr));
        std::vector<std::string> strings;
        for (std::size_t k = 0; k < ldns_rr_rd_count(rr); ++k) {
          const ldns_rdf* rdf = ldns_rr_rdf(rr, k);
          const auto* data = ldns_rdf_data(rdf);
          const std::size_t size = ldns_rdf_size(rdf);
          if (size == 0) continue;
          strings.emplace_back(reinterpret_cast<const char*>(data) + 1, std::min<std::size_t>(data[0], size - 1));
        }
        out.records.push_back(std::move(strings));
      }
      out.ttl = std::chrono::seconds(ttl);
    } else {
      long long ttl = 3600;
      for (std::size_t i = 0; i < ldns_rr_list_rr_count(r->denials.get()); ++i) {
        ttl = std::min<long long>(ttl, ldns_rr_ttl(ldns_rr_list_rr(r->denials.get(), i)));
      }
      out.ttl = std::chrono::seconds(ttl);
    }

    const ldns_rr_list* sigs = positive ? r->answerSigs.get() : r->denialSigs.get();
    Rdf signer = signerOf(sigs);
    if (!signer) {
      ZoneKeys proof = proveInsecure(name.get());
      out.security = proof.security;
      out.reason = proof.security == Security::Insecure
                       ? proof.reason
                       : (positive ? "" : "bare negative answer without proof; ") + proof.reason;
      if (proof.security != Security::Insecure) out.records.clear();
      finish(out);
      return out;
    }
    if (!atOrBelow(name.get(), signer.get()) || !atOrBelow(signer.get(), anchorZone.get())) {
      out.security = Security::Bogus;
      out.reason = "signed by " + nameText(signer.get()) + ", which does not contain " + nameText(name.get());
      out.records.clear();
      finish(out);
      return out;
    }
    ZoneKeys zk = keysFor(signer.get());
    if (zk.security != Security::Secure) {
      out.security = zk.security;
      out.reason = zk.reason;
      if (zk.security != Security::Insecure) out.records.clear();
      finish(out);
      return out;
    }
    std::string reason;
    if (positive) {
      if (!verifyRrset(r->answer.get(), r->answerSigs.get(), signer.get(), zk.keys.get(), reason)) {
        out.security = Security::Bogus;
        out.reason = "TXT RRset does not verify: " + reason;
        out.records.clear();
      } else {
        out.security = Security::Secure;
        chain.push_back("TXT " + nameText(name.get()) + " verified with " + nameText(signer.get()));
      }
    } else {
      bool delegation = false;
      if (!proveDenial(*r, name.get(), LDNS_RR_TYPE_TXT, signer.get(), zk.keys.get(), delegation, reason)) {
        out.security = Security::Bogus;
        out.reason = reason;
      } else {
        out.security = Security::Secure;
        chain.push_back(std::string(out.kind == TxtAnswer::Kind::NoName ? "NXDOMAIN " : "NODATA ") +
                        nameText(name.get()) + " proven by " + nameText(signer.get()));
      }
    }
    finish(out);
    return out;
  }

  void finish(TxtAnswer& out) {
    out.chain = chain;
    if (earliestExpiry) {
      out.signatureExpiry = core::TimePoint(std::chrono::seconds(*earliestExpiry));
      const long long remaining = std::max<long long>(0, *earliestExpiry - now());
      out.ttl = std::min(out.ttl, std::chrono::seconds(remaining));
    }
  }
};

Validator::Validator(Transport& transport, TrustAnchor anchor, const core::Clock& clock, ValidatorOptions options)
    : impl_(std::make_unique<Impl>(transport, std::move(anchor), clock, options)) {}

Validator::~Validator() = default;

TxtAnswer Validator::lookupTxt(const std::string& name) {
  impl_->queries = 0;
  impl_->chain.clear();
  impl_->earliestExpiry.reset();
  impl_->zones.clear();
  try {
    return impl_->lookup(name);
  } catch (const std::exception& e) {
    TxtAnswer out;
    out.security = Security::Indeterminate;
    out.reason = std::string("validation failed unexpectedly: ") + e.what();
    return out;
  }
}

}  // namespace calgate::dns
