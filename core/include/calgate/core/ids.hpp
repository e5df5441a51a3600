#pragma once
/// Identifiers and bearer secrets, drawn from the operating system's CSPRNG.

#include <string>
#include <string_view>

namespace calgate::core {

/// A new opaque identifier: `prefix` + "_" + 26 characters of lower-case base32 (128 random bits),
/// e.g. "usr_3kq9...". Prefixes make ids self-describing in logs and support requests.
std::string newId(std::string_view prefix);

/// A new bearer secret: `prefix` + "_" + 43 characters of base64url (256 random bits).
/// The prefix lets secret scanners recognise leaked tokens. Store only its SHA-256.
std::string newSecret(std::string_view prefix);

}  // namespace calgate::core
