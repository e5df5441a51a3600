// The HTTP seam's pure helpers: Retry-After, the errors statuses stand for, the address guard.
#include "calgate/providers/http/http_client.hpp"
#include "calgate/providers/http/url_guard.hpp"
#include "fakes/fake_clock.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <utility>
#include <vector>

using namespace calgate;
using namespace calgate::providers;
using namespace std::chrono;

TEST_CASE("HTTP helpers: Retry-After, status errors, the address guard", "[http][caldav]") {
  auto clock = test::FakeClock::at(2026y / November / 21, 12h);
  CHECK(parseRetryAfter("120", clock) == std::optional<seconds>(120));
  CHECK(parseRetryAfter("Sat, 21 Nov 2026 12:05:00 GMT", clock) == std::optional<seconds>(300));
  CHECK(parseRetryAfter("Sat, 21 Nov 2026 11:00:00 GMT", clock) == std::optional<seconds>(0));
  CHECK_FALSE(parseRetryAfter("soon", clock));
  HttpResponse r;
  r.status = 429;
  r.headers["retry-after"] = "7";
  auto e = statusError(r, "PUT", clock);
  CHECK(e.code == core::ErrorCode::RateLimited);
  CHECK(e.retryAfter == std::optional<seconds>(7));
  for (auto [status, code] : std::vector<std::pair<long, core::ErrorCode>>{{401, core::ErrorCode::Unauthorized},
                                                                         {404, core::ErrorCode::NotFound},
                                                                         {409, core::ErrorCode::Conflict},
                                                                         {410, core::ErrorCode::Gone},
                                                                         {412, core::ErrorCode::PreconditionFailed},
                                                                         {500, core::ErrorCode::Unavailable},
                                                                         {400, core::ErrorCode::Invalid}}) {
    r.status = status;
    CHECK(statusError(r, "x", clock).code == code);
  }
  for (const auto* ip : {"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"}) {
    INFO(ip);
    CHECK(isLoopbackAddress(ip));
  }
  for (const auto* ip : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                         "0.0.0.0", "fc00::1", "fd12::1", "fe80::1", "::", "::ffff:10.0.0.1", "224.0.0.1", "garbage"}) {
    INFO(ip);
    CHECK(isPrivateAddress(ip));
  }
  for (const auto* ip : {"17.253.144.10", "172.32.0.1", "8.8.8.8", "2606:4700::1111"}) {
    INFO(ip);
    CHECK_FALSE(isPrivateAddress(ip));
    CHECK_FALSE(isLoopbackAddress(ip));
  }
}

TEST_CASE("the address guard sees private IPv4 inside IPv6 transition addresses", "[http][caldav][ssrf]") {
  for (const auto* ip : {
           "198.18.0.1", "198.19.255.254",               // benchmarking, 198.18.0.0/15
           "192.0.0.1", "192.0.0.170",                   // IETF protocol assignments, 192.0.0.0/24
           "64:ff9b::7f00:1", "64:ff9b::a00:1",          // NAT64 of 127.0.0.1, 10.0.0.1
           "64:ff9b::169.254.169.254", "64:ff9b::c0a8:101",  // NAT64 of the metadata service, 192.168.1.1
           "64:ff9b:1::8.8.8.8",                         // local-use NAT64 prefix
           "2002:7f00:1::", "2002:a00:1:1::1", "2002:a9fe:a9fe::1",  // 6to4 of 127.0.0.1, 10.0.0.1, 169.254.169.254
           "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",         // IPv4-compatible
           "::ffff:0:127.0.0.1", "::ffff:0:a00:1", "::ffff:0:c612:1",  // IPv4-translated (SIIT)
           "::ffff:198.18.0.1"}) {
    INFO(ip);
    CHECK(isPrivateAddress(ip));
  }
  for (const auto* ip : {"198.17.255.255", "198.20.0.1", "192.0.1.1", "64:ff9b::808:808", "2002:808:808::1",
                         "::ffff:0:808:808", "2001:db8::1", "2a00:1450:4001::200e"}) {
    INFO(ip);
    CHECK_FALSE(isPrivateAddress(ip));
  }
}

