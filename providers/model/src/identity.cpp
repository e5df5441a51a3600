#include "calgate/model/identity.hpp"

#include <libpsl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <utility>

namespace calgate::model {
namespace {

constexpr std::array<std::pair<IdentityKind, std::string_view>, 6> kKinds{{
    {IdentityKind::VerifiedEmail, "verified-email"},
    {IdentityKind::HostedDomain, "hosted-domain"},
    {IdentityKind::WorkAccount, "work-account"},
    {IdentityKind::CalDavAddress, "caldav-address"},
    {IdentityKind::ServerDomain, "server-domain"},
    {IdentityKind::Typed, "typed"},
}};

std::vector<std::string> distinctDomains(const std::vector<Identity>& identities, bool membersOnly) {
  std::vector<std::string> out;
  for (const auto& i : identities) {
    if (i.domain.empty() || (membersOnly && !i.member)) continue;
    if (std::find(out.begin(), out.end(), i.domain) == out.end()) out.push_back(i.domain);
  }
  return out;
}

// The host of an http(s) URL, lower case; "" for an IP literal or no host.
std::string hostOf(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  if (authority.starts_with("[")) return {};
  return normaliseDomain(authority.substr(0, authority.find(':')));
}

bool isIpv4(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) { return std::isdigit(c) || c == '.'; });
}

// "user@domain" -> {lower-cased address, domain}; nothing for anything else.
std::optional<std::pair<std::string, std::string>> splitAddress(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= address.size() || address.size() > 254) return std::nullopt;
  const std::string domain = normaliseDomain(address.substr(at + 1));
  if (domain.empty() || domain.find_first_of(" /\\<>\"@") != std::string::npos) return std::nullopt;
  std::string local(address.substr(0, at));
  std::transform(local.begin(), local.end(), local.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::make_pair(local + "@" + domain, domain);
}

// %XX escapes decoded (an href is a URI reference); a malformed escape is kept as it is.
std::string percentDecoded(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

std::string_view toString(IdentityKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "typed";
}

bool parseIdentityKind(std::string_view name, IdentityKind& out) {
  for (const auto& [k, n] : kKinds) {
    if (n == name) {
      out = k;
      return true;
    }
  }
  return false;
}

std::vector<std::string> policyDomains(const std::vector<Identity>& identities) {
  return distinctDomains(identities, false);
}

std::vector<std::string> memberDomains(const std::vector<Identity>& identities) {
  return distinctDomains(identities, true);
}

std::string normaliseDomain(std::string_view domain) {
  std::string out(domain);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

bool withinDomain(std::string_view domain, std::string_view base) {
  const std::string d = normaliseDomain(domain), b = normaliseDomain(base);
  if (d.empty() || b.empty()) return false;
  return d == b || (d.size() > b.size() && d.ends_with(b) && d[d.size() - b.size() - 1] == '.');
}

std::string registrableDomain(std::string_view host) {
  const std::string h = normaliseDomain(host);
  if (h.empty() || isIpv4(h) || h.find(':') != std::string::npos) return {};
  const char* registrable = psl_registrable_domain(psl_builtin(), h.c_str());
  return registrable ? std::string(registrable) : std::string();
}

std::vector<Identity> caldavIdentities(std::string_view serverUrl, const std::vector<std::string>& addresses) {
  std::vector<Identity> out;
  const std::string server = registrableDomain(hostOf(serverUrl));
  if (!server.empty()) out.push_back({IdentityKind::ServerDomain, "", server, true});
  for (const auto& raw : addresses) {
    const std::string href = percentDecoded(raw);  // Xandikos sends "mailto%3Aalice%40acme.com"
    if (href.size() < 7 || normaliseDomain(std::string_view(href).substr(0, 7)) != "mailto:") continue;
    auto a = splitAddress(std::string_view(href).substr(7));
    if (!a) continue;
    const bool duplicate = std::any_of(out.begin(), out.end(), [&](const Identity& i) { return i.address == a->first; });
    if (!duplicate) out.push_back({IdentityKind::CalDavAddress, a->first, a->second, withinDomain(a->second, server)});
  }
  return out;
}

std::vector<Identity> googleIdentities(std::string_view email, bool emailVerified, std::string_view hostedDomain) {
  std::vector<Identity> out;
  if (auto a = splitAddress(email); a && emailVerified) out.push_back({IdentityKind::VerifiedEmail, a->first, a->second, false});
  if (const std::string hd = normaliseDomain(hostedDomain); !hd.empty() && hd.find_first_of(" /@") == std::string::npos) {
    out.push_back({IdentityKind::HostedDomain, "", hd, true});
  }
  return out;
}

std::vector<Identity> microsoftIdentities(std::string_view upn, std::string_view tenantId) {
  std::vector<Identity> out;
  auto a = splitAddress(upn);
  if (!a) return out;
  const bool work = !tenantId.empty() && tenantId != kMicrosoftConsumerTenant;
  out.push_back({work ? IdentityKind::WorkAccount : IdentityKind::VerifiedEmail, a->first, a->second, work,
                 std::string(tenantId)});
  return out;
}

}  // namespace calgate::model
