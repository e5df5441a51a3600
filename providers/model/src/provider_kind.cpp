#include "calgate/model/provider_kind.hpp"

#include <string>

namespace calgate::model {

std::string_view toString(ProviderKind p) {
  switch (p) {
    case ProviderKind::Google: return "google";
    case ProviderKind::Microsoft: return "microsoft";
    case ProviderKind::CalDav: return "caldav";
  }
  return "unknown";  // not reached: the switch covers the enum
}

core::Result<ProviderKind> parseProviderKind(std::string_view text) {
  for (const ProviderKind p : kProviderKinds) {
    if (toString(p) == text) return p;
  }
  return core::fail(core::ErrorCode::Invalid, "unknown provider \"" + std::string(text.substr(0, 32)) +
                                                  "\" (expected one of " + std::string(providerKindList()) + ")");
}

std::string_view providerKindList() {
  static const std::string list = [] {
    std::string out;
    for (const ProviderKind p : kProviderKinds) out += (out.empty() ? "" : ", ") + std::string(toString(p));
    return out;
  }();
  return list;
}

}  // namespace calgate::model
