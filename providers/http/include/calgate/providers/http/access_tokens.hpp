#pragma once
/// An account's OAuth access tokens, as the Google and Microsoft Graph adapters use them
/// (accounts::TokenBroker in calgate). Implementations are thread-safe.

#include "calgate/core/error.hpp"

#include <botan/secmem.h>

namespace calgate::providers {

class AccessTokens {
 public:
  virtual ~AccessTokens() = default;
  /// A current access token. Errors are the broker's (Unauthorized/InvalidGrant: reconnect).
  virtual core::Result<Botan::secure_vector<char>> token() = 0;
  /// The API refused the last token (401): forget it, so the next token() refreshes.
  virtual void rejected() = 0;
};

}  // namespace calgate::providers
