#pragma once
// An adapter test's write, approved as the engine would approve it: `source` (a copy's removal when
// `removal`) for `calendar` of a `target` provider account inside `targetDomain`, pair `pairId`,
// no rules and no organisation policy. An occurrence carries its series' key.
#include "calgate/policy/evaluator.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace calgate::test {

inline policy::ApprovedWrite approvedWrite(const model::Event& source, const std::string& calendar, model::ProviderKind target,
                                           const std::string& targetDomain, const std::string& pairId, bool removal = false) {
  policy::WriteContext ctx;
  ctx.pairId = pairId;
  ctx.sourceKey = "cal_src|" + source.uid + "|";
  if (source.recurrenceId) ctx.seriesKey = ctx.sourceKey;
  ctx.targetProvider = target;
  ctx.targetDomains = {targetDomain};
  ctx.targetCalendar = calendar;
  model::Event e = source;
  if (removal) e.status = model::Status::Cancelled;
  auto d = policy::Evaluator{}.evaluate(policy::PairRules{}, policy::OrgPolicy::none("src.example"), e, ctx);
  REQUIRE(d.write);
  return *d.write;
}

}  // namespace calgate::test
