#pragma once
/// Reading columns from a soci::row whatever type the backend reports: SQLite reports
/// expressions (COALESCE, ...) without a declared type as strings, PostgreSQL BIGINT as long long.
/// NULL reads as 0 or "". Pure functions.

#include <soci/soci.h>

#include <cstdlib>
#include <string>

namespace calgate::store {

inline long long integerAt(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return 0;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return r.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double: return static_cast<long long>(r.get<double>(i));
    case soci::dt_string: return std::strtoll(r.get<std::string>(i).c_str(), nullptr, 10);
    default: return 0;
  }
}

inline std::string textAt(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return {};
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_string: return r.get<std::string>(i);
    default: return std::to_string(integerAt(r, i));
  }
}

}  // namespace calgate::store
