#include "calgate/app/config.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace calgate::app;
using calgate::test::TempDir;

namespace {

std::string errorOf(const std::optional<std::filesystem::path>& file, const Environment& env = {}) {
  auto c = loadConfig(file, env);
  REQUIRE_FALSE(c.has_value());
  return c.error().message;
}

}  // namespace

TEST_CASE("defaults apply without a file or environment", "[config]") {
  auto c = loadConfig(std::nullopt, {});
  REQUIRE(c.has_value());
  CHECK(c->server.address == "127.0.0.1");
  CHECK(c->server.port == 8080);
  CHECK(c->server.maxBodyBytes == 1024 * 1024);
  CHECK(c->database.url.empty());
  CHECK(c->database.autoMigrate);
  CHECK(c->dataDir == "data");
  CHECK_FALSE(c->source.has_value());
}

TEST_CASE("a file sets values and CALGATE_* variables override it", "[config]") {
  TempDir dir;
  const auto file = dir.write("c.yaml", "version: 1\nserver:\n  port: 9000\n  address: ::1\nlog:\n  level: debug\n");
  auto c = loadConfig(file, {{"CALGATE_SERVER_PORT", "9100"}, {"CALGATE_DATABASE_AUTO_MIGRATE", "false"},
                             {"HOME", "/root"}, {"CALGATE_MASTER_KEY", "ignored-here"}});
  REQUIRE(c.has_value());
  CHECK(c->server.port == 9100);
  CHECK(c->server.address == "::1");
  CHECK_FALSE(c->database.autoMigrate);
  CHECK(c->log.level == calgate::core::log::Level::Debug);
  CHECK(c->source == file);
}

TEST_CASE("trusted proxies are IP addresses; the metrics token is never echoed", "[config]") {
  TempDir dir;
  CHECK_THAT(errorOf(dir.write("p.yaml", "version: 1\nserver:\n  trusted_proxies: 10.0.0.1, proxy.example\n")),
             Catch::Contains("server.trusted_proxies"));
  const std::string secret = "short-secret";
  CHECK_THAT(errorOf(dir.write("u.yaml", "version: 1\nserver:\n  public_url: http://calgate.example.com\n")),
             Catch::Contains("server.public_url"));
  CHECK_THAT(errorOf(dir.write("w.yaml", "version: 1\nserver:\n  public_url: http://localhost.evil.example\n")),
             Catch::Contains("server.public_url"));
  CHECK_THAT(errorOf(dir.write("v.yaml", "version: 1\nserver:\n  public_url: https://calgate.example.com/app?x\n")),
             Catch::Contains("server.public_url"));
  const auto msg = errorOf(dir.write("m.yaml", "version: 1\nserver:\n  metrics_token: " + secret + "\n"));
  CHECK_THAT(msg, Catch::Contains("server.metrics_token"));
  CHECK(msg.find(secret) == std::string::npos);
}

TEST_CASE("an unknown key is rejected with its path and the keys that exist", "[config]") {
  TempDir dir;
  auto msg = errorOf(dir.write("c.yaml", "version: 1\nserver:\n  prot: 80\n"));
  CHECK(msg == "server.prot (" + (dir.path() / "c.yaml").string() +
                   " line 3): unknown key; expected one of address, port, threads, outbound_threads, outbound_queue, outbound_per_user, "
                       "outbound_budget_seconds, "
                       "max_body_bytes, rate_limit_per_minute, "
                   "shutdown_grace_seconds, trusted_proxies, metrics_token, public_url");
  msg = errorOf(dir.write("d.yaml", "version: 1\nlisten: 80\n"));
  CHECK_THAT(msg, Catch::StartsWith("listen (") && Catch::Contains("line 2): unknown key"));
}

