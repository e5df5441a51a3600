#pragma once
// The request layer of the Graph adapter: the bearer token (a 401 drops it and retries once with a
// new one), Graph's error bodies read into core::Error by code, in-call retries of 429/503/5xx
// waiting the (fractional) Retry-After or an exponential backoff with full jitter, at most
// maxConcurrent requests in flight, and URLs kept below the API root. Private to the adapter.

#include "calgate/providers/microsoft/graph_provider.hpp"
#include "calgate/providers/microsoft/graph_wire.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace calgate::providers::microsoft {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Answer {
  long status = 0;
  nlohmann::json body;    ///< null for an empty body
  std::size_t bytes = 0;  ///< of the body as received
  std::string location;   ///< the Location header, if any
};

/// "a b/c" -> "a%20b%2Fc": one path segment or query value.
std::string encode(std::string_view raw);

/// The code of a Graph error body ("ErrorItemNotFound"), "" when there is none.
std::string errorCode(const nlohmann::json& body);

class Api {
 public:
  Api(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GraphEndpoints endpoints, GraphOptions options);

  /// The URL of `path` below the version root ("me/calendars" -> <apiRoot>v1.0/me/calendars).
  std::string url(std::string_view path) const;
  /// Whether `link` (a nextLink, deltaLink or Location from an answer) lies below the version root.
  bool ours(std::string_view link) const;

  /// `method` `url` (from url() or a checked link) with an optional JSON `body`. 2xx are answers, as
  /// are the statuses in `passThrough`; any other status is an error: 401 Unauthorized (after one
  /// retry with a new token), 403 Unauthorized, 429 RateLimited and 5xx Unavailable (after the
  /// in-call retries, with a Retry-After), 404 NotFound, 409 Conflict, 410 Gone, 412
  /// PreconditionFailed, other 4xx Invalid (cause WriteRefused for writes). A 2xx body that is not
  /// JSON is Invalid.
  core::Result<Answer> call(std::string_view method, const std::string& url, const nlohmann::json* body = nullptr,
                            Headers headers = {}, std::initializer_list<long> passThrough = {});

  /// One request of a JSON batch: `path` below the version root ("me/events/..."), its headers, an
  /// optional JSON body.
  struct BatchItem {
    std::string method, path;
    Headers headers;
    const nlohmann::json* body = nullptr;
  };
  /// `items` (at most 20) in one POST $batch: one Answer per item, in the items' order (Graph
  /// answers in an order of its own, matched back by id). The batch itself fails as call() does;
  /// an answer that is not a batch of exactly these ids, each with a status, is Invalid. The
  /// items' statuses are the caller's to judge.
  core::Result<std::vector<Answer>> batch(const std::vector<BatchItem>& items);

  std::size_t requests() const { return requests_.load(); }
  const GraphOptions& options() const { return options_; }
  const core::Clock& clock() const { return clock_; }

 private:
  core::Result<HttpResponse> once(const HttpRequest& request);
  std::chrono::milliseconds backoff(int attempt);

  HttpClient& http_;
  AccessTokens& tokens_;
  const core::Clock& clock_;
  GraphEndpoints endpoints_;
  GraphOptions options_;
  std::atomic<std::size_t> requests_{0};
  std::mutex randomMutex_;
  std::mt19937_64 random_{std::random_device{}()};
  std::mutex slotsMutex_;
  std::condition_variable slotFreed_;
  int inFlight_ = 0;
};

}  // namespace calgate::providers::microsoft
