#include "oauth_adapters.hpp"

#include "calgate/vault/master_key.hpp"

#include <algorithm>

namespace calgate::accounts::detail {

using core::ErrorCode;

core::Result<oauth::Secret> readClientSecret(const std::filesystem::path& file, const std::string& setting) {
  if (file.empty()) return core::fail(ErrorCode::Invalid, setting + " is not set");
  auto text = vault::readSecretFile(file, setting + " " + file.string(), 1024);
  if (!text) return core::fail(ErrorCode::Invalid, text.error().message);
  std::size_t n = text->size();
  while (n > 0 && (text->at(n - 1) == '\n' || text->at(n - 1) == '\r' || text->at(n - 1) == ' ')) --n;
  if (n == 0 || n > 512 || std::find(text->begin(), text->begin() + static_cast<long>(n), '\n') != text->begin() + static_cast<long>(n)) {
    return core::fail(ErrorCode::Invalid, setting + " " + file.string() + " does not hold one line of secret");
  }
  return oauth::Secret(text->begin(), text->begin() + static_cast<long>(n));
}

}  // namespace calgate::accounts::detail
