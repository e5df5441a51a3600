#include "graph_api.hpp"

#include "calgate/providers/http/bearer_call.hpp"

#include <algorithm>
#include <thread>

namespace calgate::providers::microsoft {
namespace {

using core::ErrorCode;

core::Error errorFor(const HttpResponse& r, const nlohmann::json& body, bool write) {
  const std::string code = errorCode(body);
  const std::string what = "Microsoft Graph answered " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
  core::Error e{ErrorCode::Invalid, what, std::nullopt, core::Cause::None};
  if (r.status == 401) e.code = ErrorCode::Unauthorized;
  else if (r.status == 403) e.code = ErrorCode::Unauthorized;
  else if (r.status == 404) e.code = ErrorCode::NotFound;
  else if (r.status == 409) e.code = ErrorCode::Conflict;
  else if (r.status == 410) e.code = ErrorCode::Gone;
  else if (r.status == 412) e.code = ErrorCode::PreconditionFailed;
  else if (r.status == 429) e.code = ErrorCode::RateLimited;
  else if (r.status >= 500) e.code = ErrorCode::Unavailable;
  else if (write) e.cause = core::Cause::WriteRefused;
  return e;
}

}  // namespace

std::string encode(std::string_view raw) { return percentEncode(raw); }

std::string errorCode(const nlohmann::json& body) {
  if (!body.is_object()) return {};
  const auto e = body.find("error");
  if (e == body.end() || !e->is_object()) return {};
  const auto code = e->find("code");
  return code != e->end() && code->is_string() ? code->get<std::string>() : std::string();
}

Api::Api(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GraphEndpoints endpoints, GraphOptions options)
    : http_(http), tokens_(tokens), clock_(clock), endpoints_(std::move(endpoints)), options_(std::move(options)) {
  if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!endpoints_.apiRoot.empty() && endpoints_.apiRoot.back() != '/') endpoints_.apiRoot += '/';
  options_.maxConcurrent = std::max(1, options_.maxConcurrent);
}

std::string Api::url(std::string_view path) const { return endpoints_.apiRoot + "v1.0/" + std::string(path); }

bool Api::ours(std::string_view link) const {
  const std::string root = endpoints_.apiRoot + "v1.0/";
  // below the version root, and no dot segment that could climb out of it
  return link.starts_with(root) && link.find("/../") == std::string_view::npos && link.find("/./") == std::string_view::npos &&
         link.find_first_of("\r\n ") == std::string_view::npos;
}

std::chrono::milliseconds Api::backoff(int attempt) {
  // exponential with full jitter: uniform in [0, base * 2^n], capped
  const auto cap = std::min(options_.maxBackoff.count(), options_.backoffBase.count() << std::min(attempt, 20));
  std::lock_guard lock(randomMutex_);
  return std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, std::max<long long>(cap, 1))(random_));
}

core::Result<HttpResponse> Api::once(const HttpRequest& request) {
  {
    std::unique_lock lock(slotsMutex_);
    slotFreed_.wait(lock, [&] { return inFlight_ < options_.maxConcurrent; });
    ++inFlight_;
  }
  ++requests_;
  auto r = http_.send(request);
  {
    std::lock_guard lock(slotsMutex_);
    --inFlight_;
  }
  slotFreed_.notify_one();
  return r;
}

core::Result<Answer> Api::call(std::string_view method, const std::string& url, const nlohmann::json* body, Headers headers,
                               std::initializer_list<long> passThrough) {
  HttpRequest request;
  request.method = std::string(method);
  request.url = url;
  if (!ours(url)) return core::fail(ErrorCode::Invalid, "Microsoft Graph gave a link outside its API root", core::Cause::UrlRejected);
  if (body) {
    // invalid UTF-8 in an event's text (a CalDAV source) is replaced, never a thrown exception
    request.body = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    headers.emplace_back("Content-Type", "application/json");
  }
  const bool write = method != "GET";
  const BearerCall call{"Microsoft Graph", options_.maxAttempts, [this](const HttpRequest& r) { return once(r); }, options_.sleep,
                        [this](int attempt) { return backoff(attempt); }};
  request.headers = std::move(headers);
  auto out = callWithBearer(std::move(request), tokens_, call, [&](const HttpResponse& r, const nlohmann::json& answer, int attempt) {
    if (r.status / 100 == 2 || std::find(passThrough.begin(), passThrough.end(), r.status) != passThrough.end()) return Verdict::answer();
    auto error = errorFor(r, answer, write);
    const bool transient = error.code == ErrorCode::RateLimited || error.code == ErrorCode::Unavailable;
    const auto retryAfter = parseRetryAfterSeconds(r.header("retry-after").value_or(""));
    if (transient && attempt + 1 < options_.maxAttempts && (!retryAfter || *retryAfter <= options_.maxRetryAfterWait)) {
      return Verdict::retry(retryAfter ? *retryAfter : backoff(attempt));
    }
    if (transient) {
      // the job queue waits at least what Graph asked for, else longer than our in-call retries did
      error.retryAfter = retryAfter ? std::chrono::ceil<std::chrono::seconds>(*retryAfter)
                                    : std::chrono::duration_cast<std::chrono::seconds>(options_.maxBackoff) * 2;
    }
    return Verdict::fail(std::move(error));
  });
  if (!out) return std::unexpected(out.error());
  return Answer{out->response.status, std::move(out->body), out->response.body.size(), out->response.header("location").value_or("")};
}

}  // namespace calgate::providers::microsoft
