#pragma once
// A contract fake (the Google or Microsoft Graph fake of tests/services/) as a benchmark's child
// process: started on a free loopback port, driven through its control interface, stopped with
// the object; and the benchmarks' clocks (wall time, this process's CPU time).
#include "bench_support.hpp"
#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/http/access_tokens.hpp"
#include "calgate/providers/provider.hpp"
#include "calgate/providers/http/curl_http_client.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace calgate::bench {

using nlohmann::json;

/// A contract fake (tests/services/<name>/main.mjs) as a child process, with its control interface.
struct ContractFake {
  pid_t pid = -1;
  std::string url, token;
  providers::CurlHttpClient http{[] {
    providers::HttpClientOptions o;
    o.allowLoopback = o.allowPlainHttp = true;
    o.maxResponseBytes = 256 * 1024 * 1024;
    return o;
  }()};

  /// Starts tests/services/`name`/main.mjs with `options` ("switch=json" each).
  ContractFake(const std::string& name, const std::vector<std::string>& options) {
    int out[2];
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they come
    if (::pipe(out) != 0) bench::die("pipe");
    pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      const std::string main = std::string(CALGATE_SOURCE_DIR) + "/tests/services/" + name + "/main.mjs";
      std::vector<std::string> args{"node", main, "--port", "0"};
      for (const auto& o : options) {
        args.push_back("--option");
        args.push_back(o);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv("/usr/bin/node", argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    if (line.empty()) bench::die("the " + name + " fake did not start (node, npm ci?)");
    const auto started = json::parse(line);
    url = started["url"];
    token = started["controlToken"];
  }
  ~ContractFake() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
  json control(const std::string& method, const std::string& path, const json& body = nullptr) {
    providers::HttpRequest r;
    r.method = method;
    r.url = url + "__control/" + path;
    r.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    if (!body.is_null()) r.body = body.dump();
    auto a = http.send(r);
    if (!a || a->status != 200) bench::die("control " + path + ": " + (a ? a->body.substr(0, 200) : a.error().message));
    return json::parse(a->body);
  }
};

/// The same access token every time (the fakes issue tokens that outlive a benchmark).
class FixedToken final : public providers::AccessTokens {
 public:
  explicit FixedToken(std::string t) : t_(std::move(t)) {}
  core::Result<Botan::secure_vector<char>> token() override { return Botan::secure_vector<char>(t_.begin(), t_.end()); }
  void rejected() override {}

 private:
  std::string t_;
};

inline double elapsed(std::chrono::steady_clock::time_point since) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count(); }

/// CPU seconds this process (calgate's side, not the fake) has used.
inline double cpu() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// The approved copy of benchmark source event `i` ("bench-source-<i>", half an hour, hour `i`
/// after 2026-06-01 in `zone`) titled `title`, for `calendar` of a `kind` target.
inline policy::ApprovedWrite approvedCopy(model::ProviderKind kind, int i, const std::string& title, const std::string& calendar,
                                          const std::string& zone = "UTC") {
  using namespace std::chrono;
  model::Event e;
  e.uid = "bench-source-" + std::to_string(i);
  e.title = title;
  e.start = model::ZonedTime{sys_days{2026y / June / 1} + hours(i % 2000), zone};
  e.end = model::ZonedTime{sys_days{2026y / June / 1} + hours(i % 2000) + minutes(30), zone};
  policy::WriteContext ctx;
  ctx.pairId = "pr_bench";
  ctx.sourceKey = "cal|" + e.uid + "|";
  ctx.targetProvider = kind;
  ctx.targetCalendar = calendar;
  auto d = policy::Evaluator{}.evaluate(policy::PairRules{}, policy::OrgPolicy::none("src.example"), e, ctx);
  if (!d.write) die("not approved");
  return *d.write;
}

/// The measurements both adapter benchmarks report, on `adapter` (a Provider with requestCount()):
/// the initial listing of `source`, the next one after `editSource(i)` changed 1 % of its N events,
/// N creates of approved copies into `target` (`label` names the provider in the output), and
/// updates of 1 % of them.
template <class Adapter, class Edit>
void measureAdapter(Adapter& adapter, model::ProviderKind kind, const std::string& label, const std::string& source,
                    const std::string& target, int n, const std::string& zone, Edit editSource) {
  using namespace std::chrono;
  const providers::TimeWindow window{sys_days{2025y / December / 1}, sys_days{2027y / January / 1}};
  auto t0 = steady_clock::now();
  const double cpu0 = cpu();
  auto full = must(adapter.pullChanges(source, "", window), "initial listing");
  const double listSeconds = elapsed(t0);
  const auto listRequests = adapter.requestCount();
  std::printf("initial listing: %zu events in %.2f s (%.0f events/s), %zu requests, %.0f us CPU per event in calgate\n",
              full.changed.size(), listSeconds, static_cast<double>(full.changed.size()) / listSeconds, listRequests,
              (cpu() - cpu0) * 1e6 / static_cast<double>(full.changed.size()));

  const int changed = std::max(1, n / 100);
  for (int i = 0; i < changed; ++i) editSource(i * 97 % n);
  auto t1 = steady_clock::now();
  auto incremental = must(adapter.pullChanges(source, full.cursor, window), "incremental listing");
  const auto incRequests = adapter.requestCount() - listRequests;
  std::printf("incremental: %zu changed events read in %.3f s with %zu requests (%.3f requests per changed event)\n",
              incremental.changed.size(), elapsed(t1), incRequests, static_cast<double>(incRequests) / changed);

  // writes go as the engine sends them: adapter.batchLimit() at a time through writeBatch
  const std::size_t batch = std::max<std::size_t>(adapter.batchLimit(), 1);
  auto writeAll = [&](const std::vector<int>& which, providers::BatchedWrite::Op op, const std::string& title,
                      const std::vector<providers::WriteResult>& copies, std::vector<providers::WriteResult>& out) {
    for (std::size_t from = 0; from < which.size(); from += batch) {
      std::vector<policy::ApprovedWrite> approvals;
      for (std::size_t k = from; k < std::min(which.size(), from + batch); ++k) {
        approvals.push_back(approvedCopy(kind, which[k], title + " " + std::to_string(which[k]), target, zone));
      }
      std::vector<providers::BatchedWrite> writes;
      for (std::size_t k = 0; k < approvals.size(); ++k) {
        const auto* copy = copies.empty() ? nullptr : &copies[static_cast<std::size_t>(which[from + k])];
        writes.push_back({op, copy ? copy->id : "", copy ? copy->etag : "", &approvals[k]});
      }
      for (auto& r : must(adapter.writeBatch(target, writes), "batch")) out.push_back(must(std::move(r), "write"));
      if ((from + batch) / 2000 != from / 2000) std::printf("  %zu of %zu written\n", std::min(which.size(), from + batch), which.size());
    }
  };
  std::vector<int> all(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
  const auto before = adapter.requestCount();
  auto t2 = steady_clock::now();
  const double cpu2 = cpu();
  std::vector<providers::WriteResult> written;
  writeAll(all, providers::BatchedWrite::Op::Create, "copy", {}, written);
  const double writeSeconds = elapsed(t2);
  const auto writeRequests = adapter.requestCount() - before;
  std::printf("initial sync into %s (%zu writes per request): %d events in %.2f s (%.0f events/s), %.3f requests per event, "
              "%.0f us CPU per event in calgate\n",
              label.c_str(), batch, n, writeSeconds, n / writeSeconds, static_cast<double>(writeRequests) / n, (cpu() - cpu2) * 1e6 / n);

  std::vector<int> edited;
  for (int i = 0; i < changed; ++i) edited.push_back(i * 97 % n);
  std::sort(edited.begin(), edited.end());
  edited.erase(std::unique(edited.begin(), edited.end()), edited.end());
  const auto beforeUpdates = adapter.requestCount();
  std::vector<providers::WriteResult> updated;
  writeAll(edited, providers::BatchedWrite::Op::Update, "updated", written, updated);
  std::printf("updates into %s (%zu writes per request): %zu changed events, %.3f requests per changed event\n", label.c_str(), batch,
              edited.size(), static_cast<double>(adapter.requestCount() - beforeUpdates) / static_cast<double>(edited.size()));
}

}  // namespace calgate::bench
