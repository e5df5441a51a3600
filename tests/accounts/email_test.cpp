// Email addresses as accounts and users keep them.
#include "calgate/accounts/user_store.hpp"

#include <catch2/catch.hpp>

using namespace calgate::accounts;

TEST_CASE("email addresses are normalised and checked", "[store]") {
  CHECK(normaliseEmail("  Alice@Example.COM ") == std::string("alice@example.com"));
  CHECK_FALSE(normaliseEmail(""));
  CHECK_FALSE(normaliseEmail("no-at-sign"));
  CHECK_FALSE(normaliseEmail("two@@example.com"));
  CHECK_FALSE(normaliseEmail("@example.com"));
  CHECK_FALSE(normaliseEmail("a@"));
  CHECK_FALSE(normaliseEmail("a@.example.com"));
  CHECK_FALSE(normaliseEmail("a b@example.com"));
  CHECK_FALSE(normaliseEmail("a@exa_mple.com"));
  CHECK_FALSE(normaliseEmail(std::string(65, 'a') + "@example.com"));
}
