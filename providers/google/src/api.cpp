#include "api.hpp"


#include <algorithm>
#include <thread>

namespace calgate::providers::google {
namespace {

using core::ErrorCode;

bool isRateLimit(long status, std::string_view reason) {
  return status == 429 || (status == 403 && (reason == "rateLimitExceeded" || reason == "userRateLimitExceeded"));
}
bool isQuota(long status, std::string_view reason) {
  return status == 403 && (reason == "quotaExceeded" || reason == "dailyLimitExceeded");
}

core::Error errorFor(const HttpResponse& r, const nlohmann::json& body, bool write, const GoogleOptions& options) {
  const std::string reason = errorReason(body);
  const std::string what = "Google Calendar answered " + std::to_string(r.status) + (reason.empty() ? "" : " " + reason);
  core::Error e{ErrorCode::Invalid, what, std::nullopt, core::Cause::None};
  if (r.status == 401) e.code = ErrorCode::Unauthorized;
  else if (isQuota(r.status, reason)) {
    e.code = ErrorCode::RateLimited;
    e.cause = core::Cause::QuotaExceeded;
    e.retryAfter = options.quotaRetryAfter;
  } else if (isRateLimit(r.status, reason)) {
    e.code = ErrorCode::RateLimited;
  } else if (r.status == 403 && (reason == "insufficientPermissions" || reason == "forbidden")) {
    e.code = ErrorCode::Unauthorized;
  } else if (r.status == 404) e.code = ErrorCode::NotFound;
  else if (r.status == 409) e.code = ErrorCode::Conflict;
  else if (r.status == 410) e.code = ErrorCode::Gone;
  else if (r.status == 412) e.code = ErrorCode::PreconditionFailed;
  else if (r.status >= 500) e.code = ErrorCode::Unavailable;
  else if (write) e.cause = core::Cause::WriteRefused;
  return e;
}

}  // namespace

std::string segment(std::string_view raw) { return percentEncode(raw); }

std::string errorReason(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return {};
  const auto found = body["error"].find("errors");
  if (found == body["error"].end()) return {};
  const auto& errors = *found;
  if (!errors.is_array() || errors.empty() || !errors[0].is_object()) return {};
  const auto reason = errors[0].find("reason");
  return reason != errors[0].end() && reason->is_string() ? reason->get<std::string>() : std::string();
}

Api::Api(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GoogleEndpoints endpoints, GoogleOptions options)
    : http_(http), tokens_(tokens), clock_(clock), endpoints_(std::move(endpoints)), options_(std::move(options)) {
  if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!options_.pacer) options_.pacer = std::make_shared<RequestPacer>(options_.requestsPerMinute);
  if (!endpoints_.apiRoot.empty() && endpoints_.apiRoot.back() != '/') endpoints_.apiRoot += '/';
  // "https://host:port/prefix/" -> "/prefix/"
  if (const auto scheme = endpoints_.apiRoot.find("://"); scheme != std::string::npos) {
    const auto path = endpoints_.apiRoot.find('/', scheme + 3);
    if (path != std::string::npos) rootPath_ = endpoints_.apiRoot.substr(path);
  }
}

std::chrono::milliseconds Api::backoff(int attempt) {
  // exponential with full jitter (AWS architecture blog's "full jitter"): uniform in [0, base * 2^n]
  const auto cap = std::min(options_.maxBackoff.count(), options_.backoffBase.count() << std::min(attempt, 20));
  std::lock_guard lock(randomMutex_);
  return std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, std::max<long long>(cap, 1))(random_));
}

core::Result<HttpResponse> Api::once(const HttpRequest& request, std::size_t weight) {
  options_.pacer->take(weight, clock_, options_.sleep);
  ++requests_;
  return http_.send(request);
}

BearerCall Api::bearerCall(std::size_t weight, bool jsonAnswers) {
  return BearerCall{"Google Calendar", options_.maxAttempts, [this, weight](const HttpRequest& r) { return once(r, weight); },
                    options_.sleep, [this](int attempt) { return backoff(attempt); }, jsonAnswers};
}

Verdict Api::judge(const HttpResponse& r, const nlohmann::json& answer, int attempt, bool write,
                   std::initializer_list<long> passThrough) {
  if (r.status / 100 == 2 || r.status == 304 || std::find(passThrough.begin(), passThrough.end(), r.status) != passThrough.end()) {
    return Verdict::answer();
  }
  auto error = errorFor(r, answer, write, options_);
  const bool transient = (error.code == ErrorCode::RateLimited && error.cause != core::Cause::QuotaExceeded) ||
                         error.code == ErrorCode::Unavailable;
  if (transient && attempt + 1 < options_.maxAttempts) return Verdict::retry(backoff(attempt));
  if (transient && !error.retryAfter) {
    // the job queue waits longer than our in-call retries did (it doubles from there)
    error.retryAfter = std::chrono::duration_cast<std::chrono::seconds>(options_.maxBackoff) * 2;
  }
  return Verdict::fail(std::move(error));
}

core::Error Api::errorOf(const Answer& answer, bool write) const {
  HttpResponse r;
  r.status = answer.status;
  return errorFor(r, answer.body, write, options_);
}

core::Result<Answer> Api::call(std::string_view method, const std::string& path, const Query& query,
                               const nlohmann::json* body, std::vector<std::pair<std::string, std::string>> headers,
                               std::initializer_list<long> passThrough) {
  HttpRequest request;
  request.method = std::string(method);
  request.url = endpoints_.apiRoot + "calendar/v3/" + path + queryString(query);
  if (body) {
    // invalid UTF-8 in an event's text (a CalDAV source) is replaced, never a thrown exception
    request.body = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    headers.emplace_back("Content-Type", "application/json");
  }
  const bool write = method != "GET";
  request.headers = std::move(headers);
  auto out = callWithBearer(std::move(request), tokens_, bearerCall(1, true),
                            [&](const HttpResponse& r, const nlohmann::json& answer, int attempt) {
                              return judge(r, answer, attempt, write, passThrough);
                            });
  if (!out) return std::unexpected(out.error());
  return Answer{out->response.status, std::move(out->body), out->response.body.size()};
}

core::Result<std::vector<PartAnswer>> Api::batch(const std::vector<BatchPart>& parts) {
  const std::string boundary = batchBoundary(parts);
  HttpRequest request;
  request.method = "POST";
  request.url = endpoints_.apiRoot + "batch/calendar/v3";
  request.body = formatBatch(parts, boundary);
  request.headers.emplace_back("Content-Type", "multipart/mixed; boundary=" + boundary);
  auto out = callWithBearer(std::move(request), tokens_, bearerCall(parts.size(), false),
                            [&](const HttpResponse& r, const nlohmann::json&, int attempt) {
                              // an outer error's body is JSON like any other answer's
                              const auto error = r.status / 100 == 2 ? nlohmann::json()
                                                                     : nlohmann::json::parse(r.body, nullptr, false);
                              return judge(r, error.is_discarded() ? nlohmann::json() : error, attempt, true, {});
                            });
  if (!out) return std::unexpected(out.error());
  return parseBatchAnswer(out->response.header("content-type").value_or(""), out->response.body, parts.size());
}

std::string queryString(const Query& query) {
  std::string out;
  char sep = '?';
  for (const auto& [k, v] : query) {
    out += sep + percentEncode(k) + '=' + percentEncode(v);
    sep = '&';
  }
  return out;
}

}  // namespace calgate::providers::google
