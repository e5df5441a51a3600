// GET /v1/policy/{domain}: the organisation policy calgate applies to accounts of a domain, from
// a fresh DNSSEC-validated lookup of _calendar-privacy.<domain>, with every reason.

#include "calgate/dns/org_policy_service.hpp"
#include "support.hpp"

#include <algorithm>
#include <cctype>

namespace calgate::api {
namespace {

// A DNS name of letters, digits and hyphens, at least two labels (no trailing dot).
std::optional<std::string> domainName(std::string_view raw) {
  if (raw.empty() || raw.size() > 200) return std::nullopt;  // room for "_calendar-privacy."
  std::string d(raw);
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
  std::size_t labels = 0, start = 0;
  while (start <= d.size()) {
    const auto end = std::min(d.find('.', start), d.size());
    const std::string_view label = std::string_view(d).substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return std::nullopt;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return std::nullopt;
    }
    ++labels;
    start = end + 1;
  }
  if (labels < 2) return std::nullopt;
  return d;
}

}  // namespace

void addPolicyRoutes(http::Router& router, Services& services) {
  router.add({"GET", "/v1/policy/{domain}", true, [&services](http::Request& request) {
                const auto domain = domainName(request.params["domain"]);
                if (!domain) {
                  return http::fieldProblem(400, "invalid-field", "Bad Request",
                                            "domain: must be a DNS name such as example.com", "domain");
                }
                if (services.policyLimiter) {
                  if (const auto wait = services.policyLimiter->take("policy:" + request.identity->tokenId)) {
                    http::Response r = http::problem(
                        429, "rate-limited", "Too Many Requests",
                        "fresh policy lookups are limited to 10 a minute; retry after " + std::to_string(wait->count()) + " s");
                    r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
                    return r;
                  }
                }
                if (!services.orgPolicyService) {
                  return http::problem(503, "unavailable", "Service Unavailable",
                                       "organisation policies are not available (database migrations pending)");
                }
                const dns::LookupReport report = services.orgPolicyService->inspect(*domain);
                const auto& p = report.policy;
                nlohmann::json records = nlohmann::json::array();
                for (const auto& r : report.records) {
                  if (r.kind == dns::ParsedRecord::Kind::NotPolicy) continue;
                  const bool ok = r.kind == dns::ParsedRecord::Kind::Valid;
                  records.push_back({{"text", r.text},
                                     {"ok", ok},
                                     {"errors", ok ? std::vector<std::string>{} : std::vector<std::string>{r.error}},
                                     {"warnings", r.record.warnings}});
                }
                nlohmann::json body = {
                    {"domain", *domain},
                    {"queried_name", report.queriedName},
                    {"level", policy::toString(p.level)},
                    {"label", p.label ? nlohmann::json(*p.label) : nlohmann::json(nullptr)},
                    {"allow", p.allow},
                    {"validation", validationName(p.validation)},
                    {"pinned", p.pinned},
                    {"pinned_until", report.pin ? nlohmann::json(report.pin->expiresAt) : nlohmann::json(nullptr)},
                    {"cache_seconds", report.cacheFor.count()},
                    {"fail_closed", p.failClosed()},
                    {"records", records},
                    {"reasons", p.reasons},
                    {"notes", report.notes}};
                return jsonResponse(200, body);
              },
              /*outbound=*/true});
}

}  // namespace calgate::api
