#pragma once
/// The portal's files (gateway/portal/assets: HTML, CSS, JavaScript), embedded in the binary at
/// build time by cmake/EmbedAssets.cmake. Immutable; thread-safe.

#include <string_view>
#include <vector>

namespace calgate::portal {

struct Asset {
  std::string_view name;         ///< "app.js"
  std::string_view contentType;  ///< "text/javascript; charset=utf-8"
  std::string_view sha256Hex;    ///< of the body: the ETag
  std::string_view body;
};

/// The asset of this file name, or nullptr.
const Asset* findAsset(std::string_view name);
/// Every asset, by name.
const std::vector<Asset>& allAssets();

}  // namespace calgate::portal
