// `calgate-admin dns check` end to end against the nsd-served zones.
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <netinet/in.h>
#include <sstream>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace calgate::test;
using nlohmann::json;

namespace {

struct Admin {
  TempDir dir;
  std::filesystem::path config;
  Admin() {
    const std::string state = std::getenv("CG_TEST_DNS_STATE");
    std::string port = readFile(state + "/port");
    while (!port.empty() && port.back() == '\n') port.pop_back();
    config = dir.write("calgate.yaml", "version: 1\n"
                                       "data_dir: " + (dir.path() / "data").string() + "\n"
                                       "dns:\n"
                                       "  servers: 127.0.0.1:" + port + "\n"
                                       "  trust_anchor: " + state + "/anchor.ds\n");
  }
  ProcessResult run(std::vector<std::string> args) {
    std::vector<std::string> argv = {CALGATE_ADMIN_BINARY, "--config", config.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return calgate::test::run(argv, {}, dir.path());
  }
};

}  // namespace

TEST_CASE("dns check: what an IT admin sees for a good record", "[dns][e2e]") {
  Admin admin;
  auto text = admin.run({"dns", "check", "acme.test"});
  INFO(text.err);
  CHECK(text.exitCode == 0);
  CHECK_THAT(text.out, Catch::Contains("DNSSEC       secure"));
  CHECK_THAT(text.out, Catch::Contains("chain        DNSKEY test. verified with the trust anchor"));
  CHECK_THAT(text.out, Catch::Contains("record       [valid] v=CALPRIV1; p=private; ma=600; label=Busy; allow=partner.test"));
  CHECK_THAT(text.out, Catch::Contains("policy       org acme.test p=private (secure), label \"Busy\", allow partner.test"));
  CHECK_THAT(text.out, Catch::Contains("pin          p=private until"));
  CHECK_THAT(text.out, Catch::Contains("preview      an event from acme.test copied to a calendar at example.net: "
                                       "private, title \"Busy\", details cleared, private"));

  REQUIRE(admin.run({"db", "migrate"}).exitCode == 0);  // pins are then stored in the database
  auto j = admin.run({"dns", "check", "acme.test", "--json", "--target-domain", "partner.test"});
  REQUIRE(j.exitCode == 0);
  auto out = json::parse(j.out);
  CHECK(out["dnssec"] == "secure");
  CHECK(out["queried_name"] == "_calendar-privacy.acme.test.");
  CHECK(out["records"][0]["status"] == "valid");
  CHECK(out["policy"]["level"] == "private");
  CHECK(out["policy"]["validation"] == "secure");
  CHECK(out["pin"]["level"] == "private");
  CHECK(out["pin_source"] == "the gateway's database (read only)");
  CHECK(out["cache_seconds"] == 300);
  CHECK(out["preview"]["outcome"] == "full");  // partner.test is allow-listed
  CHECK(out["ok"] == true);
}

TEST_CASE("dns check: problems an admin must fix are reported with exit code 1", "[dns][e2e]") {
  Admin admin;
  auto bogus = admin.run({"dns", "check", "altered.test", "--json"});
  CHECK(bogus.exitCode == 1);
  auto b = json::parse(bogus.out);
  CHECK(b["dnssec"] == "bogus");
  CHECK(b["policy"]["level"] == "private");
  CHECK_THAT(b["reason"].get<std::string>(), Catch::Contains("does not verify"));

  auto malformed = admin.run({"dns", "check", "malformed.test"});
  CHECK(malformed.exitCode == 1);
  CHECK_THAT(malformed.out, Catch::Contains("record       [invalid] v=CALPRIV1; p=private; p=none"));
  CHECK_THAT(malformed.out, Catch::Contains("error: tag \"p\" appears more than once"));

  auto blocked = admin.run({"dns", "check", "calendar.org.test", "--json"});
  CHECK(blocked.exitCode == 0);
  auto o = json::parse(blocked.out);
  CHECK(o["queried_name"] == "_calendar-privacy.org.test.");
  CHECK(o["policy"]["level"] == "block");
  CHECK(o["preview"]["outcome"] == "denied");

  auto none = admin.run({"dns", "check", "nopolicy.test", "--json"});
  CHECK(none.exitCode == 0);
  CHECK(json::parse(none.out)["answer"] == "nxdomain");
  CHECK(json::parse(none.out)["preview"]["outcome"] == "full");

  CHECK(admin.run({"dns", "check"}).exitCode == 2);
  CHECK(admin.run({"dns", "check", "--help"}).exitCode == 0);
}

TEST_CASE("calgate serve with 1,100 client connections open still validates a policy lookup", "[dns][e2e][fds]") {
  // This test needs room for the connections on its own side too.
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max < 4096 && ::geteuid() == 0) limit.rlim_max = 4096;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur < 1200) {
    WARN("the descriptor limit (" << limit.rlim_cur << ") leaves no room for 1,100 connections");
    return;
  }
  Admin admin;
  const std::map<std::string, std::string> env = {{"CALGATE_MASTER_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="},
                                                  {"CALGATE_SERVER_PORT", "0"}};
  REQUIRE(admin.run({"db", "migrate"}).exitCode == 0);
  auto added = calgate::test::run({CALGATE_ADMIN_BINARY, "--config", admin.config.string(), "users", "add",
                                   "it@acme.test", "--json"},
                                  env, admin.dir.path());
  INFO(added.err);
  REQUIRE(added.exitCode == 0);
  const std::string token = json::parse(added.out)["token"];
  Process serve({CALGATE_BINARY, "serve", "--config", admin.config.string()}, env, admin.dir.path());
  int port = 0;
  for (int i = 0; i < 400 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::istringstream lines(serve.currentErr());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"event\":\"server.started\"") != std::string::npos) port = json::parse(line)["port"].get<int>();
    }
  }
  REQUIRE(port != 0);
  // 1,100 idle client connections: the gateway's next descriptors are numbered above 1024
  std::vector<int> clients;
  for (int i = 0; i < 1100; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0);
    clients.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // accepted
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto r = httpRequest("GET", base + "/v1/policy/acme.test", {"Authorization: Bearer " + token});
  for (int fd : clients) ::close(fd);
  INFO(r.body);
  REQUIRE(r.status == 200);
  const auto body = json::parse(r.body);
  CHECK(body["validation"] == "secure");
  CHECK(body["level"] == "private");
  serve.signal(SIGTERM);
  auto stopped = serve.wait(std::chrono::seconds(20));
  REQUIRE(stopped);
  INFO(stopped->err);
  CHECK(stopped->exitCode == 0);
  CHECK_THAT(stopped->err, Catch::Contains("server.descriptor_limit"));
}
