// The adapters' HTTP seam. Redirects as the HTTP client follows them itself: WebDAV methods keep
// method and body, 303 becomes GET, credentials follow only within a site, https never goes to
// http (a scripted loopback server records what arrives); refusals with their causes; and the pure
// helpers: Retry-After, the errors statuses stand for, the address guard.
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/providers/http/http_client.hpp"
#include "calgate/providers/http/url_guard.hpp"
#include "fakes/fake_clock.hpp"
#include "support/scripted_server.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace calgate;
using namespace calgate::providers;
using namespace std::chrono;

namespace {

using test::ScriptedServer;

std::string redirect(int status, const std::string& location) {
  return "HTTP/1.1 " + std::to_string(status) + " Moved\r\nLocation: " + location +
         "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}
const std::string kMultistatus =
    "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

HttpRequest propfind(const std::string& url) {
  HttpRequest r;
  r.method = "PROPFIND";
  r.url = url;
  r.body = "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\"><d:prop><d:current-user-principal/></d:prop></d:propfind>";
  r.headers = {{"Content-Type", "application/xml"}, {"Depth", "0"}};
  r.username = "alice";
  const std::string pw = "app-password";
  r.password.assign(pw.begin(), pw.end());
  return r;
}

CurlHttpClient loopbackClient() {
  HttpClientOptions o;
  o.allowLoopback = true;
  o.allowPlainHttp = true;  // the test servers speak plain http on loopback
  return CurlHttpClient(o);
}

}  // namespace

TEST_CASE("a redirected PROPFIND keeps its method, body and (same origin) credentials", "[http][redirect]") {
  ScriptedServer server({redirect(301, "/dav/"), kMultistatus});
  auto client = loopbackClient();
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  auto r = client.send(propfind(base + "/.well-known/caldav"));
  REQUIRE(r);
  CHECK(r->status == 207);
  CHECK(r->effectiveUrl == base + "/dav/");
  REQUIRE(server.received.size() == 2);
  CHECK(server.received[1].requestLine == "PROPFIND /dav/ HTTP/1.1");
  CHECK(server.received[1].body == server.received[0].body);
  CHECK_FALSE(server.received[1].body.empty());
  CHECK_THAT(server.received[1].headers, Catch::Contains("Authorization: Basic"));
  CHECK(r->effectiveUrl.find("app-password") == std::string::npos);
}

TEST_CASE("303 See Other is fetched with GET and no body", "[http][redirect]") {
  ScriptedServer server({redirect(303, "/other"), kMultistatus});
  auto client = loopbackClient();
  auto r = client.send(propfind("http://127.0.0.1:" + std::to_string(server.port()) + "/start"));
  REQUIRE(r);
  REQUIRE(server.received.size() == 2);
  CHECK(server.received[1].requestLine == "GET /other HTTP/1.1");
  CHECK(server.received[1].body.empty());
}

TEST_CASE("credentials do not follow a redirect to another host", "[http][redirect]") {
  ScriptedServer server({kMultistatus});
  // 127.0.0.1 -> localhost is another host
  ScriptedServer first({redirect(302, "http://localhost:" + std::to_string(server.port()) + "/home/")});
  auto client = loopbackClient();
  auto r = client.send(propfind("http://127.0.0.1:" + std::to_string(first.port()) + "/"));
  REQUIRE(r);
  REQUIRE(first.received.size() == 1);
  CHECK_THAT(first.received[0].headers, Catch::Contains("Authorization: Basic"));
  REQUIRE(server.received.size() == 1);
  CHECK(server.received[0].requestLine == "PROPFIND /home/ HTTP/1.1");
  CHECK(server.received[0].headers.find("Authorization") == std::string::npos);
}

TEST_CASE("redirect targets and where credentials may follow", "[http][redirect]") {
  CHECK(*redirectTarget("https://a.example/x/y", "z") == "https://a.example/x/z");
  CHECK(*redirectTarget("https://a.example/x", "/dav/") == "https://a.example/dav/");
  CHECK_FALSE(redirectTarget("https://a.example/", "http://a.example/"));  // downgrade
  CHECK_FALSE(redirectTarget("https://a.example/", "https://u:p@a.example/"));
  CHECK_FALSE(redirectTarget("https://a.example/", "ftp://a.example/"));
  CHECK(*redirectTarget("http://a.example/", "https://b.example/") == "https://b.example/");

  CHECK(credentialsMayFollow("https://fastmail.com/.well-known/caldav", "https://caldav.fastmail.com/dav/"));
  CHECK(credentialsMayFollow("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"));
  CHECK_FALSE(credentialsMayFollow("http://127.0.0.1:8080/a", "http://127.0.0.1:9090/b"));  // another origin over http
  CHECK_FALSE(credentialsMayFollow("https://fastmail.com/", "https://evil.example/"));
  CHECK_FALSE(credentialsMayFollow("https://a.github.io/", "https://b.github.io/"));  // a public suffix is not a site
  CHECK_FALSE(credentialsMayFollow("http://fastmail.com/", "http://caldav.fastmail.com/"));  // only over https

  // the same origin written alike is decided without parsing: never for a longer name, another
  // port, userinfo or another scheme
  CHECK(credentialsMayFollow("https://dav.example", "https://dav.example?x"));
  CHECK(credentialsMayFollow("https://Dav.Example:8443/a", "https://dav.example:8443/b"));  // parsed: case
  CHECK_FALSE(credentialsMayFollow("http://dav.example/a", "http://dav.example.evil/b"));
  CHECK_FALSE(credentialsMayFollow("http://dav.example/a", "http://dav.example:81/b"));
  CHECK_FALSE(credentialsMayFollow("http://dav.example:80/a", "http://dav.example:8/b"));
  CHECK_FALSE(credentialsMayFollow("http://dav.example/a", "http://dav.example@evil.example/b"));
  CHECK_FALSE(credentialsMayFollow("http://dav.example/a", "https://dav.example/b"));
  CHECK(credentialsMayFollow("http://dav.example/a", "http://dav.example:80/b"));  // parsed: the default port
  CHECK(credentialsMayFollow("http://[::1]:8080/a", "http://[::1]:8080/b"));      // parsed: IPv6
  CHECK_FALSE(credentialsMayFollow("http://[::1]:8080/a", "http://[::2]:8080/b"));
  CHECK_FALSE(urlHasUserinfo("https://dav.example/a?b=c"));
  CHECK(urlHasUserinfo("https://u@dav.example/"));
  CHECK_FALSE(urlHasUserinfo("https://dav.example/a@b"));  // an '@' in the path is not userinfo

  // a malformed URL on the account's own site passes the site check: the client refuses it as
  // malformed, not as an outage worth retrying
  CHECK(credentialsMayFollow("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a b"));
  auto malformed = loopbackClient().send(propfind("http://127.0.0.1:8080/a b"));
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().code == calgate::core::ErrorCode::Invalid);
  CHECK(malformed.error().cause == calgate::core::Cause::UrlRejected);
}

