#define CATCH_CONFIG_RUNNER
#include "calgate/core/log.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

// Server logs are silent in tests unless CG_TEST_LOG_LEVEL (debug|info|warn|error) asks for them.
int main(int argc, char** argv) {
  calgate::core::log::Level level = calgate::core::log::Level::Off;
  if (const char* wanted = std::getenv("CG_TEST_LOG_LEVEL")) calgate::core::log::parseLevel(wanted, level);
  calgate::core::log::setLevel(level);
  return Catch::Session().run(argc, argv);
}
