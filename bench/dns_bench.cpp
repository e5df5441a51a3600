// Organisation-policy lookups: warm cache (what every sync decision pays) and cold DNSSEC
// validation against the local nsd test zones (what a cache miss costs: 4 queries for a secure
// record one delegation below the anchor).
// Run: tests/services/dns-zones.sh start /tmp/calgate-dns
//      CG_BENCH_DNS_STATE=/tmp/calgate-dns build/release/bench/calgate_bench_dns
#include "calgate/dns/cares_transport.hpp"
#include "calgate/dns/org_policy_service.hpp"
#include "calgate/dns/validator.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

using namespace calgate;
using namespace calgate::dns;

namespace {

class FixedClock final : public core::Clock {
 public:
  core::TimePoint now() const override {
    return core::TimePoint(std::chrono::sys_days(std::chrono::year_month_day(std::chrono::year(2026) / 6 / 1)));
  }
};

struct Setup {
  FixedClock clock;
  std::unique_ptr<CaresTransport> transport;
  std::unique_ptr<Validator> validator;
  MemoryPinStore pins;
  std::unique_ptr<OrgPolicyService> service;

  Setup() {
    const char* state = std::getenv("CG_BENCH_DNS_STATE");
    if (!state) throw std::runtime_error("set CG_BENCH_DNS_STATE (tests/services/dns-zones.sh start DIR)");
    std::ifstream portFile(std::string(state) + "/port");
    std::string port;
    portFile >> port;
    transport = std::move(*CaresTransport::create({{"127.0.0.1:" + port}, std::chrono::milliseconds(2000), 2}));
    validator = std::make_unique<Validator>(*transport, *loadTrustAnchor(std::string(state) + "/anchor.ds"), clock);
    service = std::make_unique<OrgPolicyService>(*validator, pins, clock);
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

void BM_WarmCacheLookup(benchmark::State& state) {
  auto& s = setup();
  s.service->lookup("acme.test");
  for (auto _ : state) benchmark::DoNotOptimize(s.service->lookup("acme.test"));
  state.SetItemsProcessed(state.iterations());
}

void BM_ColdSecureRecord(benchmark::State& state) {
  auto& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(s.validator->lookupTxt("_calendar-privacy.acme.test."));
  state.SetItemsProcessed(state.iterations());
}

void BM_ColdNsec3Denial(benchmark::State& state) {
  auto& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(s.validator->lookupTxt("_calendar-privacy.nxd.test."));
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_WarmCacheLookup);
BENCHMARK(BM_ColdSecureRecord)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ColdNsec3Denial)->Unit(benchmark::kMillisecond);
