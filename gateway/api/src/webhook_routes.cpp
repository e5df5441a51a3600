// Push notifications: POST /webhooks/google. Unauthenticated by nature (Google posts to a public
// URL): a notification proves itself by its channel's token (PushInbox). Nothing here calls a
// provider; the answer goes back at once and a coalesced sync runs on the workers.

#include "calgate/core/log.hpp"
#include "calgate/sync/push_inbox.hpp"
#include "support.hpp"

namespace calgate::api {
namespace {

std::string headerOf(const http::Request& request, std::string_view name) {
  auto v = request.header(name);
  return v ? std::string(*v) : std::string();
}

http::Response receiveGoogle(Services& services, const http::Request& request) {
  // Google's notifications have no body; anything else is not one
  if (!request.body.empty() || request.contentLength.value_or(0) > 0) {
    return http::problem(400, "push-rejected", "Bad Request", "a Google notification has no body");
  }
  sync::GoogleNotification n{headerOf(request, "x-goog-channel-id"), headerOf(request, "x-goog-channel-token"),
                             headerOf(request, "x-goog-resource-id"), headerOf(request, "x-goog-resource-state"),
                             headerOf(request, "x-goog-message-number")};
  sync::QueueOptions queue;
  queue.signal = services.jobSignal;
  auto receipt = sync::PushInbox(*services.db, *services.clock, queue).google(n);
  if (!receipt) return failure(receipt.error(), request);
  const bool genuine = receipt->outcome == sync::PushOutcome::Queued || receipt->outcome == sync::PushOutcome::NoWork;
  if (!genuine) {
    // forged or stale notifications cost their sender (per client address), never real channels
    if (services.webhookLimiter) {
      if (const auto wait = services.webhookLimiter->take("client:" + request.clientAddress)) {
        http::Response r = http::problem(429, "rate-limited", "Too Many Requests", "too many notifications that were not calgate's");
        r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
        return r;
      }
    }
    core::log::info("push.notification_refused", {{"request_id", request.requestId},
                                                   {"outcome", receipt->outcome == sync::PushOutcome::Unknown ? "unknown" : "rejected"},
                                                   {"reason", receipt->reason}});
  }
  if (receipt->outcome == sync::PushOutcome::Rejected) {
    return http::problem(401, "push-rejected", "Unauthorized", "not a notification of a channel calgate opened");
  }
  // unknown channels (stopped, expired) are answered like genuine ones: Google has nothing to retry
  return http::Response::text(200, "");
}

}  // namespace

void addWebhookRoutes(http::Router& router, Services& services) {
  router.add({"POST", "/webhooks/google", false, [&services](http::Request& request) { return receiveGoogle(services, request); }});
}

}  // namespace calgate::api