TEST_CASE("a value of the wrong type names the key, the line and what was expected", "[config]") {
  TempDir dir;
  const auto file = dir.write("c.yaml", "version: 1\nserver:\n  port: http\n");
  CHECK(errorOf(file) == "server.port (" + file.string() +
                             " line 3): expected an integer from 0 to 65535, got \"http\"");
  CHECK_THAT(errorOf(dir.write("a.yaml", "version: 1\nserver:\n  port: 70000\n")),
             Catch::Contains("expected an integer from 0 to 65535, got \"70000\""));
  CHECK_THAT(errorOf(dir.write("b.yaml", "version: 1\nserver: 5\n")),
             Catch::StartsWith("server (") && Catch::Contains("expected a mapping with keys address, port"));
  CHECK_THAT(errorOf(dir.write("d.yaml", "version: 1\nserver:\n  port: [1, 2]\n")),
             Catch::Contains("server.port (") && Catch::EndsWith("expected an integer from 0 to 65535, got a list"));
  CHECK_THAT(errorOf(dir.write("e.yaml", "version: 1\ndatabase:\n  auto_migrate: maybe\n")),
             Catch::Contains("database.auto_migrate (") && Catch::EndsWith("expected true or false, got \"maybe\""));
  CHECK_THAT(errorOf(dir.write("f.yaml", "version: 1\nlog:\n  level: loud\n")),
             Catch::EndsWith("expected one of debug, info, warn, error, off, got \"loud\""));
  CHECK_THAT(errorOf(dir.write("g.yaml", "version: 1\nserver:\n  address: localhost\n")),
             Catch::Contains("expected an IPv4 or IPv6 address"));
  CHECK_THAT(errorOf(dir.write("h.yaml", "version: 2\n")), Catch::Contains("version (") &&
                                                                Catch::Contains("expected 1"));
}

TEST_CASE("a missing required value is reported", "[config]") {
  TempDir dir;
  const auto file = dir.write("c.yaml", "server:\n  port: 8081\n");
  CHECK(errorOf(file) == "version (" + file.string() + "): missing required key; expected version: 1");
}

TEST_CASE("unreadable or malformed files are reported", "[config]") {
  TempDir dir;
  CHECK(errorOf(dir.path() / "nope.yaml") ==
        "config file " + (dir.path() / "nope.yaml").string() + ": cannot read it (no such file)");
  CHECK_THAT(errorOf(dir.path()), Catch::Contains("cannot read it (permission denied or not a regular file)"));
  CHECK_THAT(errorOf(dir.write("bad.yaml", "version: 1\nserver: {port: 1\n")),
             Catch::Contains("invalid YAML") && Catch::Contains("line "));
  CHECK_THAT(errorOf(dir.write("list.yaml", "- 1\n- 2\n")), Catch::Contains("expected a mapping of keys"));
}

TEST_CASE("environment variables are checked like file values", "[config]") {
  CHECK(errorOf(std::nullopt, {{"CALGATE_SERVER_PORT", "abc"}}) ==
        "server.port (environment variable CALGATE_SERVER_PORT): expected an integer from 0 to 65535, got \"abc\"");
  CHECK_THAT(errorOf(std::nullopt, {{"CALGATE_SERVR_PORT", "1"}}),
             Catch::StartsWith("environment variable CALGATE_SERVR_PORT: unknown configuration variable"));
}

TEST_CASE("a rejected database URL is not echoed (it may hold a password)", "[config]") {
  const auto msg = errorOf(std::nullopt, {{"CALGATE_DATABASE_URL", "mysql://admin:hunter2@db/calgate"}});
  CHECK_THAT(msg, Catch::Contains("database.url"));
  CHECK_THAT(msg, !Catch::Contains("hunter2"));
}

TEST_CASE("database URLs are checked completely when the configuration loads", "[config]") {
  CHECK_THAT(errorOf(std::nullopt, {{"CALGATE_DATABASE_URL", "sqlite://"}}),
             Catch::StartsWith("database.url (environment variable CALGATE_DATABASE_URL): database URL sqlite://"));
  TempDir dir;
  const auto file = dir.write("c.yaml", "version: 1\ndatabase:\n  url: postgresql://cal:p%zzw@db/x\n");
  const auto msg = errorOf(file);
  CHECK_THAT(msg, Catch::StartsWith("database.url (" + file.string() + " line 3): "));
  CHECK_THAT(msg, Catch::Contains("not a valid libpq connection URI"));
  CHECK_THAT(msg, !Catch::Contains("zzw"));
  CHECK(loadConfig(std::nullopt, {{"CALGATE_DATABASE_URL", "postgresql://cal:secret@db:5432/x"}}).has_value());
}

TEST_CASE("the example configuration is valid and documents every key", "[config]") {
  const std::filesystem::path example = std::filesystem::path(CALGATE_SOURCE_DIR) / "deploy/calgate.example.yaml";
  auto c = loadConfig(example, {});
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c.has_value());
  const Config defaults = *loadConfig(std::nullopt, {});
  CHECK(c->server.port == defaults.server.port);
  CHECK(c->server.maxBodyBytes == defaults.server.maxBodyBytes);
  CHECK(c->database.poolSize == defaults.database.poolSize);
  const std::string text = calgate::test::readFile(example);
  for (const auto& key : configKeyPaths()) {
    const std::string leaf = key.substr(key.rfind('.') + 1);
    INFO(key);
    CHECK(text.find(leaf + ":") != std::string::npos);
    if (key != "version") CHECK(text.find(environmentVariableFor(key)) != std::string::npos);
  }
}

