// Evaluations per second of the policy evaluator, with and without the content hash the sync
// engine computes for every approved write.
#include "calgate/policy/content_hash.hpp"
#include "calgate/policy/evaluator.hpp"

#include <benchmark/benchmark.h>

using namespace calgate::policy;
using namespace calgate::model;
using namespace std::chrono;

namespace {

Event typicalEvent() {
  Event e;
  e.uid = "040000008200E00074C5B7101A82E008@acme.com";
  e.id = "AAMkAGI2-source-id";
  e.title = "Q3 strategy review with Acme Corp";
  e.description = std::string(600, 'd');  // a typical agenda-sized description
  e.location = "Board room, 12th floor";
  e.start = *zonedFromLocal(local_days{2026y / November / 24} + 14h, "Europe/London");
  e.end = *zonedFromLocal(local_days{2026y / November / 24} + 15h, "Europe/London");
  e.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=10"};
  e.attendees = {"a@acme.com", "b@acme.com", "c@partner.de", "d@partner.de", "e@gmail.com"};
  e.organizer = "assistant@acme.com";
  return e;
}

OrgPolicy acmePolicy(OrgLevel level) {
  OrgPolicy p;
  p.domain = "acme.com";
  p.level = level;
  p.validation = Validation::Secure;
  p.allow = {"partner.de"};
  return p;
}

void run(benchmark::State& state, PrivacyMode mode, OrgLevel level, bool hash) {
  const Evaluator evaluator;
  const Event event = typicalEvent();
  PairRules rules;
  rules.mode = mode;
  const OrgPolicy org = acmePolicy(level);
  WriteContext ctx;
  ctx.pairId = "pr_bench";
  ctx.sourceKey = "src_bench";
  ctx.targetProvider = ProviderKind::Google;
  ctx.targetDomains = {"gmail.com"};
  for (auto _ : state) {
    Decision d = evaluator.evaluate(rules, org, event, ctx);
    if (hash && d.write) benchmark::DoNotOptimize(contentHash(*d.write));
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EvaluateFull(benchmark::State& s) { run(s, PrivacyMode::Full, OrgLevel::None, false); }
void BM_EvaluatePrivate(benchmark::State& s) { run(s, PrivacyMode::Private, OrgLevel::None, false); }
void BM_EvaluateOrgBlock(benchmark::State& s) { run(s, PrivacyMode::Full, OrgLevel::Block, false); }
void BM_EvaluateFullAndHash(benchmark::State& s) { run(s, PrivacyMode::Full, OrgLevel::None, true); }
void BM_EvaluatePrivateAndHash(benchmark::State& s) { run(s, PrivacyMode::Private, OrgLevel::Private, true); }

}  // namespace

BENCHMARK(BM_EvaluateFull);
BENCHMARK(BM_EvaluatePrivate);
BENCHMARK(BM_EvaluateOrgBlock);
BENCHMARK(BM_EvaluateFullAndHash);
BENCHMARK(BM_EvaluatePrivateAndHash);
