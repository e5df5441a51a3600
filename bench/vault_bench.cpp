// Seal and open operations per second of the credential vault's AES-256-GCM core, for a typical
// credential (an OAuth refresh token of ~200 bytes wrapped in JSON).
#include "calgate/vault/sealed_box.hpp"

#include <benchmark/benchmark.h>

using namespace calgate::vault;

namespace {

const SecretBytes kKey(kKeyBytes, 0x42);
const SecretBytes kCredential(200, 'c');
const std::string kContext = contextOf({"credential", "usr_0123456789", "google", "acc_0123456789"});

void BM_Seal(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(seal(kKey, "k1795262255-abcdefgh", kCredential, kContext));
  state.SetItemsProcessed(state.iterations());
}

void BM_Open(benchmark::State& state) {
  const std::string blob = *seal(kKey, "k1795262255-abcdefgh", kCredential, kContext);
  for (auto _ : state) benchmark::DoNotOptimize(open(kKey, blob, kContext));
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_Seal);
BENCHMARK(BM_Open);
