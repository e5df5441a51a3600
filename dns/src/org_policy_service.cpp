#include "calgate/dns/org_policy_service.hpp"

#include "calgate/model/identity.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace calgate::dns {
namespace {

using policy::OrgLevel;
using policy::OrgPolicy;
using policy::Validation;

std::string isoTime(long long t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Validation validationOf(Security s) {
  switch (s) {
    case Security::Secure: return Validation::Secure;
    case Security::Insecure: return Validation::Insecure;
    case Security::Bogus: return Validation::Bogus;
    case Security::Indeterminate: return Validation::Indeterminate;
  }
  return Validation::Indeterminate;
}

// The strictest valid record (ties: the first), or nullptr.
const ParsedRecord* strictest(const std::vector<ParsedRecord>& records, bool fromOrg) {
  const ParsedRecord* best = nullptr;
  for (const auto& r : records) {
    if (r.kind != ParsedRecord::Kind::Valid) continue;
    const OrgLevel level = fromOrg ? r.record.sp.value_or(r.record.p) : r.record.p;
    const OrgLevel bestLevel = best ? (fromOrg ? best->record.sp.value_or(best->record.p) : best->record.p) : OrgLevel::None;
    if (!best || level > bestLevel) best = &r;
  }
  return best;
}

}  // namespace

core::Result<std::optional<Pin>> MemoryPinStore::load(const std::string& domain) {
  std::lock_guard lock(mutex_);
  auto it = pins_.find(domain);
  if (it == pins_.end()) return std::optional<Pin>();
  return std::optional<Pin>(it->second);
}

core::Result<void> MemoryPinStore::save(const Pin& pin) {
  std::lock_guard lock(mutex_);
  pins_[pin.domain] = pin;
  return {};
}

core::Result<void> MemoryPinStore::remove(const std::string& domain) {
  std::lock_guard lock(mutex_);
  pins_.erase(domain);
  return {};
}

OrgPolicyService::OrgPolicyService(TxtSource& validator, PinStore& pins, const core::Clock& clock,
                                   ServiceOptions options)
    : validator_(validator), pins_(pins), clock_(clock), options_(options) {}

std::string OrgPolicyService::organisationalDomain(const std::string& domain) {
  return model::registrableDomain(domain);
}

policy::OrgPolicy OrgPolicyService::lookup(const std::string& domain) {
  std::string d = domain;
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!d.empty() && d.back() == '.') d.pop_back();
  std::promise<policy::OrgPolicy> mine;
  std::shared_future<policy::OrgPolicy> flight;
  {
    std::lock_guard lock(cacheMutex_);
    if (auto it = cache_.find(d); it != cache_.end() && it->second.until > clock_.nowUnixSeconds()) {
      return it->second.policy;  // warm lookups never wait for a resolution in progress
    }
    if (auto it = inflight_.find(d); it != inflight_.end()) {
      flight = it->second;
    } else {
      inflight_.emplace(d, mine.get_future().share());
    }
  }
  if (flight.valid()) return flight.get();  // another caller is resolving this domain
  LookupReport report;
  try {
    report = resolve(d);
  } catch (...) {  // never leave the waiters hanging
    {
      std::lock_guard lock(cacheMutex_);
      inflight_.erase(d);
    }
    mine.set_exception(std::current_exception());
    throw;
  }
  {
    std::lock_guard lock(cacheMutex_);
    cache_[d] = Cached{report.policy, clock_.nowUnixSeconds() + report.cacheFor.count()};
    inflight_.erase(d);
  }
  mine.set_value(report.policy);
  return report.policy;
}

LookupReport OrgPolicyService::inspect(const std::string& domain) {
  std::string d = domain;
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!d.empty() && d.back() == '.') d.pop_back();
  return resolve(d);
}

