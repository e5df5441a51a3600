#include "graph_api.hpp"

#include "calgate/providers/http/bearer_call.hpp"

#include "calgate/providers/json_fields.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
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
  std::optional<SlotHold> mailbox;  // the mailbox's slot, shared with its other adapters
  if (options_.slots) {
    auto held = holdSlot(*options_.slots, options_.slotKey, options_.maxConcurrent, options_.slotWait);
    if (!held) return std::unexpected(held.error());
    mailbox.emplace(std::move(*held));
  }
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

namespace calgate::providers::microsoft {

core::Result<std::vector<Answer>> Api::batch(const std::vector<BatchItem>& items) {
  if (items.empty() || items.size() > 20) return core::fail(core::ErrorCode::Internal, "a Graph batch holds 1 to 20 requests");
  nlohmann::json requests = nlohmann::json::array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    nlohmann::json r{{"id", std::to_string(i + 1)}, {"method", item.method}, {"url", "/" + item.path}};
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [name, value] : item.headers) {
      // one JSON member per header: repeated ones (two Prefer) become one list, as HTTP allows
      auto& slot = headers[name];
      slot = slot.is_string() ? nlohmann::json(slot.get<std::string>() + ", " + value) : nlohmann::json(value);
    }
    if (item.body) {
      headers["Content-Type"] = "application/json";
      r["body"] = *item.body;
    }
    if (!headers.empty()) r["headers"] = std::move(headers);
    requests.push_back(std::move(r));
  }
  const nlohmann::json envelope{{"requests", std::move(requests)}};
  auto out = call("POST", url("$batch"), &envelope);
  if (!out) return std::unexpected(out.error());
  auto malformed = [](const std::string& what) {
    return core::fail(core::ErrorCode::Invalid, "Microsoft Graph answered a batch with " + what);
  };
  const auto found = out->body.is_object() ? out->body.find("responses") : out->body.end();
  if (!out->body.is_object() || found == out->body.end() || !found->is_array()) return malformed("no responses array");
  if (found->size() != items.size()) {
    return malformed(std::to_string(found->size()) + " responses for " + std::to_string(items.size()) + " requests");
  }
  std::vector<std::optional<Answer>> byId(items.size());
  for (const auto& r : *found) {
    const std::string id = r.is_object() ? stringField(r, "id") : std::string();
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), index);
    if (id.empty() || ec != std::errc() || end != id.data() + id.size() || index < 1 || index > items.size() || byId[index - 1]) {
      return malformed("a response whose id is not one of its requests'");
    }
    const auto status = r.find("status");
    if (status == r.end() || !status->is_number_integer() || status->get<long long>() < 100 || status->get<long long>() > 599) {
      return malformed("a response without a status");
    }
    Answer a;
    a.status = static_cast<long>(status->get<long long>());
    if (const auto b = r.find("body"); b != r.end() && b->is_object()) a.body = *b;
    byId[index - 1] = std::move(a);
  }
  std::vector<Answer> answers;
  answers.reserve(items.size());
  for (auto& a : byId) answers.push_back(std::move(*a));
  return answers;
}

}  // namespace calgate::providers::microsoft
