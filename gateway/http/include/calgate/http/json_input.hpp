#pragma once
/// Strict reading of JSON request bodies: Content-Type application/json, at most kMaxJsonBody
/// bytes, nesting at most kMaxJsonDepth, one object, no members the endpoint does not know, and
/// every member of the expected type and range. Failures are the problem+json responses the
/// OpenAPI document lists (invalid-json, unknown-field, missing-field, invalid-field, 413, 415).
/// Query strings too (parseQuery). Pure functions; an ObjectReader only reads the JSON it is given.

#include "calgate/core/error.hpp"
#include "calgate/http/message.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::http {

/// A value, or the error response to send instead.
template <class T>
using Reply = std::expected<T, Response>;

inline constexpr std::size_t kMaxJsonBody = 64 * 1024;
inline constexpr int kMaxJsonDepth = 8;

/// 400 invalid-field naming `field`.
Response invalidField(std::string_view field, std::string_view detail);

/// The request body as a JSON object.
Reply<nlohmann::json> readJsonObject(const Request& request);

/// Reads the members of one JSON object; `prefix` names it in errors ("window.").
class ObjectReader {
 public:
  explicit ObjectReader(const nlohmann::json& object, std::string prefix = {});

  /// 400 unknown-field for the first member not in `allowed`.
  Reply<void> only(std::initializer_list<std::string_view> allowed) const;
  bool has(std::string_view name) const;
  const nlohmann::json* member(std::string_view name) const;
  std::string path(std::string_view name) const { return prefix_ + std::string(name); }

  /// A string of `minBytes`..`maxBytes` bytes of valid UTF-8 without control characters.
  Reply<std::optional<std::string>> optionalString(std::string_view name, std::size_t minBytes,
                                                   std::size_t maxBytes) const;
  /// The same, but 400 missing-field when absent.
  Reply<std::string> requiredString(std::string_view name, std::size_t minBytes, std::size_t maxBytes) const;
  Reply<std::optional<long long>> optionalInteger(std::string_view name, long long min, long long max) const;
  Reply<std::optional<bool>> optionalBool(std::string_view name) const;
  /// A string that must be one of `values`.
  Reply<std::optional<std::string>> optionalEnum(std::string_view name,
                                                 std::initializer_list<std::string_view> values) const;
  /// A nested object (400 invalid-field if present and not an object).
  Reply<std::optional<ObjectReader>> optionalObject(std::string_view name) const;
  /// An array of 1..`maxItems` distinct strings of at most `maxBytes` each.
  Reply<std::vector<std::string>> requiredStringList(std::string_view name, std::size_t maxItems,
                                                     std::size_t maxBytes) const;

 private:
  const nlohmann::json* object_;
  std::string prefix_;
};

/// Parses a query string ("a=1&b=x") into decoded pairs; nullopt when malformed or too long.
std::optional<std::vector<std::pair<std::string, std::string>>> parseQuery(std::string_view query);

}  // namespace calgate::http
