#pragma once
// What the protocol's pieces share: base64url, form encoding, URL rules, bounded JSON reading, and
// provider text made fit for a message. Pure functions.

#include "calgate/core/error.hpp"
#include "calgate/oauth/client.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::oauth::detail {

/// base64url without padding (RFC 7515 §2).
std::string base64url(const std::uint8_t* data, std::size_t size);
/// Strict inverse: only the base64url alphabet, no padding, no whitespace; nullopt otherwise.
std::optional<std::vector<std::uint8_t>> fromBase64url(std::string_view text);

/// application/x-www-form-urlencoded: unreserved characters as they are, space as '+', every other
/// byte %XX.
std::string formEncode(std::string_view value);
/// Appends "&name=value" (no '&' when `out` is empty), `value` form-encoded, into wiped memory.
void appendField(Secret& out, std::string_view name, std::string_view value);

/// Whether `url` may be used as a protocol endpoint: https (or, when allowInsecureLoopback, http to
/// a loopback IP literal), a host, no userinfo, no fragment. `what` names it in the error
/// (Invalid, cause UrlRejected).
core::Result<void> checkEndpointUrl(const std::string& url, bool allowInsecureLoopback, std::string_view what);

/// `body` as a JSON object of at most `limit` bytes; Invalid ("<what> ...") otherwise.
core::Result<nlohmann::json> jsonObject(std::string_view body, std::size_t limit, std::string_view what);

/// The string member `name` of `object`; nullopt when absent or not a string.
std::optional<std::string> stringMember(const nlohmann::json& object, std::string_view name);

/// Text from a provider, fit for a message: printable ASCII only, at most `max` bytes.
std::string printable(std::string_view text, std::size_t max);

/// Constant-time equality (no early exit on the first difference).
bool sameBytes(std::string_view a, std::string_view b);

}  // namespace calgate::oauth::detail
