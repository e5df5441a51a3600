// Drives the real `calgate` and `calgate-admin` binaries. The database is SQLite, or PostgreSQL
// when CG_TEST_POSTGRES_URL_FILE is set.
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <signal.h>
#include <thread>

using namespace calgate::test;
using nlohmann::json;

namespace {

const std::string kCalgate = CALGATE_BINARY;
const std::string kAdmin = CALGATE_ADMIN_BINARY;
constexpr std::size_t kBodyLimit = 4096;

// Waits for the server.started log line and returns the port the server bound (it is started with
// port 0, so concurrent suites never race for a port).
int boundPort(Process& server) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(server.currentErr());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"event\":\"server.started\"") == std::string::npos) continue;
      return json::parse(line)["port"].get<int>();
    }
    if (!server.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("calgate did not start; stderr:\n" << server.currentErr());
  return 0;
}

struct Gateway {
  TempDir dir;
  TestDatabase database;
  int port = 0;
  std::filesystem::path config;
  std::unique_ptr<Process> server;

  explicit Gateway(bool autoMigrate = true) {
    database.close();
    config = dir.write("calgate.yaml", "version: 1\n"
                                       "data_dir: " + (dir.path() / "data").string() + "\n"
                                       "server:\n"
                                       "  port: 0\n"
                                       "  max_body_bytes: " + std::to_string(kBodyLimit) + "\n"
                                       "  shutdown_grace_seconds: 5\n"
                                       "database:\n"
                                       "  url: " + database.url() + "\n"
                                       "  auto_migrate: " + (autoMigrate ? "true" : "false") + "\n");
    const auto init = admin({"vault", "init"});  // the master key file: calgate refuses to start without one
    INFO(init.err);
    REQUIRE(init.exitCode == 0);
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }

  void start() {
    server = std::make_unique<Process>(std::vector<std::string>{kCalgate, "serve", "--config", config.string()},
                                       std::map<std::string, std::string>{}, dir.path());
    port = boundPort(*server);
    REQUIRE(httpRequest("GET", url("/healthz")).status == 200);
  }

  ProcessResult admin(std::vector<std::string> args) const {
    std::vector<std::string> argv = {kAdmin, "--config", config.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, dir.path());
  }

  ProcessResult stop() {
    server->signal(SIGTERM);
    auto result = server->wait(std::chrono::seconds(15));
    REQUIRE(result.has_value());
    return *result;
  }
};

std::string addUser(Gateway& g, const std::string& email) {
  auto r = g.admin({"users", "add", email, "--json"});
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  return json::parse(r.out)["token"].get<std::string>();
}

}  // namespace