TEST_CASE("google and microsoft sections: client, secret file, issuer and API root; https only, loopback http for tests",
          "[config]") {
  for (const std::string section : {"GOOGLE", "MICROSOFT"}) {
    INFO(section);
    auto c = loadConfig(std::nullopt, {{"CALGATE_" + section + "_CLIENT_ID", "client-1"},
                                       {"CALGATE_" + section + "_ISSUER", "http://127.0.0.1:9/common/v2.0"},
                                       {"CALGATE_" + section + "_API_ROOT", "http://127.0.0.1:9/"},
                                       {"CALGATE_" + section + "_ALLOW_INSECURE_LOOPBACK", "true"}});
    REQUIRE(c);
    const auto& [clientId, issuer, apiRoot, loopback] =
        section == "GOOGLE" ? std::tuple{c->google.clientId, c->google.issuer, c->google.apiRoot, c->google.allowInsecureLoopback}
                            : std::tuple{c->microsoft.clientId, c->microsoft.issuer, c->microsoft.apiRoot, c->microsoft.allowInsecureLoopback};
    CHECK(clientId == "client-1");
    CHECK(issuer == "http://127.0.0.1:9/common/v2.0");
    CHECK(apiRoot == "http://127.0.0.1:9/");
    CHECK(loopback);
    CHECK_FALSE(loadConfig(std::nullopt, {{"CALGATE_" + section + "_ISSUER", "http://login.example.test/common/v2.0"}}));
    CHECK_FALSE(loadConfig(std::nullopt, {{"CALGATE_" + section + "_API_ROOT", "https://graph.example.test"}}));  // no trailing /
  }
  const Config defaults = *loadConfig(std::nullopt, {});
  CHECK(defaults.microsoft.issuer == "https://login.microsoftonline.com/common/v2.0");
  CHECK(defaults.microsoft.apiRoot == "https://graph.microsoft.com/");
  CHECK(defaults.microsoft.clientId.empty());
}

TEST_CASE("portal section: session and link lifetimes, sign-up domains", "[config]") {
  const Config defaults = *loadConfig(std::nullopt, {});
  CHECK(defaults.portal.sessionLifetime == std::chrono::hours(24 * 14));
  CHECK(defaults.portal.loginLinkLifetime == std::chrono::hours(24));
  CHECK(defaults.portal.signupDomains.empty());
  auto c = loadConfig(std::nullopt, {{"CALGATE_PORTAL_SESSION_DAYS", "2"},
                                     {"CALGATE_PORTAL_LOGIN_LINK_HOURS", "3"},
                                     {"CALGATE_PORTAL_SIGNUP_DOMAINS", "Acme.example, eu.acme-corp.example"}});
  REQUIRE(c);
  CHECK(c->portal.sessionLifetime == std::chrono::hours(48));
  CHECK(c->portal.loginLinkLifetime == std::chrono::hours(3));
  CHECK(c->portal.signupDomains == std::vector<std::string>{"acme.example", "eu.acme-corp.example"});
  for (const std::string bad : {"acme", "acme.example,,x.example", "a b.example", "*.acme.example"}) {
    INFO(bad);
    CHECK_FALSE(loadConfig(std::nullopt, {{"CALGATE_PORTAL_SIGNUP_DOMAINS", bad}}));
  }
  CHECK_FALSE(loadConfig(std::nullopt, {{"CALGATE_PORTAL_SESSION_DAYS", "0"}}));
  CHECK_FALSE(loadConfig(std::nullopt, {{"CALGATE_PORTAL_LOGIN_LINK_HOURS", "169"}}));
}

TEST_CASE("server.public_url is kept as browsers send it in Origin", "[config]") {
  for (const auto& [raw, want] : std::vector<std::pair<std::string, std::string>>{
           {"https://Cal.Example.com/", "https://cal.example.com"},
           {"https://cal.example.com:443", "https://cal.example.com"},
           {"https://cal.example.com:8443", "https://cal.example.com:8443"},
           {"http://127.0.0.1:80/", "http://127.0.0.1"},
           {"http://localhost:8080", "http://localhost:8080"}}) {
    INFO(raw);
    auto c = loadConfig(std::nullopt, {{"CALGATE_SERVER_PUBLIC_URL", raw}});
    REQUIRE(c);
    CHECK(c->server.publicUrl == want);
  }
}
