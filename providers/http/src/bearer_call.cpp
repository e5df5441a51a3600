#include "calgate/providers/http/bearer_call.hpp"

namespace calgate::providers {

core::Result<BearerAnswer> callWithBearer(HttpRequest request, AccessTokens& tokens, const BearerCall& call,
                                          const std::function<Verdict(const HttpResponse&, const nlohmann::json&, int attempt)>& judge) {
  const auto headers = request.headers;
  bool retriedAuth = false;
  for (int attempt = 0;; ++attempt) {
    auto token = tokens.token();
    if (!token) return std::unexpected(token.error());
    request.headers = headers;
    request.headers.emplace_back("Authorization", "Bearer " + std::string(token->begin(), token->end()));
    auto r = call.send(request);
    if (!r) {
      const bool outOfTime = r.error().cause == core::Cause::BudgetExceeded;  // the run's deadline: no retry
      if (!outOfTime && (r.error().code == core::ErrorCode::Timeout || r.error().code == core::ErrorCode::Unavailable) &&
          attempt + 1 < call.maxAttempts) {
        call.sleep(call.backoff(attempt));
        continue;
      }
      return std::unexpected(r.error());
    }
    nlohmann::json body;
    if (call.jsonAnswers && !r->body.empty()) {
      body = nlohmann::json::parse(r->body, nullptr, false);
      if (body.is_discarded()) {
        if (r->status / 100 == 2) return core::fail(core::ErrorCode::Invalid, call.service + " answered with a body that is not JSON");
        body = nullptr;
      }
    }
    if (r->status == 401 && !retriedAuth) {
      tokens.rejected();
      retriedAuth = true;
      --attempt;
      continue;
    }
    Verdict verdict = judge(*r, body, attempt);
    if (verdict.kind == Verdict::Kind::Answer) return BearerAnswer{std::move(*r), std::move(body)};
    if (verdict.kind == Verdict::Kind::Fail) return std::unexpected(std::move(verdict.error));
    call.sleep(verdict.wait);
  }
}

}  // namespace calgate::providers
