#pragma once
/// Defensive field access on provider JSON (Google, Microsoft Graph): a field of the wrong type
/// reads as absent, never as a thrown exception. Include only from adapter sources (it pulls in
/// nlohmann/json.hpp).

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace calgate::providers {

/// `object[key]` when `object` is an object holding a string there; "" otherwise.
inline std::string stringField(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// `object[key]` when it is an array; an empty array otherwise.
inline const nlohmann::json& arrayField(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json empty = nlohmann::json::array();
  if (!object.is_object()) return empty;
  const auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : empty;
}

/// `object[key]` when it is a boolean; `otherwise` else.
inline bool boolField(const nlohmann::json& object, std::string_view key, bool otherwise = false) {
  if (!object.is_object()) return otherwise;
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : otherwise;
}

}  // namespace calgate::providers