LookupReport OrgPolicyService::resolve(const std::string& d) {
  LookupReport report;
  const long long now = clock_.nowUnixSeconds();
  report.policy = OrgPolicy::none(d);

  const bool validName = !d.empty() && d.size() <= 200 && d.find("..") == std::string::npos &&
                         std::all_of(d.begin(), d.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
  if (!validName) {
    report.policy.level = OrgLevel::Private;
    report.policy.validation = Validation::Indeterminate;
    report.policy.reasons = {"\"" + d.substr(0, 64) + "\" is not a domain name; failing closed (private)"};
    report.cacheFor = options_.failureRetry;
    return report;
  }

  // A pin from an earlier secure record, unless it has run out.
  std::optional<Pin> pin;
  if (auto loaded = pins_.load(d); loaded && *loaded) {
    if ((*loaded)->expiresAt > now) pin = **loaded;
    else (void)pins_.remove(d);
  } else if (!loaded) {
    // Without knowing the pin we cannot know what may not be lowered: fail closed.
    report.policy.level = OrgLevel::Private;
    report.policy.validation = Validation::Indeterminate;
    report.policy.reasons = {"pin store unavailable (" + loaded.error().message + "); failing closed (private)"};
    report.cacheFor = options_.failureRetry;
    return report;
  }
  report.pin = pin;

  auto fromPin = [&](Validation v, const std::string& why) {
    OrgPolicy p;
    p.domain = d;
    p.level = pin->level;
    p.label = pin->label;
    p.allow = pin->allow;
    p.validation = v;
    p.pinned = true;
    p.reasons = {why, "pinned from a secure record (" + pin->recordText + ") until " + isoTime(pin->expiresAt)};
    return p;
  };

  // Decides from one answer; nullopt means "securely nothing here" (try the organisational domain).
  auto decide = [&](const TxtAnswer& ans, const std::string& name, bool fromOrg) -> std::optional<OrgPolicy> {
    report.queriedName = name;
    report.answer = ans;
    report.records.clear();
    for (const auto& strings : ans.records) report.records.push_back(parsePolicyRecord(strings));
    for (const auto& r : report.records) {
      if (r.kind == ParsedRecord::Kind::Invalid) report.notes.push_back("invalid record ignored: " + r.error);
    }
    const ParsedRecord* best = strictest(report.records, fromOrg);
    const auto cache = std::min(ans.ttl, options_.maxCache);
    switch (ans.security) {
      case Security::Secure: {
        report.cacheFor = cache;
        if (!best && ans.kind == TxtAnswer::Kind::Records) {
          // TXT records exist here, none a valid policy: that is not a proven absence of a record,
          // so the organisational domain is not consulted.
          if (pin) return fromPin(Validation::Secure, "no valid policy record at " + name + "; pinned policy kept");
          OrgPolicy p = OrgPolicy::none(d);
          p.reasons = {"no valid policy record at " + name + " (secure)"};
          return p;
        }
        if (!best) return std::nullopt;
        if (report.records.size() > 1 &&
            std::count_if(report.records.begin(), report.records.end(),
                          [](const ParsedRecord& r) { return r.kind == ParsedRecord::Kind::Valid; }) > 1) {
          report.notes.push_back("several valid records published; the strictest applies (publish only one)");
        }
        const PolicyRecord& rec = best->record;
        const long long signedAt =
            ans.signedAt ? std::chrono::duration_cast<std::chrono::seconds>(ans.signedAt->time_since_epoch()).count() : 0;
        const OrgLevel level = fromOrg ? rec.sp.value_or(rec.p) : rec.p;
        // Validly signed, but not newer than the record behind the pin (signed earlier, or in the
        // same signing period with other content - signers such as PowerDNS give a whole week one
        // inception), or from the organisational domain while the pin was proven at the domain's
        // own name (reached through a replayed denial of that name): data an attacker can replay
        // while its signature lasts. It never lowers the pin nor widens its allow-list.
        const bool otherName = pin && !pin->provenAt.empty() && pin->provenAt != name;
        const bool older = pin && pin->signedAt > 0 &&
                           (signedAt < pin->signedAt || (signedAt == pin->signedAt && best->text != pin->recordText));
        const bool replayed = older || (otherName && level <= pin->level);
        if (replayed && level <= pin->level) {
          return fromPin(Validation::Secure,
                         "secure record at " + name + " signed " + isoTime(signedAt) + (otherName ? ", not where" : ", not after") +
                             " the pinned record (signed " + isoTime(pin->signedAt) +
                             "): an older answer cannot lower a pinned policy");
        }
        OrgPolicy p;
        p.domain = d;
        p.level = level;
        p.label = rec.label;
        p.allow = rec.allow;
        p.validation = Validation::Secure;
        p.reasons = {"secure record at " + name + (fromOrg ? " (organisational domain, sp=)" : "") + ": " + best->text};
        for (const auto& w : rec.warnings) p.reasons.push_back("record warning: " + w);
        if (replayed) {
          // older but stricter: its level applies (tightening is always allowed), but only what both
          // allow-lists admit; the pin stays as it is
          std::vector<std::string> both;
          for (const auto& a : p.allow) {
            if (std::find(pin->allow.begin(), pin->allow.end(), a) != pin->allow.end()) both.push_back(a);
          }
          p.allow = std::move(both);
          p.reasons.push_back("signed before the pinned record: applied because it is stricter, with only the "
                              "allow-list entries the pinned record has too; the pin is kept");
        } else if (rec.ma.count() > 0) {
          Pin next{d, p.level, p.label, p.allow, now + rec.ma.count(), best->text, signedAt, name};
          if (auto saved = pins_.save(next); !saved) report.notes.push_back("pin not saved: " + saved.error().message);
          report.pin = next;
        } else {
          (void)pins_.remove(d);
          report.pin.reset();
        }
        return p;
      }
      case Security::Insecure: {
        report.cacheFor = std::min(cache, std::chrono::seconds(300));  // unsigned TTLs are not trusted
        const std::string why = "unsigned answer at " + name + " (" + ans.reason + ")";
        if (options_.unsignedRecords == UnsignedMode::Ignore || !best) {
          if (pin) return fromPin(Validation::Insecure, why + "; pinned policy kept");
          OrgPolicy p = OrgPolicy::none(d);
          p.validation = Validation::Insecure;
          p.reasons = {why + (best ? "; dns.unsigned is ignore" : "; no valid record")};
          return p;
        }
        const OrgLevel level = fromOrg ? best->record.sp.value_or(best->record.p) : best->record.p;
        const OrgLevel floor = pin ? pin->level : OrgLevel::None;
        if (level <= floor) {
          if (pin) return fromPin(Validation::Insecure, why + "; an unsigned record cannot lower a pinned policy");
          OrgPolicy p = OrgPolicy::none(d);
          p.validation = Validation::Insecure;
          p.reasons = {why + ": " + best->text};
          return p;
        }
        OrgPolicy p;
        p.domain = d;
        p.level = level;  // tightens only; its allow-list is not trusted (Insecure is not trusted())
        p.label = best->record.label;
        p.allow = best->record.allow;
        p.validation = Validation::Insecure;
        p.reasons = {why + ": " + best->text, "unsigned data may only tighten: applied because it is stricter"};
        return p;
      }
      case Security::Bogus:
      case Security::Indeterminate: {
        report.cacheFor = options_.failureRetry;
        const std::string why = std::string(toString(ans.security)) + " answer at " + name + ": " + ans.reason;
        if (pin) return fromPin(validationOf(ans.security), why + "; pinned policy kept");
        OrgPolicy p;
        p.domain = d;
        p.level = OrgLevel::Private;
        p.validation = validationOf(ans.security);
        p.reasons = {why, "no pinned policy: failing closed (private)"};
        return p;
      }
    }
    return std::nullopt;
  };

  const std::string exact = "_calendar-privacy." + d + ".";
  if (auto p = decide(validator_.lookupTxt(exact), exact, false)) {
    report.policy = *p;
    return report;
  }
  const std::string org = organisationalDomain(d);
  if (!org.empty() && org != d) {
    const std::string orgName = "_calendar-privacy." + org + ".";
    report.notes.push_back("no record at " + exact + " (proven); trying the organisational domain " + org);
    if (auto p = decide(validator_.lookupTxt(orgName), orgName, true)) {
      report.policy = *p;
      return report;
    }
  }
  // Securely nothing: no policy, but a pin stays until it runs out.
  if (pin) {
    report.policy = fromPin(Validation::NoRecord, "no record published (proven); pinned policy kept");
  } else {
    report.policy = OrgPolicy::none(d);
    report.policy.reasons = {"no record published at " + exact + " (proven by DNSSEC)"};
  }
  return report;
}

}  // namespace calgate::dns
