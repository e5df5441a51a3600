#include "calgate/policy/evaluator.hpp"

#include "calgate/core/hash.hpp"

#include <algorithm>
#include <cctype>

namespace calgate::policy {
namespace {

using providers::Event;

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

Decision Evaluator::evaluate(const PairRules& rules, const OrgPolicy& org, const Event& source,
                             const WriteContext& context) const {
  Decision d;
  d.reasons.push_back("pair: " + std::string(toString(rules.mode)));

  if (source.origin) {
    d.mode = EffectiveMode::Denied;
    d.reasons.push_back("source is a copy written by calgate (pair " + source.origin->pairId +
                        "); copies are never mirrored");
    return d;
  }

  // Organisation: applies unless the target is inside the organisation or on its allow-list.
  EffectiveMode orgMode = EffectiveMode::Full;
  const std::string orgText = org.describe();
  if (org.level == OrgLevel::None) {
    d.reasons.push_back(orgText);
  } else if (org.admits(context.targetDomain)) {
    d.reasons.push_back(orgText + ": target domain " + quoted(context.targetDomain) +
                        " is inside the organisation or allowed; not applied");
  } else {
    orgMode = org.level == OrgLevel::Block ? EffectiveMode::Denied : EffectiveMode::Private;
    d.reasons.push_back(orgText + ": target domain " + quoted(context.targetDomain) +
                        (orgMode == EffectiveMode::Denied ? " is not allowed; write denied" : " is outside; stripped"));
  }
  const EffectiveMode pairMode = rules.mode == PrivacyMode::Private ? EffectiveMode::Private : EffectiveMode::Full;
  d.mode = std::max(pairMode, orgMode);
  d.reasons.push_back("effective: " + std::string(toString(d.mode)));
  if (d.mode == EffectiveMode::Denied) return d;

  Event out;
  out.uid = targetUid(context.pairId, context.sourceKey);
  out.origin = providers::Origin{context.pairId, context.sourceKey};

  if (source.status == providers::Status::Cancelled) {
    d.reasons.push_back("source cancelled: delete the copy");
    d.write = ApprovedWrite(ApprovedWrite::Action::Delete, std::move(out), context.targetProvider);
    return d;
  }

  out.start = source.start;
  out.end = source.end;
  out.recurrence = source.recurrence;
  out.recurrenceId = source.recurrenceId;
  out.status = source.status;
  out.showAs = rules.showAsOverride.value_or(source.showAs);
  if (rules.showAsOverride) d.reasons.push_back("show-as overridden to " + std::string(providers::toString(out.showAs)));

  if (d.mode == EffectiveMode::Private) {
    // The organisation's label wins when it is the organisation that strips the event.
    const bool orgStrips = orgMode == EffectiveMode::Private;
    const std::string label = sanitiseLabel(orgStrips && org.label ? *org.label : rules.label);
    out.title = label;
    out.sensitivity = providers::Sensitivity::Private;
    d.reasons.push_back("title replaced by " + quoted(label) + "; description, location and attendees cleared");
    d.write = ApprovedWrite(ApprovedWrite::Action::Upsert, std::move(out), context.targetProvider);
    return d;
  }

  out.title = source.title;
  out.sensitivity = source.sensitivity;
  if (rules.description == FieldRule::Keep) out.description = source.description;
  else d.reasons.push_back("description cleared (pair rule)");
  if (rules.location == FieldRule::Keep) out.location = source.location;
  else d.reasons.push_back("location cleared (pair rule)");
  if (!source.attendees.empty()) {
    if (rules.attendees == AttendeeRule::Omit) {
      d.reasons.push_back("attendees omitted (pair rule)");
    } else if (context.targetInvitesAttendees) {
      d.reasons.push_back("attendees omitted: the target would invite them");
    } else {
      out.attendees = source.attendees;
    }
  }
  d.write = ApprovedWrite(ApprovedWrite::Action::Upsert, std::move(out), context.targetProvider);
  return d;
}

}  // namespace calgate::policy
