#include "calgate/policy/content_hash.hpp"

#include "calgate/core/hash.hpp"

#include <algorithm>
#include <cctype>

namespace calgate::policy {
namespace {

using namespace calgate::model;

void field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += '=';
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

std::string timeText(const EventTime& t) {
  if (const auto* d = std::get_if<Date>(&t)) return "date " + formatDate(d->day);
  if (const auto* z = std::get_if<ZonedTime>(&t)) return "zoned " + formatUtc(z->instant) + " " + z->zone;
  return "floating " + formatLocal(std::get<FloatingTime>(t).local);
}

}  // namespace

std::string canonicalForm(const ApprovedWrite& write) {
  const Event& e = write.event();
  std::string out = "calgate-content-v2\n";
  field(out, "action", write.action() == ApprovedWrite::Action::Upsert ? "upsert" : "delete");
  field(out, "target", toString(write.target()));
  field(out, "uid", e.uid);
  field(out, "origin.pair", e.origin ? e.origin->pairId : "");
  field(out, "origin.source", e.origin ? e.origin->sourceKey : "");
  field(out, "recurrence_id", e.recurrenceId ? timeText(*e.recurrenceId) : "");
  if (write.action() == ApprovedWrite::Action::Delete) return out;
  field(out, "title", e.title);
  field(out, "description", e.description);
  field(out, "location", e.location);
  field(out, "start", timeText(e.start));
  field(out, "end", timeText(e.end));
  std::vector<std::string> recurrence = e.recurrence;
  std::sort(recurrence.begin(), recurrence.end());
  field(out, "recurrence.count", std::to_string(recurrence.size()));
  for (const auto& line : recurrence) field(out, "recurrence", line);
  field(out, "status", toString(e.status));
  field(out, "show_as", toString(e.showAs));
  field(out, "sensitivity", toString(e.sensitivity));
  // The evaluator already lower-cased, de-duplicated and sorted them: hashed as written.
  field(out, "attendees.count", std::to_string(e.attendees.size()));
  for (const auto& a : e.attendees) field(out, "attendee", a);
  return out;
}

std::string contentHash(const ApprovedWrite& write) { return core::sha256Hex(canonicalForm(write)); }

namespace {
constexpr std::string_view kKeyedPrefix = "k1:";
}  // namespace

std::string ContentHasher::of(const ApprovedWrite& write) const {
  if (key_.empty()) return contentHash(write);
  return std::string(kKeyedPrefix) + core::hmacSha256Hex(key_, canonicalForm(write));
}

bool ContentHasher::matches(std::string_view stored, const ApprovedWrite& write) const {
  if (stored.starts_with(kKeyedPrefix)) {
    return !key_.empty() && core::constantTimeEquals(stored, of(write));
  }
  return stored.size() == 64 && core::constantTimeEquals(stored, contentHash(write));
}

bool ContentHasher::current(std::string_view stored) const { return stored.starts_with(kKeyedPrefix) == !key_.empty(); }

}  // namespace calgate::policy
