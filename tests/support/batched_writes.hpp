#pragma once
// For adapter tests of Provider::writeBatch: a batch of one kind of write over approved writes, the
// results required to be successes, and a plain one-hour copy approved for a provider.
// Header-only (Catch2 assertions).

#include "calgate/policy/evaluator.hpp"
#include "calgate/providers/provider.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace calgate::test {

/// `op` for each of `writes`; updates and removes address the matching `copies`.
inline std::vector<providers::BatchedWrite> batchOf(providers::BatchedWrite::Op op, const std::vector<policy::ApprovedWrite>& writes,
                                                    const std::vector<providers::WriteResult>& copies = {}) {
  std::vector<providers::BatchedWrite> out;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    out.push_back({op, copies.empty() ? "" : copies[i].id, copies.empty() ? "" : copies[i].etag, &writes[i]});
  }
  return out;
}

/// The results of a batch, each required to be a success.
inline std::vector<providers::WriteResult> written(const core::Result<providers::BatchResults>& results) {
  REQUIRE(results);
  std::vector<providers::WriteResult> out;
  for (const auto& r : *results) {
    INFO((r ? "" : r.error().describe()));
    REQUIRE(r);
    out.push_back(*r);
  }
  return out;
}

/// A one-hour event on 2026-06-01 09:00 UTC with `uid`, approved (full mode, no organisation
/// policy) for `target` in the domain x.test.
inline policy::ApprovedWrite approvedCopy(model::ProviderKind target, const std::string& uid) {
  using namespace std::chrono;
  model::Event e;
  e.uid = uid;
  e.title = "t";
  e.start = model::ZonedTime{sys_days{2026y / June / 1} + 9h, "UTC"};
  e.end = model::ZonedTime{sys_days{2026y / June / 1} + 10h, "UTC"};
  policy::WriteContext ctx;
  ctx.pairId = "pr";
  ctx.sourceKey = "k|" + uid;
  ctx.targetProvider = target;
  ctx.targetDomains = {"x.test"};
  auto d = policy::Evaluator{}.evaluate(policy::PairRules{}, policy::OrgPolicy::none("src.test"), e, ctx);
  REQUIRE(d.write);
  return *d.write;
}

}  // namespace calgate::test
