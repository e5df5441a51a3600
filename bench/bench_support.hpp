#pragma once
// What the benchmarks share: no organisation policy, and setup steps that must work.
#include "calgate/core/error.hpp"
#include "calgate/policy/org_policy_source.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace calgate::bench {

class NoOrgPolicy final : public policy::OrgPolicySource {
 public:
  policy::OrgPolicy policyFor(const std::string& domain) override { return policy::OrgPolicy::none(domain); }
};

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "bench setup failed: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(core::Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().describe());
  return std::move(*r);
}

}  // namespace calgate::bench
