#pragma once
// Plumbing for adapter tests that script the other side by hand (answers no honest server sends):
// an HttpClient answering every request with what a function returns (and recording the
// requests), a canned answer, and AccessTokens that always hand out the same token. Header-only.

#include "calgate/providers/http/access_tokens.hpp"
#include "calgate/providers/http/http_client.hpp"

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace calgate::test {

/// Answers every request with what `answer` returns for it; records the requests.
class LambdaHttp final : public providers::HttpClient {
 public:
  explicit LambdaHttp(std::function<providers::HttpResponse(const providers::HttpRequest&)> answer) : answer_(std::move(answer)) {}
  core::Result<providers::HttpResponse> send(const providers::HttpRequest& request) override {
    sent.push_back(request);
    return answer_(request);
  }
  std::vector<providers::HttpRequest> sent;

 private:
  std::function<providers::HttpResponse(const providers::HttpRequest&)> answer_;
};

inline providers::HttpResponse answer(long status, std::string body, std::map<std::string, std::string> headers = {}) {
  providers::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

class StaticTokens final : public providers::AccessTokens {
 public:
  core::Result<Botan::secure_vector<char>> token() override { return Botan::secure_vector<char>{'t'}; }
  void rejected() override {}
};

}  // namespace calgate::test
