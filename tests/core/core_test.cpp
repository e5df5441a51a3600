#include "calgate/core/error.hpp"
#include "calgate/core/hash.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/core/log.hpp"

#include "calgate/core/utf8.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>

using namespace calgate::core;

TEST_CASE("sha256Hex matches the FIPS 180-2 test vector", "[core]") {
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("constantTimeEquals compares whole strings", "[core]") {
  CHECK(constantTimeEquals("secret", "secret"));
  CHECK_FALSE(constantTimeEquals("secret", "secreT"));
  CHECK_FALSE(constantTimeEquals("secret", "secret2"));
}

TEST_CASE("ids and secrets have their documented shape and do not repeat", "[core]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = newId("usr");
    REQUIRE(id.size() == 4 + 26);
    REQUIRE(id.starts_with("usr_"));
    REQUIRE(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567", 4) == std::string::npos);
    seen.insert(id);
    const auto secret = newSecret("cgt");
    REQUIRE(secret.size() == 4 + 43);
    REQUIRE(secret.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4) == std::string::npos);
    seen.insert(secret);
  }
  CHECK(seen.size() == 2000);
}

TEST_CASE("log lines are single-line valid JSON whatever the field content", "[core][log]") {
  const std::string nasty = std::string("quote\" backslash\\ newline\n tab\t ctl\x01 bad-utf8\xff\xfe end ") + "\xc3\xa9";
  const std::string line = log::formatLine(log::Level::Warn, "test.event",
                                           {{"text", nasty}, {"n", 42}, {"ok", true}, {"ratio", 0.5}});
  CHECK(line.find('\n') == std::string::npos);
  auto j = nlohmann::json::parse(line);
  CHECK(j["level"] == "warn");
  CHECK(j["event"] == "test.event");
  CHECK(j["n"] == 42);
  CHECK(j["ok"] == true);
  CHECK(j["ratio"] == 0.5);
  const std::string text = j["text"];
  CHECK_THAT(text, Catch::Contains("quote\" backslash\\ newline\n"));
  CHECK_THAT(text, Catch::EndsWith("end \xc3\xa9"));
  CHECK_THAT(text, Catch::Contains("\xef\xbf\xbd"));  // U+FFFD for the invalid bytes
  CHECK(j["ts"].get<std::string>().size() == 24);
}

TEST_CASE("log levels parse by name", "[core][log]") {
  log::Level l{};
  CHECK(log::parseLevel("debug", l));
  CHECK(l == log::Level::Debug);
  CHECK_FALSE(log::parseLevel("DEBUG", l));
  CHECK_FALSE(log::parseLevel("verbose", l));
}

TEST_CASE("errors describe themselves with a stable code name", "[core]") {
  Result<int> r = fail(ErrorCode::RateLimited, "slow down");
  REQUIRE_FALSE(r);
  CHECK(r.error().describe() == "rate_limited: slow down");
  CHECK(errorCodeName(ErrorCode::DnssecBogus) == "dnssec_bogus");
}

TEST_CASE("errors carry a typed cause set where they are born; names read back", "[core][cause]") {
  Result<int> plain = fail(ErrorCode::Invalid, "bad");
  CHECK(plain.error().cause == Cause::None);
  Result<int> refused = fail(ErrorCode::Invalid, "no", Cause::AddressRefused);
  CHECK(refused.error().cause == Cause::AddressRefused);
  CHECK(refused.error().describe() == "invalid: no");  // the cause is for code, not for the message

  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(Cause::DnssecLookupFailed); ++i) {
    const auto cause = static_cast<Cause>(i);
    const std::string name(causeName(cause));
    CHECK(causeFromName(name) == cause);
    if (cause != Cause::None) {
      CHECK_FALSE(name.empty());
      CHECK(names.insert(name).second);  // distinct
    }
  }
  CHECK(causeName(Cause::None).empty());
  CHECK(causeName(Cause::PullFailed) == "pull_failed");
  CHECK(causeName(Cause::DnssecBareDenial) == "dnssec_bare_denial");
  CHECK_FALSE(causeFromName("pull failed"));
  for (int i = 0; i <= static_cast<int>(ErrorCode::Internal); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    CHECK(errorCodeFromName(errorCodeName(code)) == code);
  }
  CHECK_FALSE(errorCodeFromName("not found"));
  CHECK_FALSE(errorCodeFromName(""));
}

TEST_CASE("utf8Clean keeps valid text, replaces invalid bytes and never cuts a character", "[core][utf8]") {
  using calgate::core::utf8Clean;
  CHECK(utf8Clean("plain", 100) == "plain");
  CHECK(utf8Clean("Mo\xC3\xA4", 100) == "Mo\xC3\xA4");
  CHECK(utf8Clean("a\xFF" "b", 100) == "a\xEF\xBF\xBD" "b");
  CHECK(utf8Clean("\xC3", 100) == "\xEF\xBF\xBD");                  // truncated sequence
  CHECK(utf8Clean("\xED\xA0\x80", 100) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(utf8Clean("\xC0\xAF", 100) == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  CHECK(utf8Clean("ab\xD0\x9C", 3) == "ab");                        // not cut inside "\xD0\x9C"
  CHECK(utf8Clean("ab\xD0\x9C", 4) == "ab\xD0\x9C");
}
