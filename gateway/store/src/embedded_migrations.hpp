#pragma once
// The SQL files under schemas/sql/, compiled in by gateway/CMakeLists.txt.

#include <cstddef>
#include <string_view>

namespace calgate::store::detail {

struct EmbeddedMigration {
  std::string_view dialect;  // "sqlite" | "postgresql"
  int version;
  std::string_view name;
  std::string_view sql;
};

extern const EmbeddedMigration kEmbeddedMigrations[];
extern const std::size_t kEmbeddedMigrationCount;

}  // namespace calgate::store::detail
