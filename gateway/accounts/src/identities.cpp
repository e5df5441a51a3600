#include "calgate/accounts/identities.hpp"

#include <nlohmann/json.hpp>

namespace calgate::accounts {
namespace {

void addTyped(std::vector<model::Identity>& out, const std::string& email) {
  if (const auto at = email.rfind('@'); at != std::string::npos && at + 1 < email.size()) {
    out.push_back({model::IdentityKind::Typed, email, model::normaliseDomain(email.substr(at + 1)), false});
  }
}

std::vector<model::Identity> legacy(const std::string& email, const std::optional<std::string>& serverUrl) {
  std::vector<model::Identity> out = serverUrl ? model::caldavIdentities(*serverUrl, {}) : std::vector<model::Identity>{};
  addTyped(out, email);
  return out;
}

// A string member, "" when absent or of another type (value() would throw on a wrong type).
std::string text(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<model::Identity> withTypedFallback(std::vector<model::Identity> proven, const std::string& label) {
  if (proven.empty()) addTyped(proven, label);
  return proven;
}

std::string identitiesToJson(const std::vector<model::Identity>& identities) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : identities) {
    nlohmann::json one = {{"kind", std::string(model::toString(i.kind))}, {"domain", i.domain}, {"member", i.member}};
    if (!i.address.empty()) one["address"] = i.address;
    if (!i.tenant.empty()) one["tenant"] = i.tenant;
    out.push_back(std::move(one));
  }
  return out.dump();
}

std::vector<model::Identity> identitiesFromColumn(const std::optional<std::string>& column, const std::string& email,
                                                  const std::optional<std::string>& serverUrl) {
  if (!column) return legacy(email, serverUrl);
  const auto parsed = nlohmann::json::parse(*column, nullptr, false);
  if (!parsed.is_array()) return legacy(email, serverUrl);
  std::vector<model::Identity> out;
  for (const auto& one : parsed) {
    if (!one.is_object()) continue;
    model::Identity i;
    if (!model::parseIdentityKind(text(one, "kind"), i.kind)) continue;
    i.domain = model::normaliseDomain(text(one, "domain"));
    if (i.domain.empty()) continue;
    i.address = text(one, "address");
    const auto member = one.find("member");
    i.member = member != one.end() && member->is_boolean() && member->get<bool>();
    i.tenant = text(one, "tenant");
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace calgate::accounts
