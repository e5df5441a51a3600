#include "calgate/sync/push_inbox.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/push_channels.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <algorithm>
#include <set>

namespace calgate::sync {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxHeader = 256;  // Google's channel ids are at most 64, tokens at most 256

std::string text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

PushReceipt rejected(std::string why) { return {PushOutcome::Rejected, 0, std::move(why)}; }

bool digits(std::string_view s) {
  return !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string channelTokenHash(std::string_view token) { return core::sha256Hex(token); }

PushInbox::PushInbox(store::Database& db, const core::Clock& clock, QueueOptions queue)
    : db_(db), clock_(clock), queue_(db, clock, std::move(queue)) {}

core::Result<PushReceipt> PushInbox::google(const GoogleNotification& n) {
  for (const auto* h : {&n.channelId, &n.token, &n.resourceId, &n.resourceState, &n.messageNumber}) {
    if (h->empty() || h->size() > kMaxHeader) return rejected("a required X-Goog header is missing or too long");
  }
  if (!digits(n.messageNumber)) return rejected("the message number is not a number");
  if (n.resourceState != "sync" && n.resourceState != "exists" && n.resourceState != "not_exists") {
    return rejected("unknown resource state");
  }
  auto found = PushChannelStore(db_, clock_).find(n.channelId);
  if (!found) return std::unexpected(found.error());
  if (!*found || (*found)->provider != "google") return PushReceipt{PushOutcome::Unknown, 0, "no such channel"};
  const PushChannel& channel = **found;
  if (!core::constantTimeEquals(channelTokenHash(n.token), channel.tokenSha256)) return rejected("wrong channel token");
  // while the channel is being opened its resource id is not known yet (Google may notify first)
  if (channel.active && channel.resourceId != n.resourceId) return rejected("the resource id is not the channel's");
  if (channel.expiresAt <= clock_.nowUnixSeconds()) return PushReceipt{PushOutcome::Unknown, 0, "the channel has expired"};
  if (n.resourceState == "sync") return PushReceipt{PushOutcome::NoWork, 0, ""};
  auto queued = queueReaders(channel.calendarId);
  if (!queued) return std::unexpected(queued.error());
  return PushReceipt{PushOutcome::Queued, *queued, ""};
}

// A sync of every runnable pair reading the calendar, coalesced with one already queued.
core::Result<std::size_t> PushInbox::queueReaders(const std::string& calendarId) {
  auto pairs = PairStore(db_, clock_).listRunnableReading(calendarId);
  if (!pairs) return std::unexpected(pairs.error());
  std::size_t added = 0;
  const long long arrived =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
  for (const auto& p : *pairs) {
    auto queued = queue_.enqueueNotified("sync_pair", p.id, "sync:" + p.id, arrived);
    if (!queued) return std::unexpected(queued.error());
    added += *queued ? 1 : 0;
  }
  return added;
}

core::Result<PushReceipt> PushInbox::microsoft(std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("value") || !doc["value"].is_array()) {
    return rejected("not a Graph notification: {\"value\": [...]} expected");
  }
  const json& items = doc["value"];
  if (items.empty() || items.size() > kMaxGraphItems) return rejected("a Graph notification holds 1 to 100 items");
  PushReceipt receipt{PushOutcome::Unknown, 0, "no such subscription"};
  bool rejectedAny = false, upkeep = false;
  std::set<std::string> changed;  // calendars to sync: once each, however many items name them
  for (const auto& item : items) {
    auto outcome = graphItem(item, changed, upkeep);
    if (!outcome) return std::unexpected(outcome.error());
    if (*outcome == PushOutcome::Queued || *outcome == PushOutcome::NoWork) receipt.outcome = PushOutcome::Queued;
    rejectedAny = rejectedAny || *outcome == PushOutcome::Rejected;
  }
  if (receipt.outcome != PushOutcome::Queued && rejectedAny) return rejected("a wrong clientState or subscription, or a malformed item");
  if (receipt.outcome == PushOutcome::Queued) receipt.reason.clear();
  for (const auto& calendar : changed) {
    auto queued = queueReaders(calendar);
    if (!queued) return std::unexpected(queued.error());
    receipt.pairsQueued += *queued;
  }
  if (upkeep) {
    if (auto queued = queue_.enqueue("push_maintain", "", "push"); !queued) return std::unexpected(queued.error());
  }
  return receipt;
}

// One item of a Graph POST: checked against its channel, then acted on.
core::Result<PushOutcome> PushInbox::graphItem(const json& item, std::set<std::string>& changed, bool& upkeep) {
  const std::string state = item.is_object() ? text(item, "clientState") : std::string();
  const std::string subscription = item.is_object() ? text(item, "subscriptionId") : std::string();
  if (state.empty() || state.size() > 128 || subscription.empty() || subscription.size() > kMaxHeader) return PushOutcome::Rejected;
  PushChannelStore channels(db_, clock_);
  auto found = channels.findByTokenHash(channelTokenHash(state));
  if (!found) return std::unexpected(found.error());
  if (!*found || (*found)->provider != "microsoft") return PushOutcome::Unknown;
  const PushChannel& channel = **found;
  // before Graph's answer is recorded the subscription id is not known yet (a notification may come first)
  if (channel.active && channel.resourceId != subscription) return PushOutcome::Rejected;
  if (channel.expiresAt <= clock_.nowUnixSeconds()) return PushOutcome::Unknown;
  const std::string lifecycle = text(item, "lifecycleEvent");
  if (lifecycle == "reauthorizationRequired") {
    upkeep = true;
    if (auto ok = channels.setReauthorize(channel.id, true); !ok) return std::unexpected(ok.error());
    return PushOutcome::NoWork;
  }
  if (lifecycle == "subscriptionRemoved") {
    upkeep = true;  // a new subscription, and a sync for what may have been missed meanwhile
    if (auto ok = channels.remove(channel.id); !ok) return std::unexpected(ok.error());
  } else if (!lifecycle.empty() && lifecycle != "missed") {
    return PushOutcome::NoWork;  // a lifecycle event calgate does not know yet: taken, nothing done
  }
  changed.insert(channel.calendarId);
  return PushOutcome::Queued;
}

}  // namespace calgate::sync