TEST_CASE("calgate serve: health, readiness, metrics, auth, limits and a clean SIGTERM", "[e2e]") {
  Gateway g;
  g.start();

  auto health = httpRequest("GET", g.url("/healthz"));
  CHECK(health.status == 200);
  CHECK(json::parse(health.body)["status"] == "ok");

  auto ready = httpRequest("GET", g.url("/readyz"));
  CHECK(ready.status == 200);
  CHECK(json::parse(ready.body)["status"] == "ready");

  // 401 without a token, with a malformed header and with an unknown token: same body each time
  auto none = httpRequest("GET", g.url("/v1/me"));
  CHECK(none.status == 401);
  CHECK(none.headers["content-type"] == "application/problem+json");
  CHECK(none.headers["www-authenticate"] == "Bearer realm=\"calgate\"");
  auto wrong = httpRequest("GET", g.url("/v1/me"), {"Authorization: Bearer cgt_notarealtoken0000000000000000000000000000"});
  CHECK(wrong.status == 401);
  CHECK(wrong.body == none.body);
  auto basic = httpRequest("GET", g.url("/v1/me"), {"Authorization: Basic YTpi"});
  CHECK(basic.status == 401);
  CHECK(basic.body == none.body);

  // a token made by calgate-admin works
  const std::string token = addUser(g, "Erin@Example.org");
  auto me = httpRequest("GET", g.url("/v1/me"), {"Authorization: Bearer " + token});
  REQUIRE(me.status == 200);
  auto meBody = json::parse(me.body);
  CHECK(meBody["email"] == "erin@example.org");
  CHECK(meBody["id"].get<std::string>().starts_with("usr_"));
  CHECK(!me.headers["x-request-id"].empty());

  // revoking it takes effect at once
  auto tokens = g.admin({"users", "tokens", "list", "erin@example.org", "--json"});
  REQUIRE(tokens.exitCode == 0);
  const std::string tokenId = json::parse(tokens.out)[0]["id"];
  CHECK(g.admin({"users", "tokens", "revoke", tokenId}).exitCode == 0);
  CHECK(httpRequest("GET", g.url("/v1/me"), {"Authorization: Bearer " + token}).status == 401);

  // 413 above the configured limit (problem+json), also for bodies Pistache cuts off itself
  auto over = httpRequest("POST", g.url("/v1/me"), {"Content-Type: application/json"}, std::string(kBodyLimit + 1, 'x'));
  CHECK(over.status == 413);
  CHECK(over.headers["content-type"] == "application/problem+json");
  CHECK(json::parse(over.body)["type"] == "urn:calgate:problem:body-too-large");
  auto huge = httpRequest("POST", g.url("/v1/me"), {}, std::string(200 * 1024, 'x'));
  CHECK(huge.status == 413);
  auto within = httpRequest("POST", g.url("/v1/me"), {}, std::string(100, 'x'));
  CHECK(within.status == 405);

  // unknown routes
  auto missing = httpRequest("GET", g.url("/v2/nothing"));
  CHECK(missing.status == 404);
  CHECK(json::parse(missing.body)["status"] == 404);

  // metrics reflect what happened
  auto metrics = httpRequest("GET", g.url("/metrics"));
  REQUIRE(metrics.status == 200);
  CHECK_THAT(metrics.headers["content-type"], Catch::StartsWith("text/plain; version=0.0.4"));
  CHECK_THAT(metrics.body, Catch::Contains("calgate_build_info{version=\"0.1.0\""));
  CHECK_THAT(metrics.body, Catch::Contains("calgate_uptime_seconds "));
  CHECK_THAT(metrics.body, Catch::Contains("calgate_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}"));
  CHECK_THAT(metrics.body, Catch::Contains("calgate_http_requests_total{route=\"/v1/me\",method=\"GET\",status=\"401\"} 4"));
  CHECK_THAT(metrics.body, Catch::Contains("calgate_http_requests_total{route=\"unmatched\",method=\"POST\",status=\"413\"} 1"));
  CHECK_THAT(metrics.body, Catch::Contains("calgate_http_request_duration_seconds_bucket{route=\"/v1/me\",le=\"+Inf\"}"));

  auto result = g.stop();
  CHECK(result.exitCode == 0);
  CHECK(result.signal == 0);
  // logs: one JSON object per line, a request line per request, and never the token
  CHECK(result.err.find(token) == std::string::npos);
  CHECK(result.err.find(token.substr(4)) == std::string::npos);
  int requestLines = 0;
  std::istringstream lines(result.err);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    auto entry = json::parse(line);
    if (entry["event"] == "http.request") {
      ++requestLines;
      CHECK(entry.contains("request_id"));
      CHECK(entry.contains("route"));
      CHECK(entry.contains("status"));
      CHECK(entry.contains("latency_ms"));
    }
  }
  CHECK(requestLines >= 12);
  CHECK_THAT(result.err, Catch::Contains("\"event\":\"server.stopped\""));
}

