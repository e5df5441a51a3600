// Push notifications: POST /webhooks/google, /webhooks/microsoft and its lifecycle URL.
// Unauthenticated by nature (the providers post to a public URL): a notification proves itself by
// its channel's token (PushInbox). Nothing here calls a provider; the answer goes back at once and
// a coalesced sync runs on the workers.

#include "calgate/core/log.hpp"
#include "calgate/sync/push_inbox.hpp"
#include "calgate/sync/push_metrics.hpp"
#include "support.hpp"


namespace calgate::api {
namespace {

std::string headerOf(const http::Request& request, std::string_view name) {
  auto v = request.header(name);
  return v ? std::string(*v) : std::string();
}

http::Response answer(Services& services, const http::Request& request, const sync::PushReceipt& receipt, int ok);

http::Response receiveGoogle(Services& services, const http::Request& request) {
  // Google's notifications have no body; anything else is not one
  if (!request.body.empty() || request.contentLength.value_or(0) > 0) {
    if (services.pushMetrics) services.pushMetrics->notification("google", sync::PushOutcome::Rejected);
    return http::problem(400, "push-rejected", "Bad Request", "a Google notification has no body");
  }
  sync::GoogleNotification n{headerOf(request, "x-goog-channel-id"), headerOf(request, "x-goog-channel-token"),
                             headerOf(request, "x-goog-resource-id"), headerOf(request, "x-goog-resource-state"),
                             headerOf(request, "x-goog-message-number")};
  sync::QueueOptions queue;
  queue.signal = services.jobSignal;
  auto receipt = sync::PushInbox(*services.db, *services.clock, queue).google(n);
  if (!receipt) return failure(receipt.error(), request);
  if (services.pushMetrics) services.pushMetrics->notification("google", receipt->outcome);
  return answer(services, request, *receipt, 200);
}

// The answer to a checked notification: `ok` (Google 200, Graph 202) for genuine ones and for
// channels calgate no longer has (nothing to retry), 401 for forged ones; a client sending too
// many that are not calgate's is told to wait.
http::Response answer(Services& services, const http::Request& request, const sync::PushReceipt& receipt, int ok) {
  const bool genuine = receipt.outcome == sync::PushOutcome::Queued || receipt.outcome == sync::PushOutcome::NoWork;
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
                                                   {"outcome", receipt.outcome == sync::PushOutcome::Unknown ? "unknown" : "rejected"},
                                                   {"reason", receipt.reason}});
  }
  if (receipt.outcome == sync::PushOutcome::Rejected) {
    return http::problem(401, "push-rejected", "Unauthorized", "not a notification of a channel calgate opened");
  }
  return http::Response::text(ok, "");
}

constexpr std::size_t kMaxValidationToken = 1024;
constexpr std::size_t kMaxGraphBody = 256 * 1024;

// Graph's validation handshake (both URLs, before a subscription exists): 200, text/plain, the
// decoded token, at once. nullopt when the request is not one.
std::optional<http::Response> validation(const http::Request& request) {
  auto query = http::parseQuery(request.query);
  if (!query) return std::nullopt;
  for (const auto& [name, value] : *query) {
    if (name != "validationToken") continue;
    if (value.empty() || value.size() > kMaxValidationToken) {
      return http::problem(400, "push-rejected", "Bad Request", "a validation token is 1 to 1024 characters");
    }
    http::Response r = http::Response::text(200, value);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
  }
  return std::nullopt;
}

// A POST that cannot be a Graph notification, answered without looking further.
std::optional<http::Response> unfitGraphBody(const http::Request& request) {
  if (request.body.empty()) return http::problem(400, "push-rejected", "Bad Request", "neither a validation request nor a notification");
  if (!request.hasMediaType("application/json")) {
    return http::problem(415, "unsupported-media-type", "Unsupported Media Type", "Graph notifications are application/json");
  }
  if (request.body.size() > kMaxGraphBody) {
    return http::problem(413, "body-too-large", "Content Too Large", "a Graph notification is at most 256 KiB");
  }
  return std::nullopt;
}

// Change notifications and lifecycle events (the same envelope): 202 at once.
http::Response receiveMicrosoft(Services& services, const http::Request& request) {
  if (auto handshake = validation(request)) {
    if (services.pushMetrics && handshake->status == 200) services.pushMetrics->validation();
    return *handshake;
  }
  if (auto refused = unfitGraphBody(request)) {
    if (services.pushMetrics) services.pushMetrics->notification("microsoft", sync::PushOutcome::Rejected);
    return *refused;
  }
  sync::QueueOptions queue;
  queue.signal = services.jobSignal;
  auto receipt = sync::PushInbox(*services.db, *services.clock, queue).microsoft(request.body);
  if (!receipt) return failure(receipt.error(), request);
  if (services.pushMetrics) services.pushMetrics->notification("microsoft", receipt->outcome);
  return answer(services, request, *receipt, 202);
}

}  // namespace

void addWebhookRoutes(http::Router& router, Services& services) {
  router.add({"POST", "/webhooks/google", false, [&services](http::Request& request) { return receiveGoogle(services, request); }});
  router.add({"POST", "/webhooks/microsoft", false, [&services](http::Request& request) { return receiveMicrosoft(services, request); }});
  router.add({"POST", "/webhooks/microsoft/lifecycle", false,
              [&services](http::Request& request) { return receiveMicrosoft(services, request); }});
}

}  // namespace calgate::api
