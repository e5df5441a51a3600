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

// Why a step did not validate: the cause callers act on, and the text admins read.
struct Reason {
  core::Cause cause = core::Cause::None;
  std::string text;
  void set(core::Cause c, std::string t) {
    cause = c;
    text = std::move(t);
  }
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
  std::chrono::steady_clock::time_point deadline;
  std::vector<std::string> chain;
  std::optional<long long> earliestExpiry;
  long long lastInception = 0;  // of the signature verifyRrset() last accepted

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
    if (std::chrono::steady_clock::now() > deadline) return fail(ErrorCode::Timeout, "lookup took too long");
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
    // No OPT record: the answer went through a path that dropped EDNS (and with it DNSSEC data),
    // e.g. a FORMERR downgrade. Nothing in it can be validated.
    if (!ldns_pkt_edns(raw)) return fail(ErrorCode::Unavailable, "DNS answer for " + text + " without EDNS");
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

  // Checks one RRSIG's metadata; an empty text when acceptable.
  Reason checkSignature(const ldns_rr* sig, const ldns_rdf* zone, const ldns_rdf* owner) {
    using core::Cause;
    if (!sameName(ldns_rr_rrsig_signame(sig), zone)) {
      return {Cause::DnssecWrongSigner,
              "signed by " + nameText(ldns_rr_rrsig_signame(sig)) + ", not by the zone " + nameText(zone)};
    }
    if (!atOrBelow(owner, zone)) {
      return {Cause::DnssecWrongSigner, "signer " + nameText(zone) + " does not contain " + nameText(owner)};
    }
    if (ldns_rdf2native_int8(ldns_rr_rrsig_labels(sig)) < ldns_dname_label_count(owner)) {
      return {Cause::DnssecWildcard, "answer synthesised from a wildcard (not accepted)"};
    }
    // RRSIG times are serial-number arithmetic around now (RFC 4034 §3.1.5).
    const auto nowSerial = static_cast<std::uint32_t>(now());
    const auto inception = ldns_rdf2native_int32(ldns_rr_rrsig_inception(sig));
    const auto expiration = ldns_rdf2native_int32(ldns_rr_rrsig_expiration(sig));
    const long long skew = options.clockSkew.count();
    const long long sinceInception = static_cast<std::int32_t>(nowSerial - inception);
    const long long untilExpiration = static_cast<std::int32_t>(expiration - nowSerial);
    if (sinceInception < -skew) return {Cause::DnssecSignatureTime, "signature not yet valid (inception in the future)"};
    if (untilExpiration < -skew) return {Cause::DnssecSignatureTime, "signature expired"};
    const long long expiresAt = now() + untilExpiration;
    if (!earliestExpiry || expiresAt < *earliestExpiry) earliestExpiry = expiresAt;
    return {};
  }

  // A signature's inception as Unix seconds (serial-number arithmetic around now, RFC 4034 §3.1.5).
  long long inceptionOf(const ldns_rr* sig) const {
    const auto nowSerial = static_cast<std::uint32_t>(now());
    const auto inception = ldns_rdf2native_int32(ldns_rr_rrsig_inception(sig));
    return now() - static_cast<std::int32_t>(nowSerial - inception);
  }