TEST_CASE("readyz is 503 while migrations are pending, 200 after calgate-admin db migrate", "[e2e]") {
  Gateway g(/*autoMigrate=*/false);
  g.start();
  auto notReady = httpRequest("GET", g.url("/readyz"));
  CHECK(notReady.status == 503);
  CHECK(notReady.headers["content-type"] == "application/problem+json");
  CHECK_THAT(json::parse(notReady.body)["detail"].get<std::string>(), Catch::Contains("pending"));

  auto status = g.admin({"db", "status", "--json"});
  REQUIRE(status.exitCode == 0);
  auto s = json::parse(status.out);
  CHECK(s["current"] == false);
  CHECK(s["migrations"][0]["state"] == "pending");

  auto migrate = g.admin({"db", "migrate"});
  INFO(migrate.err);
  CHECK(migrate.exitCode == 0);
  CHECK_THAT(migrate.out, Catch::Contains("applying 1_initial"));
  CHECK(httpRequest("GET", g.url("/readyz")).status == 200);
  auto statusAfter = json::parse(g.admin({"db", "status", "--json"}).out);
  CHECK(statusAfter["current"] == true);
  CHECK(statusAfter["migrations"][0]["state"] == "applied");
  CHECK(g.stop().exitCode == 0);
}

TEST_CASE("calgate refuses to start on a schema newer than it knows", "[e2e]") {
  Gateway g;
  REQUIRE(g.admin({"db", "migrate"}).exitCode == 0);
  {
    auto target = calgate::store::resolveDatabaseUrl(g.database.url(), g.dir.path());
    REQUIRE(target);
    auto db = calgate::store::Database::open(*target, 1);
    REQUIRE(db);
    auto s = (*db)->acquire();
    **s << "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (42, 'from_the_future', 'x', 1)";
  }
  auto r = run({kCalgate, "serve", "--config", g.config.string()}, {}, g.dir.path());
  CHECK(r.exitCode == 1);
  CHECK_THAT(r.err, Catch::Contains("refusing to start") && Catch::Contains("version 42"));
  auto migrate = g.admin({"db", "migrate"});
  CHECK(migrate.exitCode == 1);
  CHECK_THAT(migrate.err, Catch::Contains("version 42"));
}

TEST_CASE("bad configuration stops calgate with exit code 2 and a message naming the key", "[e2e][config]") {
  TempDir dir;
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"version: 1\nserver:\n  listen: 80\n", "server.listen ("},
      {"version: 1\nserver:\n  port: eighty\n", "expected an integer from 0 to 65535, got \"eighty\""},
      {"server:\n  port: 8080\n", "version ("},
      {"version: 1\ndatabase: [1]\n", "database ("},
      {"version: 1\ndatabase:\n  url: sqlite://\n", "database.url ("},
      {"version: 1\ndatabase:\n  url: postgresql://u:p%zzw@h/d\n", "not a valid libpq connection URI"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const auto file = dir.write("bad" + std::to_string(n++) + ".yaml", c.yaml);
    for (const std::string& binary : {kCalgate, kAdmin}) {
      std::vector<std::string> argv = binary == kCalgate
                                          ? std::vector<std::string>{binary, "serve", "--config", file.string()}
                                          : std::vector<std::string>{binary, "--config", file.string(), "users", "list"};
      auto r = run(argv, {}, dir.path());
      INFO(binary << " " << c.yaml << "\n" << r.err);
      CHECK(r.exitCode == 2);
      CHECK_THAT(r.err, Catch::Contains(c.expected));
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one message
    }
  }
  auto unreadable = run({kCalgate, "serve", "--config", (dir.path() / "missing.yaml").string()}, {}, dir.path());
  CHECK(unreadable.exitCode == 2);
  CHECK_THAT(unreadable.err, Catch::Contains("missing.yaml: cannot read it"));
  auto env = run({kCalgate, "serve"}, {{"CALGATE_SERVER_THREADS", "lots"}}, dir.path());
  CHECK(env.exitCode == 2);
  CHECK_THAT(env.err, Catch::Contains("server.threads (environment variable CALGATE_SERVER_THREADS)"));
  auto viaEnvFile = run({kCalgate, "config", "check"}, {{"CALGATE_CONFIG", (dir.path() / "bad1.yaml").string()}}, dir.path());
  CHECK(viaEnvFile.exitCode == 2);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data"));  // nothing was started or created
}

