# Third-party dependencies, all from Debian bookworm packages (deploy/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 CONFIG REQUIRED)

pkg_check_modules(BOTAN REQUIRED IMPORTED_TARGET botan-2)
pkg_check_modules(PISTACHE REQUIRED IMPORTED_TARGET libpistache)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LIBICAL REQUIRED IMPORTED_TARGET libical)
pkg_check_modules(LDNS REQUIRED IMPORTED_TARGET ldns)
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares)
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)
pkg_check_modules(PUGIXML REQUIRED IMPORTED_TARGET pugixml)
find_package(PostgreSQL REQUIRED)

# SOCI ships no CMake package on Debian: locate headers and the core + backend libraries by hand.
find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
find_library(SOCI_CORE_LIBRARY soci_core REQUIRED)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3 REQUIRED)
find_library(SOCI_POSTGRESQL_LIBRARY soci_postgresql REQUIRED)
add_library(calgate_soci INTERFACE)
target_include_directories(calgate_soci SYSTEM INTERFACE ${SOCI_INCLUDE_DIR} ${PostgreSQL_INCLUDE_DIRS})
target_link_libraries(calgate_soci INTERFACE ${SOCI_POSTGRESQL_LIBRARY} ${SOCI_SQLITE3_LIBRARY}
                      ${SOCI_CORE_LIBRARY} PkgConfig::SQLITE3 PostgreSQL::PostgreSQL ${CMAKE_DL_LIBS})

if(CALGATE_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
