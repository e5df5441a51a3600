// The per-account request pacer: a sliding minute, waits through the caller's sleep, and one pacer
// per key shared by every adapter of an account.
#include "calgate/providers/http/request_pacer.hpp"
#include "fakes/fake_clock.hpp"

#include <catch2/catch.hpp>

using namespace calgate;
using namespace calgate::providers;
using namespace std::chrono;

TEST_CASE("the pacer lets perMinute requests through a sliding minute and waits for the next", "[pacer]") {
  auto clock = test::FakeClock::at(2026y / June / 1);
  std::vector<milliseconds> waits;
  auto sleep = [&](milliseconds d) {
    waits.push_back(d);
    clock.advance(d);
  };
  RequestPacer pacer(3);
  pacer.take(2, clock, sleep);
  clock.advance(seconds(20));
  pacer.take(1, clock, sleep);
  CHECK(waits.empty());
  pacer.take(2, clock, sleep);  // the first two leave the window together, 60 s after they went
  REQUIRE(waits.size() == 1);
  CHECK(waits[0] == seconds(40));
  pacer.take(1, clock, sleep);  // the third leaves it 20 s later
  REQUIRE(waits.size() == 2);
  CHECK(waits[1] == seconds(20));
  CHECK(pacer.lastUse() == clock.now());
  RequestPacer unlimited(0);
  unlimited.take(1000, clock, sleep);
  CHECK(waits.size() == 2);
}

TEST_CASE("one pacer per key: the adapters of one account share it, other accounts have their own", "[pacer]") {
  const auto a = sharedPacer("google:acct_pacer_a", 300);
  const auto again = sharedPacer("google:acct_pacer_a", 300);
  const auto other = sharedPacer("google:acct_pacer_b", 300);
  CHECK(a == again);
  CHECK(a != other);
  // a new rate (the operator changed it) starts a new pacer for that key
  CHECK(sharedPacer("google:acct_pacer_a", 100)->perMinute() == 100);
}
