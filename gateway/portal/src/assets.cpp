#include "calgate/portal/assets.hpp"

#include "embedded_assets.hpp"

namespace calgate::portal {

const std::vector<Asset>& allAssets() {
  static const std::vector<Asset> assets = [] {
    std::vector<Asset> out;
    for (std::size_t i = 0; i < detail::kEmbeddedAssetCount; ++i) {
      const auto& a = detail::kEmbeddedAssets[i];
      out.push_back({a.name, a.contentType, a.sha256Hex,
                     std::string_view(reinterpret_cast<const char*>(a.body), a.size)});
    }
    return out;
  }();
  return assets;
}

const Asset* findAsset(std::string_view name) {
  for (const auto& a : allAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace calgate::portal
