#include "calgate/policy/evaluator.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/model/recurrence.hpp"

#include <algorithm>
#include <cctype>

namespace calgate::policy {
namespace {

using model::Event;

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Valid UTF-8 prefix of `s` no longer than `max` bytes.
std::string_view utf8Prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

}  // namespace

std::string sanitiseLabel(std::string_view label) {
  std::string clean;
  for (unsigned char c : label) {
    if (c < 0x20 || c == 0x7F) continue;
    clean.push_back(static_cast<char>(c));
  }
  std::size_t b = 0, e = clean.size();
  while (b < e && clean[b] == ' ') ++b;
  while (e > b && clean[e - 1] == ' ') --e;
  std::string out(utf8Prefix(std::string_view(clean).substr(b, e - b), 100));
  return out.empty() ? std::string(kDefaultLabel) : out;
}

std::string targetUid(std::string_view pairId, std::string_view sourceKey) {
  std::string material = "calgate-uid\n";
  material += std::to_string(pairId.size()) + ":" + std::string(pairId) + "\n";
  material += std::to_string(sourceKey.size()) + ":" + std::string(sourceKey);
  return "calgate-" + core::sha256Hex(material).substr(0, 32);
}

std::string_view toString(EffectiveMode m) {
  switch (m) {
    case EffectiveMode::Full: return "full";
    case EffectiveMode::Private: return "private";
    case EffectiveMode::Denied: return "denied";
  }
  return "denied";
}

std::string originReference(std::string_view pairId, std::string_view sourceKey) {
  std::string material = "calgate-origin\n";
  material += std::to_string(pairId.size()) + ":" + std::string(pairId) + "\n";
  material += std::to_string(sourceKey.size()) + ":" + std::string(sourceKey);
  return "src-" + core::sha256Hex(material).substr(0, 32);
}

namespace {

bool anchorsFloatingTimes(model::ProviderKind target) { return target != model::ProviderKind::CalDav; }

// Canonical zone names; floating times anchored in `zone` when the target has none. False when a
// zone is unknown.
bool normaliseTime(model::EventTime& t, bool anchorFloating, const std::string& zone) {
  if (auto* z = std::get_if<model::ZonedTime>(&t)) {
    auto canonical = model::canonicalZone(z->zone);
    if (!canonical) return false;
    z->zone = std::move(*canonical);
  } else if (auto* f = std::get_if<model::FloatingTime>(&t); f && anchorFloating) {
    auto anchored = model::zonedFromLocal(f->local, zone);
    if (!anchored) return false;
    t = *anchored;
  }
  return true;
}

// Lower-cased, de-duplicated, sorted; anything that is not a plain address is dropped.
std::vector<std::string> normaliseAttendees(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& a : in) {
    if (a.size() > 254 || a.find('@') == std::string::npos || a.find_first_of(" \t\r\n,;:<>\"") != std::string::npos) {
      continue;
    }
    std::string l = a;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}


std::string domainsText(const std::vector<std::string>& domains) {
  if (domains.empty()) return "the target (proven inside no organisation) is";
  std::string out = "target domain" + std::string(domains.size() > 1 ? "s " : " ");
  for (std::size_t i = 0; i < domains.size(); ++i) out += (i ? ", " : "") + quoted(domains[i]);
  return out + (domains.size() > 1 ? " are" : " is");
}

struct OrgVerdict {
  EffectiveMode mode = EffectiveMode::Full;
  std::optional<std::string> label;  ///< of the organisation that strips, when one does
};

// Each organisation applies unless the target is proven inside it or (trusted data only) on its
// allow-list. Unproven data only tightens; a failed lookup without a pin fails closed. The
// strictest verdict wins; the first organisation that strips gives the label.
OrgVerdict judgeOrganisations(std::span<const OrgPolicy> orgs, const std::vector<std::string>& targets,
                              std::vector<std::string>& reasons) {
  OrgVerdict verdict;
  if (orgs.empty()) reasons.push_back("org: the source belongs to no proven domain; no organisation policy");
  for (const OrgPolicy& org : orgs) {
    const std::string orgText = org.describe();
    const OrgLevel level = org.failClosed() ? std::max(org.level, OrgLevel::Private) : org.level;
    if (level == OrgLevel::None) {
      reasons.push_back(orgText);
      continue;
    }
    if (org.admitsTarget(targets)) {
      reasons.push_back(orgText + ": " + domainsText(targets) + " inside the organisation or allowed; not applied");
      continue;
    }
    const EffectiveMode mode = level == OrgLevel::Block ? EffectiveMode::Denied : EffectiveMode::Private;
    std::string why = orgText + ": " + domainsText(targets);
    why += mode == EffectiveMode::Denied ? " not allowed; write denied" : " outside; stripped";
    if (org.failClosed() && org.level < OrgLevel::Private) why += " (lookup not proven: failing closed)";
    if (!org.trusted() && !org.allow.empty()) why += " (allow-list ignored: not proven)";
    reasons.push_back(std::move(why));
    if (mode == EffectiveMode::Private && verdict.mode == EffectiveMode::Full) verdict.label = org.label;
    verdict.mode = std::max(verdict.mode, mode);
  }
  return verdict;
}

}  // namespace

Decision Evaluator::evaluate(const PairRules& rules, std::span<const OrgPolicy> orgs, const Event& source,
                             const WriteContext& context) const {
  Decision d;
  d.reasons.push_back("pair: " + std::string(toString(rules.mode)));

  if (source.origin) {
    d.mode = EffectiveMode::Denied;
    d.reasons.push_back("source is a copy written by calgate (pair " + source.origin->pairId +
                        "); copies are never mirrored");
    return d;
  }

  Event out;
  const std::string& seed = context.copySeed.empty() ? context.pairId : context.copySeed;
  out.uid = targetUid(seed, context.seriesKey.value_or(context.sourceKey));
  out.origin = model::Origin{seed, originReference(seed, context.sourceKey)};
  out.recurrenceId = source.recurrenceId;
  const bool anchor = anchorsFloatingTimes(context.targetProvider);
  if (out.recurrenceId && !normaliseTime(*out.recurrenceId, anchor, context.targetZone)) {
    d.mode = EffectiveMode::Denied;
    d.reasons.push_back("source event has an unknown time zone; not written");
    return d;
  }
  auto deleteCopy = [&](EffectiveMode mode, std::string reason) {
    d.mode = mode;
    d.reasons.push_back(std::move(reason));
    d.write = ApprovedWrite(ApprovedWrite::Action::Delete, std::move(out), context);
    return d;
  };

  const OrgVerdict org = judgeOrganisations(orgs, context.targetDomains, d.reasons);
  const EffectiveMode orgMode = org.mode;
  const EffectiveMode pairMode = rules.mode == PrivacyMode::Private ? EffectiveMode::Private : EffectiveMode::Full;
  const EffectiveMode mode = std::max(pairMode, orgMode);
  d.reasons.push_back("effective: " + std::string(toString(mode)));
  if (mode == EffectiveMode::Denied) return deleteCopy(mode, "any existing copy is to be removed");
  if (source.status == model::Status::Cancelled) return deleteCopy(mode, "source cancelled: delete the copy");

  out.start = source.start;
  out.end = source.end;
  if (!normaliseTime(out.start, anchor, context.targetZone) || !normaliseTime(out.end, anchor, context.targetZone)) {
    d.mode = EffectiveMode::Denied;
    d.reasons.push_back("source event has an unknown time zone; not written");
    return d;
  }
  auto recurrence = model::normaliseRecurrence(source.recurrence);
  if (!recurrence) {
    d.mode = EffectiveMode::Denied;
    d.reasons.push_back("source recurrence rejected (" + recurrence.error().message + "); not written");
    return d;
  }
  out.recurrence = std::move(*recurrence);
  out.status = source.status;
  out.showAs = rules.showAsOverride.value_or(source.showAs);
  if (rules.showAsOverride) d.reasons.push_back("show-as overridden to " + std::string(model::toString(out.showAs)));
  d.mode = mode;

  if (mode == EffectiveMode::Private) {
    // The organisation's label wins when it is the organisation that strips the event.
    const bool orgStrips = orgMode == EffectiveMode::Private;
    const std::string label = sanitiseLabel(orgStrips && org.label ? *org.label : rules.label);
    out.title = label;
    out.sensitivity = model::Sensitivity::Private;
    d.reasons.push_back("title replaced by " + quoted(label) + "; description, location and attendees cleared");
    d.write = ApprovedWrite(ApprovedWrite::Action::Upsert, std::move(out), context);
    return d;
  }

  out.title = source.title;
  out.sensitivity = source.sensitivity;
  if (rules.description == FieldRule::Keep) out.description = source.description;
  else d.reasons.push_back("description cleared (pair rule)");
  if (rules.location == FieldRule::Keep) out.location = source.location;
  else d.reasons.push_back("location cleared (pair rule)");
  if (!source.attendees.empty()) {
    const bool invites = context.targetProvider != model::ProviderKind::CalDav || context.targetInvitesAttendees;
    if (rules.attendees == AttendeeRule::Omit) {
      d.reasons.push_back("attendees omitted (pair rule)");
    } else if (invites) {
      d.reasons.push_back("attendees omitted: the target would invite them");
    } else {
      out.attendees = normaliseAttendees(source.attendees);
    }
  }
  d.write = ApprovedWrite(ApprovedWrite::Action::Upsert, std::move(out), context);
  return d;
}

}  // namespace calgate::policy
