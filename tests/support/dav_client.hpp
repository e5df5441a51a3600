#pragma once
// A CalDAV test server (Radicale or Xandikos, started by tests/services/caldav.sh) and a client
// that edits it directly, as users and other apps do. For Catch2 test executables.

#include "calgate/core/clock.hpp"
#include "calgate/providers/caldav/caldav_provider.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace calgate::test {

struct DavServer {
  std::string name;         ///< radicale | xandikos
  std::string base;         ///< http://127.0.0.1:PORT/
  std::string user;
  std::string password;
  std::string collections;  ///< where test calendars are made
};

/// `which` server from the fixture's state directory (CG_TEST_CALDAV_STATE).
inline DavServer davServer(const std::string& which) {
  const char* state = std::getenv("CG_TEST_CALDAV_STATE");
  REQUIRE(state);
  std::string url = readFile(std::string(state) + "/" + which + ".url");
  while (!url.empty() && url.back() == '\n') url.pop_back();
  REQUIRE_FALSE(url.empty());
  if (which == "radicale") return {"radicale", url, "alice", "alice-app-password", url + "alice/"};
  return {"xandikos", url, "user", "unused", url + "user/calendars/"};
}

inline providers::HttpClientOptions loopbackHttp() {
  providers::HttpClientOptions o;
  o.allowLoopback = true;
  o.allowPlainHttp = true;  // the test servers speak plain http on loopback
  return o;
}

/// A name no other test (process) uses.
inline std::string uniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000);
}

/// The account calgate's adapter uses for `server`.
inline providers::caldav::CalDavAccount davAccount(const DavServer& server) {
  providers::caldav::CalDavAccount a;
  a.serverUrl = server.base;
  a.username = server.user;
  a.password.assign(server.password.begin(), server.password.end());
  return a;
}

struct DavClient {
  DavServer s;
  providers::CurlHttpClient http{loopbackHttp()};

  explicit DavClient(DavServer server) : s(std::move(server)) {}

  providers::HttpResponse send(const std::string& method, const std::string& url, const std::string& body = "",
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
    providers::HttpRequest r;
    r.method = method;
    r.url = url;
    r.body = body;
    r.headers = std::move(headers);
    r.username = s.user;
    r.password.assign(s.password.begin(), s.password.end());
    auto resp = http.send(r);
    REQUIRE(resp);
    return *resp;
  }
  /// MKCALENDAR `name` under the test collections; returns its URL.
  std::string makeCalendar(const std::string& name, const std::string& component = "VEVENT") {
    const std::string url = s.collections + name + "/";
    const std::string body =
        "<?xml version=\"1.0\"?><c:mkcalendar xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:set><d:prop>"
        "<d:displayname>" + name + "</d:displayname><c:supported-calendar-component-set><c:comp name=\"" + component +
        "\"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>";
    auto r = send("MKCALENDAR", url, body, {{"Content-Type", "application/xml"}});
    INFO(r.status << " " << r.body);
    REQUIRE((r.status == 201 || r.status == 200));
    return url;
  }
};

}  // namespace calgate::test
