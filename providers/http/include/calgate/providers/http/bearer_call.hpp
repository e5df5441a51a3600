#pragma once
/// One call of an OAuth-protected JSON API, the part the Google and Microsoft Graph adapters share:
/// the account's bearer token put in (a 401 drops it and retries once with a fresh one), transport
/// failures (Timeout, Unavailable; never a spent run budget) retried with the caller's backoff, the
/// body read as JSON (a 2xx whose body is not JSON is Invalid; any other answer's is null then),
/// and every answer handed to the caller's `judge`, which decides: return it, wait and send again,
/// or fail with the caller's error. Include from adapter sources only (nlohmann/json.hpp).
/// Thread-safe as `send`, `sleep` and the AccessTokens are.

#include "calgate/providers/http/access_tokens.hpp"
#include "calgate/providers/http/http_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace calgate::providers {

/// What `judge` decides about an answer.
struct Verdict {
  enum class Kind { Answer, Retry, Fail };
  Kind kind = Kind::Answer;
  std::chrono::milliseconds wait{0};  ///< Retry: how long to wait first
  core::Error error;                  ///< Fail

  static Verdict answer() { return {}; }
  static Verdict retry(std::chrono::milliseconds wait) { return {Kind::Retry, wait, {}}; }
  static Verdict fail(core::Error error) { return {Kind::Fail, {}, std::move(error)}; }
};

struct BearerAnswer {
  HttpResponse response;
  nlohmann::json body;  ///< null for an empty body (or a non-2xx body that is not JSON)
};

struct BearerCall {
  std::string service;  ///< "Google Calendar", "Microsoft Graph": for messages
  int maxAttempts = 4;  ///< sends of one request on transport failures
  std::function<core::Result<HttpResponse>(const HttpRequest&)> send;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::milliseconds(int attempt)> backoff;
  /// False for an API whose answer is not JSON (Google's multipart batch): the body is left in
  /// the response for the caller and `body` stays null.
  bool jsonAnswers = true;
};

/// Sends `request` (its headers without Authorization) as described above. `judge(response, body,
/// attempt)` is asked for every answer but a first 401: attempt counts from 0 and is the caller's
/// to compare with its own limit before it asks for a retry.
core::Result<BearerAnswer> callWithBearer(HttpRequest request, AccessTokens& tokens, const BearerCall& call,
                                          const std::function<Verdict(const HttpResponse&, const nlohmann::json&, int attempt)>& judge);

}  // namespace calgate::providers