TEST_CASE("calgate-admin: help everywhere, usage errors exit 2, failures exit 1", "[e2e][admin]") {
  Gateway g;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"users", "--help"}, {"users", "add", "--help"}, {"users", "list", "--help"},
           {"users", "tokens", "--help"}, {"users", "tokens", "add", "--help"}, {"users", "tokens", "list", "--help"},
           {"users", "tokens", "revoke", "--help"}, {"db", "--help"}, {"db", "status", "--help"},
           {"db", "migrate", "--help"}, {"users", "delete", "--help"}}) {
    auto r = g.admin(args);
    INFO(args.front() << " " << args.back());
    CHECK(r.exitCode == 0);
    CHECK_THAT(r.out, Catch::Contains("Usage"));
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"users"}, {"users", "add"}, {"frobnicate"}, {"users", "list", "--bogus"}}) {
    CHECK(g.admin(args).exitCode == 2);
  }
  CHECK(g.admin({"db", "migrate"}).exitCode == 0);
  CHECK(g.admin({"users", "tokens", "revoke", "tok_unknown"}).exitCode == 1);
  CHECK(g.admin({"users", "add", "not-an-email"}).exitCode == 2);  // a rejected argument is a usage error
  CHECK(g.admin({"users", "add", "x@example.com"}).exitCode == 0);
  auto dup = g.admin({"users", "add", "x@example.com"});
  CHECK(dup.exitCode == 1);
  CHECK_THAT(dup.err, Catch::Contains("already exists"));
  auto list = g.admin({"users", "list", "--json"});
  REQUIRE(list.exitCode == 0);
  CHECK(json::parse(list.out).size() == 1);

  // Erasure by an operator: confirmation required, then nothing of the user is left.
  CHECK(g.admin({"users", "delete", "x@example.com"}).exitCode == 2);
  CHECK(g.admin({"users", "delete", "nobody@example.com", "--yes"}).exitCode == 1);
  auto erased = g.admin({"users", "delete", "x@example.com", "--yes"});
  CHECK(erased.exitCode == 0);
  CHECK_THAT(erased.out, Catch::Contains("erased"));
  CHECK(json::parse(g.admin({"users", "list", "--json"}).out).empty());

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"serve", "--help"}, {"config", "--help"}, {"config", "check", "--help"}, {"routes", "--help"}}) {
    std::vector<std::string> argv = {kCalgate};
    argv.insert(argv.end(), args.begin(), args.end());
    CHECK(run(argv, {}, g.dir.path()).exitCode == 0);
  }
  CHECK(run({kCalgate}, {}, g.dir.path()).exitCode == 2);
  CHECK(run({kCalgate, "serve", "--nope"}, {}, g.dir.path()).exitCode == 2);
}

TEST_CASE("with no configuration at all calgate serves on loopback from SQLite under ./data", "[e2e][defaults]") {
  if (usingPostgres()) {
    SUCCEED("the embedded default is SQLite; nothing to check against PostgreSQL");
    return;
  }
  TempDir dir;
  REQUIRE(run({kAdmin, "vault", "init"}, {}, dir.path()).exitCode == 0);
  Process server({kCalgate, "serve"}, {{"CALGATE_SERVER_PORT", "0"}}, dir.path());
  const std::string base = "http://127.0.0.1:" + std::to_string(boundPort(server));
  CHECK(httpRequest("GET", base + "/healthz").status == 200);
  CHECK(httpRequest("GET", base + "/readyz").status == 200);
  const auto db = dir.path() / "data" / "calgate.db";
  CHECK(std::filesystem::exists(dir.path() / "data" / "master.key"));
  REQUIRE(std::filesystem::exists(db));
  using std::filesystem::perms;
  CHECK((std::filesystem::status(db).permissions() & (perms::group_all | perms::others_all)) == perms::none);
  CHECK((std::filesystem::status(dir.path() / "data").permissions() & (perms::group_all | perms::others_all)) ==
        perms::none);
  server.signal(SIGINT);
  auto result = server.wait(std::chrono::seconds(15));
  REQUIRE(result);
  CHECK(result->exitCode == 0);
  CHECK_THAT(result->err, Catch::Contains("\"address\":\"127.0.0.1\"") &&
                              Catch::Contains("\"signal\":\"SIGINT\""));
}

