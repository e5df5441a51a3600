#pragma once
// The request layer of the Google adapter: the bearer token (a 401 drops it and retries once with
// a new one), Google's error bodies read into core::Error by reason, in-call retries of rate limits
// and 5xx with exponential backoff and full jitter, and a size check of every answer. Private to
// the adapter.

#include "calgate/providers/google/batch.hpp"
#include "calgate/providers/google/google_provider.hpp"
#include "calgate/providers/http/bearer_call.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace calgate::providers::google {

using Query = std::vector<std::pair<std::string, std::string>>;

struct Answer {
  long status = 0;
  nlohmann::json body;    ///< null for an empty body
  std::size_t bytes = 0;  ///< of the body as received
};

/// "?k=v&k2=v2", percent-encoded ("" for none).
std::string queryString(const Query& query);

/// "a@b.c" -> "a%40b.c": one path segment.
std::string segment(std::string_view raw);

/// The reason of a Google error body ("rateLimitExceeded"), "" when there is none.
std::string errorReason(const nlohmann::json& body);

class Api {
 public:
  Api(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GoogleEndpoints endpoints, GoogleOptions options);

  /// `method` `path` (below calendar/v3/, segments already encoded) with `query` and an optional
  /// JSON `body`. 2xx and 304 are answers, as are the statuses in `passThrough`; any other status is
  /// an error: 401 Unauthorized (after one retry with a new token), 403 insufficientPermissions
  /// Unauthorized, rate limits RateLimited (after the in-call retries), quota RateLimited with cause
  /// QuotaExceeded, 404 NotFound, 409 Conflict, 410 Gone, 412 PreconditionFailed, 5xx Unavailable,
  /// other 4xx Invalid (cause WriteRefused for writes). A body that is not JSON is Invalid.
  core::Result<Answer> call(std::string_view method, const std::string& path, const Query& query = {},
                            const nlohmann::json* body = nullptr,
                            std::vector<std::pair<std::string, std::string>> headers = {},
                            std::initializer_list<long> passThrough = {});

  /// The error call() gives for an answer's status, for an answer the caller let pass through.
  core::Error errorOf(const Answer& answer, bool write) const;

  /// `parts` in one batch request (batch/calendar/v3 below the API root): one answer per part, in
  /// order. Every part counts against the pacing, as Google counts each against the per-user rate.
  /// The outer request fails as call() does (a 401 retried with a new token, rate limits and 5xx
  /// retried in the call); an answer that is not a well-formed batch of as many parts is Invalid.
  /// The parts' statuses are the caller's to judge.
  core::Result<std::vector<PartAnswer>> batch(const std::vector<BatchPart>& parts);
  /// The path of the API root ("/" for https://www.googleapis.com/): batch parts' targets start with it.
  const std::string& rootPath() const { return rootPath_; }

  std::size_t requests() const { return requests_.load(); }
  const GoogleOptions& options() const { return options_; }
  const core::Clock& clock() const { return clock_; }

 private:
  core::Result<HttpResponse> once(const HttpRequest& request, std::size_t weight = 1);
  /// Judges an answer of call() or batch(): returned, retried (rate limits, 5xx) or failed.
  Verdict judge(const HttpResponse& r, const nlohmann::json& answer, int attempt, bool write,
                std::initializer_list<long> passThrough);
  BearerCall bearerCall(std::size_t weight, bool jsonAnswers);
  std::chrono::milliseconds backoff(int attempt);

  HttpClient& http_;
  AccessTokens& tokens_;
  const core::Clock& clock_;
  GoogleEndpoints endpoints_;
  GoogleOptions options_;
  std::string rootPath_ = "/";
  std::atomic<std::size_t> requests_{0};
  std::mutex randomMutex_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace calgate::providers::google