  // Verifies `rrset` (one owner, one type) with any of `sigs` made by `zone` with `keys`.
  bool verifyRrset(const ldns_rr_list* rrset, const ldns_rr_list* sigs, const ldns_rdf* zone, const ldns_rr_list* keys,
                   Reason& reason) {
    if (ldns_rr_list_rr_count(rrset) == 0) {
      reason.set(core::Cause::DnssecBadSignature, "empty RRset");
      return false;
    }
    const ldns_rdf* owner = ldns_rr_owner(ldns_rr_list_rr(rrset, 0));
    const ldns_rr_type type = ldns_rr_get_type(ldns_rr_list_rr(rrset, 0));
    Reason last{core::Cause::DnssecBadSignature, "no signature"};
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(sigs); ++i) {
      const ldns_rr* sig = ldns_rr_list_rr(sigs, i);
      if (ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) != type || !sameName(ldns_rr_owner(sig), owner)) continue;
      if (auto problem = checkSignature(sig, zone, owner); !problem.text.empty()) {
        last = std::move(problem);
        continue;
      }
      const ldns_status st = ldns_verify_rrsig_keylist_notime(rrset, sig, keys, nullptr);
      if (st == LDNS_STATUS_OK) {
        lastInception = inceptionOf(sig);
        return true;
      }
      last.set(core::Cause::DnssecBadSignature, std::string("signature does not verify: ") + std::string(statusText(st)));
    }
    reason.set(last.cause, nameText(owner) + " " + typeName(type) + ": " + last.text);
    return false;
  }

  static std::string typeName(ldns_rr_type t) {
    char* s = ldns_rr_type2str(t);
    std::string out = s ? s : "?";
    std::free(s);
    return out;
  }

  // Verifies every NSEC/NSEC3 record (each is an RRset of its own) and the NSEC3 iteration cap.
  bool verifyDenialRecords(const Response& r, const ldns_rdf* zone, const ldns_rr_list* keys, Reason& reason) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(r.denials.get()); ++i) {
      const ldns_rr* rec = ldns_rr_list_rr(r.denials.get(), i);
      if (ldns_rr_get_type(rec) == LDNS_RR_TYPE_NSEC3 && ldns_nsec3_iterations(rec) > options.nsec3IterationCap) {
        reason.set(core::Cause::DnssecIterationCap, "NSEC3 uses " + std::to_string(ldns_nsec3_iterations(rec)) +
                                                        " iterations (cap " +
                                                        std::to_string(options.nsec3IterationCap) + ")");
        return false;
      }
      RrList single = newList();
      ldns_rr_list_push_rr(single.get(), ldns_rr_clone(rec));
      if (!verifyRrset(single.get(), r.denialSigs.get(), zone, keys, reason)) {
        reason.text = "denial record " + reason.text;
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Denial of existence. The records were verified (signed by exactly the zone we are in) first.

  enum class Denial { NoName, NoData, NotACut, InsecureDelegation, OptOut, Unproven };

  static bool bitmapHas(const ldns_rr* rec, ldns_rr_type t) {
    const ldns_rdf* bitmap = ldns_rr_get_type(rec) == LDNS_RR_TYPE_NSEC3 ? ldns_nsec3_bitmap(rec) : ldns_nsec_get_bitmap(rec);
    return bitmap && ldns_nsec_bitmap_covers_type(bitmap, t);
  }

  // Records usable as proof for `name` in `zone`: a parent-side delegation NSEC (NS set, SOA clear)
  // at or above `name` and below the zone apex describes another zone's cut and proves nothing
  // about names below it.
  RrList usableDenials(const Response& r, const ldns_rdf* name, const ldns_rdf* zone) const {
    RrList out = newList();
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(r.denials.get()); ++i) {
      const ldns_rr* rec = ldns_rr_list_rr(r.denials.get(), i);
      if (ldns_rr_get_type(rec) == LDNS_RR_TYPE_NSEC) {
        const ldns_rdf* owner = ldns_rr_owner(rec);
        const bool delegationPoint = bitmapHas(rec, LDNS_RR_TYPE_NS) && !bitmapHas(rec, LDNS_RR_TYPE_SOA);
        if (delegationPoint && !sameName(owner, zone) && atOrBelow(name, owner) && !sameName(owner, name)) continue;
      }
      ldns_rr_list_push_rr(out.get(), ldns_rr_clone(rec));
    }
    return out;
  }

  // The longest ancestor of `name` that a covering NSEC shows to exist.
  static Rdf closestEncloser(const ldns_rdf* name, const ldns_rr* covering) {
    const ldns_rdf* owner = ldns_rr_owner(covering);
    const ldns_rdf* next = ldns_rr_rdf(covering, 0);
    for (Rdf a(ldns_dname_left_chop(name)); a; a.reset(ldns_dname_left_chop(a.get()))) {
      if (atOrBelow(owner, a.get()) || (next && atOrBelow(next, a.get()))) return a;
      if (ldns_dname_label_count(a.get()) == 0) return a;
    }
    return nullptr;
  }

  // NSEC proof (RFC 4035 §5.4), done here because ldns checks the wildcard at the parent rather
  // than at the closest encloser and ignores the CNAME bit.
  Denial nsecDenial(const ldns_rr_list* recs, const ldns_rdf* name, ldns_rr_type type, bool nxdomain,
                    Reason& reason) const {
    constexpr auto kUnproven = core::Cause::DnssecUnprovenDenial;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(recs); ++i) {
      const ldns_rr* rec = ldns_rr_list_rr(recs, i);
      if (!sameName(ldns_rr_owner(rec), name)) continue;
      if (nxdomain) {
        reason.set(kUnproven, "NXDOMAIN answered, but an NSEC shows the name exists");
        return Denial::Unproven;
      }
      if (bitmapHas(rec, type)) {
        reason.set(kUnproven, "NSEC shows the type exists");
        return Denial::Unproven;
      }
      if (bitmapHas(rec, LDNS_RR_TYPE_CNAME)) {
        reason.set(kUnproven, "the name is a CNAME");
        return Denial::Unproven;
      }
      if (type == LDNS_RR_TYPE_DS && bitmapHas(rec, LDNS_RR_TYPE_NS) && !bitmapHas(rec, LDNS_RR_TYPE_SOA)) {
        return Denial::InsecureDelegation;
      }
      return type == LDNS_RR_TYPE_DS ? Denial::NotACut : Denial::NoData;
    }
    // No NSEC at the name: it must be covered (and, for NXDOMAIN, so must the wildcard).
    const ldns_rr* covering = nullptr;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(recs); ++i) {
      const ldns_rr* rec = ldns_rr_list_rr(recs, i);
      if (ldns_rr_get_type(rec) == LDNS_RR_TYPE_NSEC && ldns_nsec_covers_name(rec, name)) covering = rec;
    }
    if (!covering) {
      reason.set(kUnproven, "no NSEC covers the name");
      return Denial::Unproven;
    }
    const ldns_rdf* next = ldns_rr_rdf(covering, 0);
    if (!nxdomain && next && ldns_dname_is_subdomain(next, name)) {
      return type == LDNS_RR_TYPE_DS ? Denial::NotACut : Denial::NoData;  // an empty non-terminal
    }
    Rdf encloser = closestEncloser(name, covering);
    if (!encloser) {
      reason.set(kUnproven, "no closest encloser");
      return Denial::Unproven;
    }
    Rdf wildcard(ldns_dname_new_frm_str("*"));
    if (ldns_dname_cat(wildcard.get(), encloser.get()) != LDNS_STATUS_OK) return Denial::Unproven;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(recs); ++i) {
      const ldns_rr* rec = ldns_rr_list_rr(recs, i);
      if (sameName(ldns_rr_owner(rec), wildcard.get())) {
        reason.set(kUnproven, "a wildcard exists at the closest encloser");
        return Denial::Unproven;
      }
      if (ldns_rr_get_type(rec) == LDNS_RR_TYPE_NSEC && ldns_nsec_covers_name(rec, wildcard.get())) {
        return Denial::NoName;
      }
    }
    reason.set(kUnproven, "no NSEC covers the wildcard at the closest encloser");
    return Denial::Unproven;
  }

  Denial nsec3Denial(const Response& r, const ldns_rr_list* recs, const ldns_rdf* name, ldns_rr_type type,
                     Reason& reason) const {
    constexpr auto kUnproven = core::Cause::DnssecUnprovenDenial;
    bool optOut = false;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(recs); ++i) {
      if (ldns_nsec3_optout(ldns_rr_list_rr(recs, i))) optOut = true;
    }
    Rr question(ldns_rr_new());
    ldns_rr_set_owner(question.get(), ldns_rdf_clone(name));
    ldns_rr_set_type(question.get(), type);
    ldns_rr_set_class(question.get(), LDNS_RR_CLASS_IN);
    ldns_rr* match = nullptr;
    RrList copy(ldns_rr_list_clone(recs));
    const ldns_status st = ldns_dnssec_verify_denial_nsec3_match(question.get(), copy.get(), r.denialSigs.get(),
                                                                 r.rcode, type, true, &match);
    if (st != LDNS_STATUS_OK) {
      reason.set(kUnproven, "NSEC3 records do not prove the denial: " + std::string(statusText(st)));
      return Denial::Unproven;
    }
    if (!match) {
      // proven only through covering records: an opt-out span may hide unsigned delegations
      if (optOut) return Denial::OptOut;
      return r.rcode == LDNS_RCODE_NXDOMAIN ? Denial::NoName : Denial::Unproven;
    }
    if (ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(match), LDNS_RR_TYPE_CNAME)) {
      reason.set(kUnproven, "the name is a CNAME");
      return Denial::Unproven;
    }
    if (type == LDNS_RR_TYPE_DS) {
      const bool ns = ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(match), LDNS_RR_TYPE_NS);
      const bool soa = ldns_nsec_bitmap_covers_type(ldns_nsec3_bitmap(match), LDNS_RR_TYPE_SOA);
      return ns && !soa ? Denial::InsecureDelegation : Denial::NotACut;
    }
    return r.rcode == LDNS_RCODE_NXDOMAIN ? Denial::NoName : Denial::NoData;
  }

  // Verifies and interprets a negative answer for `name`/`type` given by `zone`.
  Denial denial(const Response& r, const ldns_rdf* name, ldns_rr_type type, const ldns_rdf* zone,
                const ldns_rr_list* keys, Reason& reason) {
    RrList recs = usableDenials(r, name, zone);
    if (ldns_rr_list_rr_count(recs.get()) == 0) {
      reason.set(core::Cause::DnssecBareDenial, "negative answer without NSEC/NSEC3 proof");
      return Denial::Unproven;
    }
    Response checked;  // the filtered records with their signatures, verified
    checked.denials.reset(ldns_rr_list_clone(recs.get()));
    checked.denialSigs.reset(ldns_rr_list_clone(r.denialSigs.get()));
    checked.rcode = r.rcode;
    if (!verifyDenialRecords(checked, zone, keys, reason)) return Denial::Unproven;
    const bool nsec3 = ldns_rr_get_type(ldns_rr_list_rr(recs.get(), 0)) == LDNS_RR_TYPE_NSEC3;
    return nsec3 ? nsec3Denial(checked, recs.get(), name, type, reason)
                 : nsecDenial(recs.get(), name, type, r.rcode == LDNS_RCODE_NXDOMAIN, reason);
  }

  // ---------------------------------------------------------------------------------------------
  // The walk: from the trust anchor down to the name, zone by zone.

  struct Walk {
    Security security = Security::Indeterminate;
    std::string reason;
    core::Cause cause = core::Cause::None;
    Rdf zone;      // the deepest secure zone containing the name
    RrList keys;   // its DNSKEY RRset
    bool noName = false;  // an ancestor (or the name) was proven not to exist
  };

  Walk anchorKeys() {
    Walk w;
    auto r = fetch(anchorZone.get(), LDNS_RR_TYPE_DNSKEY);
    if (!r) {
      w.reason = "DNSKEY query for the trust anchor failed: " + r.error().message;
      w.cause = core::Cause::DnssecLookupFailed;
      return w;
    }
    if (r->rcode != LDNS_RCODE_NOERROR || ldns_rr_list_rr_count(r->answer.get()) == 0) {
      w.reason = "no DNSKEY answer for the trust anchor zone";
      w.cause = core::Cause::DnssecLookupFailed;
      return w;
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
    Reason reason;
    if (ldns_rr_list_rr_count(anchored.get()) == 0) {
      w.security = Security::Bogus;
      w.reason = "no DNSKEY matches the trust anchor";
      w.cause = core::Cause::DnssecNoTrustedKey;
    } else if (!verifyRrset(r->answer.get(), r->answerSigs.get(), anchorZone.get(), anchored.get(), reason)) {
      w.security = Security::Bogus;
      w.reason = "DNSKEY set not signed by the trust anchor key: " + reason.text;
      w.cause = reason.cause;
    } else {
      w.security = Security::Secure;
      w.zone.reset(ldns_rdf_clone(anchorZone.get()));
      w.keys = std::move(r->answer);
      chain.push_back("DNSKEY " + anchor.zone + " verified with the trust anchor");
    }
    return w;
  }

  Walk walkTo(const ldns_rdf* name) {
    Walk w = anchorKeys();
    if (w.security != Security::Secure) return w;
    std::vector<Rdf> names;  // below the anchor, down to `name`
    for (Rdf n(ldns_rdf_clone(name)); n && !sameName(n.get(), anchorZone.get()); n.reset(ldns_dname_left_chop(n.get()))) {
      names.push_back(Rdf(ldns_rdf_clone(n.get())));
      if (ldns_dname_label_count(n.get()) == 0) break;
    }
    std::reverse(names.begin(), names.end());
    auto fail = [&](Security s, std::string why, core::Cause cause) {
      w.security = s;
      w.reason = std::move(why);
      w.cause = cause;
      return std::move(w);
    };
    using core::Cause;
    for (const auto& n : names) {
      const std::string text = nameText(n.get());
      const std::string zoneText = nameText(w.zone.get());
      auto ds = fetch(n.get(), LDNS_RR_TYPE_DS);
      if (!ds) {
        return fail(Security::Indeterminate, "DS query for " + text + " failed: " + ds.error().message,
                    Cause::DnssecLookupFailed);
      }
      if (ds->rcode != LDNS_RCODE_NOERROR && ds->rcode != LDNS_RCODE_NXDOMAIN) {
        return fail(Security::Indeterminate, "DS query for " + text + " answered with an error", Cause::DnssecLookupFailed);
      }
      Reason reason;
      if (ldns_rr_list_rr_count(ds->answer.get()) > 0) {
        // A secure delegation: the DS must be signed by exactly the zone we are in.
        if (!verifyRrset(ds->answer.get(), ds->answerSigs.get(), w.zone.get(), w.keys.get(), reason)) {
          return fail(Security::Bogus, "DS " + text + " not verified with " + zoneText + ": " + reason.text, reason.cause);
        }
        auto keys = fetch(n.get(), LDNS_RR_TYPE_DNSKEY);
        if (!keys) {
          return fail(Security::Indeterminate, "DNSKEY query for " + text + " failed: " + keys.error().message,
                      Cause::DnssecLookupFailed);
        }
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
        if (ldns_rr_list_rr_count(matched.get()) == 0) {
          return fail(Security::Bogus, "no DNSKEY of " + text + " matches its DS", Cause::DnssecNoTrustedKey);
        }
        if (!verifyRrset(keys->answer.get(), keys->answerSigs.get(), n.get(), matched.get(), reason)) {
          return fail(Security::Bogus, "DNSKEY " + text + " not signed by a key matching the DS: " + reason.text,
                      reason.cause);
        }
        chain.push_back("DS " + text + " verified with " + zoneText);
        chain.push_back("DNSKEY " + text + " verified with its DS");
        w.zone.reset(ldns_rdf_clone(n.get()));
        w.keys = std::move(keys->answer);
        continue;
      }
      // No DS: the zone we are in must prove what the name is.
      switch (denial(*ds, n.get(), LDNS_RR_TYPE_DS, w.zone.get(), w.keys.get(), reason)) {
        case Denial::NotACut:
        case Denial::NoData:
          continue;  // a name inside the current zone
        case Denial::NoName:
          chain.push_back("NXDOMAIN " + text + " proven by " + zoneText);
          w.noName = true;
          return w;
        case Denial::InsecureDelegation:
          chain.push_back("DS " + text + ": proven absent by " + zoneText + " (unsigned delegation)");
          return fail(Security::Insecure, text + " is an unsigned zone (no DS at its parent " + zoneText + ")",
                      Cause::None);
        case Denial::OptOut:
          chain.push_back("DS " + text + ": in an NSEC3 opt-out span of " + zoneText);
          return fail(Security::Insecure, text + " may be an unsigned delegation (NSEC3 opt-out in " + zoneText + ")",
                      Cause::None);
        case Denial::Unproven:
          return fail(Security::Bogus, "DS " + text + ": " + reason.text, reason.cause);
      }
    }
    return w;
  }

  static void readRecords(const Response& r, TxtAnswer& out) {
    long long ttl = 86400;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(r.answer.get()); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(r.answer.get(), i);
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
  }

  TxtAnswer lookup(const std::string& nameText_) {
    TxtAnswer out;
    Rdf name = dname(nameText_);
    if (!name) {
      out.security = Security::Bogus;
      out.reason = "malformed name";
      out.cause = core::Cause::DnssecBadName;
      return out;
    }
    if (!atOrBelow(name.get(), anchorZone.get())) {
      out.security = Security::Bogus;
      out.reason = nameText(name.get()) + " is outside the trust anchor " + anchor.zone;
      out.cause = core::Cause::DnssecBadName;
      return out;
    }
    Walk w = walkTo(name.get());
    if (w.security == Security::Secure && w.noName) {
      out.security = Security::Secure;
      out.kind = TxtAnswer::Kind::NoName;
      out.ttl = std::chrono::seconds(300);
      finish(out);
      return out;
    }
    if (w.security == Security::Bogus || w.security == Security::Indeterminate) {
      out.security = w.security;
      out.reason = w.reason;
      out.cause = w.cause;
      finish(out);
      return out;
    }
    auto r = fetch(name.get(), LDNS_RR_TYPE_TXT);
    if (!r) {
      out.security = Security::Indeterminate;
      out.reason = r.error().message;
      out.cause = core::Cause::DnssecLookupFailed;
      finish(out);
      return out;
    }
    if (r->rcode != LDNS_RCODE_NOERROR && r->rcode != LDNS_RCODE_NXDOMAIN) {
      out.security = Security::Indeterminate;
      char* rc = ldns_pkt_rcode2str(r->rcode);
      out.reason = std::string("DNS server answered ") + (rc ? rc : "an error");
      out.cause = core::Cause::DnssecLookupFailed;
      std::free(rc);
      finish(out);
      return out;
    }
    if (r->cname) {
      out.security = Security::Indeterminate;
      out.reason = "a CNAME at the policy name is not supported; publish the TXT record itself";
      out.cause = core::Cause::DnssecLookupFailed;
      finish(out);
      return out;
    }
    const bool positive = ldns_rr_list_rr_count(r->answer.get()) > 0;
    out.kind = positive ? TxtAnswer::Kind::Records
                        : (r->rcode == LDNS_RCODE_NXDOMAIN ? TxtAnswer::Kind::NoName : TxtAnswer::Kind::NoData);
    if (w.security == Security::Insecure) {
      // Below a proven unsigned delegation: the data is taken as it is, and marked so.
      out.security = Security::Insecure;
      out.reason = w.reason;
      if (positive) readRecords(*r, out);
      else out.ttl = std::chrono::seconds(300);
      finish(out);
      return out;
    }
    const std::string zoneText = nameText(w.zone.get());
    Reason reason;
    if (positive) {
      readRecords(*r, out);
      // signed by exactly the deepest zone containing the name
      if (!verifyRrset(r->answer.get(), r->answerSigs.get(), w.zone.get(), w.keys.get(), reason)) {
        out.security = Security::Bogus;
        out.reason = "TXT RRset does not verify with " + zoneText + ": " + reason.text;
        out.cause = reason.cause;
        out.records.clear();
      } else {
        out.security = Security::Secure;
        out.signedAt = core::TimePoint(std::chrono::seconds(lastInception));
        chain.push_back("TXT " + nameText(name.get()) + " verified with " + zoneText);
      }
      finish(out);
      return out;
    }
    long long ttl = 3600;
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(r->denials.get()); ++i) {
      ttl = std::min<long long>(ttl, ldns_rr_ttl(ldns_rr_list_rr(r->denials.get(), i)));
    }
    out.ttl = std::chrono::seconds(ttl);
    const Denial d = denial(*r, name.get(), LDNS_RR_TYPE_TXT, w.zone.get(), w.keys.get(), reason);
    if ((d == Denial::NoName && out.kind == TxtAnswer::Kind::NoName) ||
        (d == Denial::NoData && out.kind == TxtAnswer::Kind::NoData)) {
      out.security = Security::Secure;
      chain.push_back(std::string(out.kind == TxtAnswer::Kind::NoName ? "NXDOMAIN " : "NODATA ") +
                      nameText(name.get()) + " proven by " + zoneText);
    } else if (d == Denial::OptOut) {
      out.security = Security::Insecure;
      out.reason = "the name falls in an NSEC3 opt-out span of " + zoneText;
    } else {
      out.security = Security::Bogus;
      out.reason = reason.text.empty() ? "the denial does not match the answer's rcode" : reason.text;
      out.cause = reason.cause == core::Cause::None ? core::Cause::DnssecUnprovenDenial : reason.cause;
      if (reason.cause == core::Cause::DnssecBareDenial) out.reason = "bare negative answer without proof";
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
  try {
    // Each lookup has state of its own (query count, deadline, chain), so lookups of different
    // names run side by side; parsing the anchor again costs microseconds.
    Impl run(impl_->transport, impl_->anchor, impl_->clock, impl_->options);
    run.deadline = std::chrono::steady_clock::now() + run.options.deadline;
    return run.lookup(name);
  } catch (const std::exception& e) {
    TxtAnswer out;
    out.security = Security::Indeterminate;
    out.reason = std::string("validation failed unexpectedly: ") + e.what();
    out.cause = core::Cause::DnssecLookupFailed;
    return out;
  }
}

}  // namespace calgate::dns
