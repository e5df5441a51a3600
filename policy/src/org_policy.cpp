#include "calgate/policy/org_policy.hpp"
#include "calgate/policy/pair_rules.hpp"

#include <algorithm>
#include <cctype>

namespace calgate::policy {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!out.empty() && out.back() == '.') out.pop_back();  // "acme.com." == "acme.com"
  return out;
}

// `domain` equals `base` or is a subdomain of it (label boundary).
bool within(const std::string& domain, const std::string& base) {
  if (base.empty() || domain.empty()) return false;
  if (domain == base) return true;
  return domain.size() > base.size() && domain.ends_with(base) && domain[domain.size() - base.size() - 1] == '.';
}

}  // namespace

OrgPolicy OrgPolicy::none(std::string domain) {
  OrgPolicy p;
  p.domain = std::move(domain);
  return p;
}


bool OrgPolicy::admitsTarget(std::string_view targetDomain) const {
  const std::string target = lower(targetDomain);
  if (within(target, lower(domain))) return true;
  if (!trusted()) return false;
  return std::any_of(allow.begin(), allow.end(), [&](const std::string& a) { return within(target, lower(a)); });
}

bool OrgPolicy::admitsTarget(const std::vector<std::string>& targetDomains) const {
  return std::any_of(targetDomains.begin(), targetDomains.end(),
                     [this](const std::string& d) { return admitsTarget(std::string_view(d)); });
}

std::string OrgPolicy::describe() const {
  std::string out = "org " + (domain.empty() ? std::string("(unknown domain)") : domain);
  if (validation == Validation::NoRecord && level == OrgLevel::None && !pinned) return out + ": no policy published";
  out += " p=" + std::string(toString(level)) + " (" + std::string(toString(validation)) + (pinned ? ", pinned" : "") +
         ")";
  return out;
}

std::string_view toString(OrgLevel level) {
  switch (level) {
    case OrgLevel::None: return "none";
    case OrgLevel::Private: return "private";
    case OrgLevel::Block: return "block";
  }
  return "block";
}

std::string_view toString(Validation v) {
  switch (v) {
    case Validation::Secure: return "secure";
    case Validation::Insecure: return "unsigned";
    case Validation::Bogus: return "bogus";
    case Validation::Indeterminate: return "indeterminate";
    case Validation::NoRecord: return "no record";
  }
  return "indeterminate";
}

std::string_view toString(PrivacyMode m) { return m == PrivacyMode::Full ? "full" : "private"; }

}  // namespace calgate::policy
