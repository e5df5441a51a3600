#pragma once
// The generated table of the portal's files (cmake/EmbedAssets.cmake writes its definition).
#include <cstddef>

namespace calgate::portal::detail {

struct EmbeddedAsset {
  const char* name;
  const char* contentType;
  const char* sha256Hex;
  const unsigned char* body;
  std::size_t size;  ///< of body, without the 0 the generator appends
};

extern const EmbeddedAsset kEmbeddedAssets[];
extern const std::size_t kEmbeddedAssetCount;

}  // namespace calgate::portal::detail