TEST_CASE("refusals carry their cause: a guarded address, a URL calgate does not request", "[http][guard]") {
  // The default guard refuses loopback: before anything is sent, also after a redirect there.
  ScriptedServer server({kMultistatus});
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  HttpClientOptions plain;
  plain.allowPlainHttp = true;  // the address is what is refused here, not the scheme
  CurlHttpClient guarded(plain);
  auto refused = guarded.send(propfind(base + "/"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == calgate::core::ErrorCode::Invalid);
  CHECK(refused.error().cause == calgate::core::Cause::AddressRefused);
  CHECK(server.received.empty());

  // a server the guard allows cannot send the client on to one it refuses
  ScriptedServer redirecting({redirect(302, "http://10.255.255.1:9/private")});
  auto hop = loopbackClient().send(propfind("http://127.0.0.1:" + std::to_string(redirecting.port()) + "/"));
  REQUIRE_FALSE(hop);
  CHECK(hop.error().cause == calgate::core::Cause::AddressRefused);
  CHECK(redirecting.received.size() == 1);

  for (const std::string url : {"ftp://127.0.0.1/", "file:///etc/passwd", "https://alice:secret@cal.example.com/"}) {
    INFO(url);
    auto rejected = guarded.send(propfind(url));
    REQUIRE_FALSE(rejected);
    CHECK(rejected.error().code == calgate::core::ErrorCode::Invalid);
    CHECK(rejected.error().cause == calgate::core::Cause::UrlRejected);
    CHECK(rejected.error().message.find("secret") == std::string::npos);
  }
}

// ---- pure helpers: Retry-After, the errors statuses stand for, the address guard

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

TEST_CASE("a deadline bounds every request: what is left of it, then nothing at all", "[http][budget]") {
  // a server that accepts and never answers
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  REQUIRE(::listen(fd, 4) == 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/dav/";

  HttpClientOptions o;
  o.allowLoopback = true;
  o.allowPlainHttp = true;  // the test servers speak plain http on loopback
  o.totalTimeout = seconds(30);
  o.deadline = steady_clock::now() + milliseconds(300);
  CurlHttpClient client(o);
  auto waited = client.send(propfind(url));
  REQUIRE_FALSE(waited);
  CHECK(waited.error().code == core::ErrorCode::Timeout);
  CHECK(waited.error().cause == core::Cause::BudgetExceeded);  // the budget ran out, not the 30 s
  // after the deadline no request is even sent
  auto late = client.send(propfind(url));
  REQUIRE_FALSE(late);
  CHECK(late.error().cause == core::Cause::BudgetExceeded);
  CHECK_THAT(late.error().message, Catch::Contains("time budget"));
  ::close(fd);
}

TEST_CASE("http:// is refused unless allowed; the gateway's own addresses are refused like loopback; errors are classes",
          "[http][guard]") {
  ScriptedServer server({kMultistatus});
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/dav/";
  HttpClientOptions strict;
  strict.allowLoopback = true;  // even where loopback is fine, clear text is not
  auto refused = CurlHttpClient(strict).send(propfind(url));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().cause == core::Cause::UrlRejected);
  CHECK_THAT(refused.error().message, Catch::Contains("only https://"));
  CHECK(server.received.empty());  // nothing was sent, the password least of all
  strict.allowPlainHttp = true;
  CHECK(CurlHttpClient(strict).send(propfind(url)));

  // every address of this host counts as the gateway itself
  CHECK(isOwnAddress("127.0.0.1"));
  CHECK_FALSE(isOwnAddress("192.0.2.77"));  // TEST-NET-1: nobody's
  // a closed port and an unresolvable name: classes, not the transport's words
  HttpClientOptions open;
  open.allowLoopback = open.allowPlainHttp = true;
  auto closed = CurlHttpClient(open).send(propfind("http://127.0.0.1:1/dav/"));
  REQUIRE_FALSE(closed);
  CHECK(closed.error().message == "the server could not be reached, or did not answer with HTTP");
  auto unknown = CurlHttpClient(open).send(propfind("http://no-such-host.invalid/dav/"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "the server's name could not be found");
}

TEST_CASE("a header with a line break or NUL is never sent (an ETag from a server goes back as If-Match)", "[http][guard]") {
  ScriptedServer server({kMultistatus});
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  for (const std::string& bad : {std::string("\"1\"\r\nX-Evil: yes"), std::string("\"1\"\nX"), std::string("a\0b", 3)}) {
    auto request = propfind(url);
    request.headers.emplace_back("If-Match", bad);
    auto r = loopbackClient().send(request);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == calgate::core::ErrorCode::Invalid);
  }
  CHECK(server.received.empty());
  auto fine = propfind(url);
  fine.headers.emplace_back("If-Match", "W/\"abc\"");
  CHECK(loopbackClient().send(fine));
}

TEST_CASE("a compressed answer is asked for only where one is wanted; answer headers are read lower-cased", "[http]") {
  const std::string answer =
      "HTTP/1.1 201 Created\r\nETag:  \"e1\" \r\nX-Odd-Case: v\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  ScriptedServer server({answer, answer});
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/cal/a.ics";
  auto put = propfind(url);
  put.method = "PUT";
  put.acceptCompressed = false;
  auto written = loopbackClient().send(put);
  REQUIRE(written);
  CHECK(written->header("etag") == "\"e1\"");
  CHECK(written->header("x-odd-case") == "v");
  CHECK(loopbackClient().send(propfind(url)));
  REQUIRE(server.received.size() == 2);
  CHECK_THAT(server.received[0].headers, !Catch::Contains("Accept-Encoding"));
  CHECK_THAT(server.received[1].headers, Catch::Contains("Accept-Encoding"));
}
