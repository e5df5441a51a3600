#pragma once
// Lookup helpers for the providers' vocabulary tables: each table is an array of
// {model value, wire value} rows, searched in order.

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>

namespace calgate::model::detail {

template <class E>
struct Row {
  E model;
  std::string_view wire;
};

template <class E, std::size_t N>
std::string_view wireFor(const std::array<Row<E>, N>& rows, E value, std::string_view fallback) {
  for (const auto& r : rows) {
    if (r.model == value) return r.wire;
  }
  return fallback;
}

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

/// Exact match (JSON APIs are case-sensitive) unless `ignoreCase` (iCalendar values are not).
template <class E, std::size_t N>
std::optional<E> modelFor(const std::array<Row<E>, N>& rows, std::string_view wire, bool ignoreCase = false) {
  for (const auto& r : rows) {
    if (ignoreCase ? equalsIgnoreCase(r.wire, wire) : r.wire == wire) return r.model;
  }
  return std::nullopt;
}

}  // namespace calgate::model::detail
