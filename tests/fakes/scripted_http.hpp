#pragma once
// An HttpClient that answers from a script: each expected request (method + URL) gets a canned
// response, in order. Requests not in the script fail the test. Used to hold adapters to the
// contract samples in ../shared/contracts/samples.

#include "calgate/providers/http/http_client.hpp"

#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace calgate::test {

class ScriptedHttp final : public providers::HttpClient {
 public:
  struct Step {
    std::string method;
    std::string url;
    providers::HttpResponse response;
    std::function<void(const providers::HttpRequest&)> check;  // optional assertions on the request
  };

  void expect(std::string method, std::string url, long status, std::string body,
              std::function<void(const providers::HttpRequest&)> check = {}) {
    providers::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.effectiveUrl = url;
    steps_.push_back({std::move(method), std::move(url), std::move(r), std::move(check)});
  }

  core::Result<providers::HttpResponse> send(const providers::HttpRequest& request) override {
    sent.push_back(request);
    if (steps_.empty()) return core::fail(core::ErrorCode::Internal, "unexpected request " + request.method + " " + request.url);
    Step step = std::move(steps_.front());
    steps_.pop_front();
    if (step.method != request.method || step.url != request.url) {
      return core::fail(core::ErrorCode::Internal, "expected " + step.method + " " + step.url + ", got " +
                                                       request.method + " " + request.url);
    }
    if (step.check) step.check(request);
    return step.response;
  }

  bool done() const { return steps_.empty(); }
  std::vector<providers::HttpRequest> sent;

 private:
  std::deque<Step> steps_;
};

}  // namespace calgate::test