TEST_CASE("calgate refuses to start without a usable master key", "[e2e][vault]") {
  Gateway g;  // has run `vault init`
  const auto keyFile = g.dir.path() / "data" / "master.key";
  REQUIRE(std::filesystem::exists(keyFile));
  using std::filesystem::perms;
  CHECK((std::filesystem::status(keyFile).permissions() & (perms::group_all | perms::others_all)) == perms::none);
  const std::vector<std::string> serve = {kCalgate, "serve", "--config", g.config.string()};

  std::filesystem::permissions(keyFile, perms::others_read, std::filesystem::perm_options::add);
  auto readable = run(serve, {}, g.dir.path());
  CHECK(readable.exitCode == 2);
  CHECK_THAT(readable.err, Catch::Contains("is readable by others (mode 0604); run: chmod 600"));
  std::filesystem::permissions(keyFile, perms::others_read, std::filesystem::perm_options::remove);

  auto badEnv = run(serve, {{"CALGATE_MASTER_KEY", "c2hvcnQ="}}, g.dir.path());
  CHECK(badEnv.exitCode == 2);
  CHECK_THAT(badEnv.err, Catch::Contains("CALGATE_MASTER_KEY must hold base64 of exactly 32 bytes"));

  // the database's vault is bound to the key file's key: another key is refused
  g.start();
  CHECK(g.stop().exitCode == 0);
  auto otherKey = run(serve, {{"CALGATE_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}, g.dir.path());
  CHECK(otherKey.exitCode == 1);
  CHECK_THAT(otherKey.err, Catch::Contains("does not match the one this database's vault was initialised with"));

  std::filesystem::remove(keyFile);
  auto missing = run(serve, {}, g.dir.path());
  CHECK(missing.exitCode == 2);
  CHECK_THAT(missing.err, Catch::Contains("no master key") && Catch::Contains("calgate-admin vault init"));
}

TEST_CASE("calgate-admin vault: init, status, rotate, retire", "[e2e][vault][admin]") {
  Gateway g;
  REQUIRE(g.admin({"db", "migrate"}).exitCode == 0);
  auto init = g.admin({"vault", "init"});
  CHECK(init.exitCode == 0);
  CHECK_THAT(init.out, Catch::Contains("master key file exists") && Catch::Contains("vault ready"));
  auto status = g.admin({"vault", "status", "--json"});
  REQUIRE(status.exitCode == 0);
  auto keys = json::parse(status.out);
  REQUIRE(keys.size() == 1);
  const std::string first = keys[0]["id"];
  CHECK(keys[0]["current"] == true);

  auto rotated = g.admin({"vault", "rotate", "--batch-size", "2"});
  CHECK(rotated.exitCode == 0);
  CHECK_THAT(rotated.out, Catch::Contains("rotated to new key"));
  keys = json::parse(g.admin({"vault", "status", "--json"}).out);
  REQUIRE(keys.size() == 2);
  CHECK(keys[1]["current"] == true);
  CHECK(g.admin({"vault", "retire", keys[1]["id"]}).exitCode == 1);  // the current key
  CHECK(g.admin({"vault", "retire", "k-unknown"}).exitCode == 1);
  CHECK(g.admin({"vault", "retire", first}).exitCode == 0);
  CHECK(json::parse(g.admin({"vault", "status", "--json"}).out).size() == 1);
  CHECK(g.admin({"vault", "rotate", "--batch-size", "0"}).exitCode == 2);
  for (const auto& sub : {"init", "status", "rotate", "retire"}) {
    CHECK(g.admin({"vault", sub, "--help"}).exitCode == 0);
  }
}
