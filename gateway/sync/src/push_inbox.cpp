#include "calgate/sync/push_inbox.hpp"

#include "calgate/core/hash.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/push_channels.hpp"

#include <algorithm>

namespace calgate::sync {

namespace {

constexpr std::size_t kMaxHeader = 256;  // Google's channel ids are at most 64, tokens at most 256

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
  auto pairs = PairStore(db_, clock_).listRunnableReading(channel.calendarId);
  if (!pairs) return std::unexpected(pairs.error());
  PushReceipt receipt{PushOutcome::Queued, 0, ""};
  for (const auto& p : *pairs) {
    auto queued = queue_.enqueue("sync_pair", p.id, "sync:" + p.id);
    if (!queued) return std::unexpected(queued.error());
    receipt.pairsQueued += *queued ? 1 : 0;
  }
  return receipt;
}

}  // namespace calgate::sync
