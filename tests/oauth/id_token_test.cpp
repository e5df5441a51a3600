// id_token verification with keys made here (Botan RSA 2048 and ECDSA P-256): valid tokens pass;
// every check refuses what it is for, with a message naming it; JWK Sets are read defensively.
#include "calgate/oauth/id_token.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/scripted_http.hpp"

#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/ecdsa.h>
#include <botan/mac.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

#include <catch2/catch.hpp>

using namespace calgate;
using namespace std::chrono;
using core::Cause;
using core::ErrorCode;
using nlohmann::json;

namespace {

const std::string kIssuer = "https://id.example.test";
const std::string kClient = "calgate-client";
const std::string kNonce = "n-0S6_WzA2Mj";

std::string b64url(const std::uint8_t* data, std::size_t size) {
  std::string s = Botan::base64_encode(data, size);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}
std::string b64url(std::string_view s) { return b64url(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }
template <class V>
std::string b64urlBytes(const V& v) { return b64url(v.data(), v.size()); }

Botan::AutoSeeded_RNG& rng() {
  static Botan::AutoSeeded_RNG r;
  return r;
}

struct Signer {
  std::shared_ptr<Botan::Private_Key> key;
  std::string alg, kid;
};

const Signer& rsa() {
  static const Signer s{std::make_shared<Botan::RSA_PrivateKey>(rng(), 2048), "RS256", "rsa-1"};
  return s;
}
const Signer& ec() {
  static const Signer s{std::make_shared<Botan::ECDSA_PrivateKey>(rng(), Botan::EC_Group("secp256r1")), "ES256", "ec-1"};
  return s;
}
const Signer& otherRsa() {
  static const Signer s{std::make_shared<Botan::RSA_PrivateKey>(rng(), 2048), "RS256", "rsa-1"};
  return s;
}

json jwk(const Signer& s) {
  if (s.alg == "RS256") {
    const auto& k = dynamic_cast<const Botan::RSA_PublicKey&>(*s.key);
    return {{"kty", "RSA"}, {"kid", s.kid}, {"use", "sig"}, {"alg", "RS256"},
            {"n", b64urlBytes(Botan::BigInt::encode(k.get_n()))}, {"e", b64urlBytes(Botan::BigInt::encode(k.get_e()))}};
  }
  const auto& k = dynamic_cast<const Botan::ECDSA_PublicKey&>(*s.key);
  return {{"kty", "EC"}, {"kid", s.kid}, {"crv", "P-256"},
          {"x", b64urlBytes(Botan::BigInt::encode_1363(k.public_point().get_affine_x(), 32))},
          {"y", b64urlBytes(Botan::BigInt::encode_1363(k.public_point().get_affine_y(), 32))}};
}

oauth::Jwks keys(std::initializer_list<const Signer*> signers) {
  json set = {{"keys", json::array()}};
  for (const auto* s : signers) set["keys"].push_back(jwk(*s));
  auto parsed = oauth::parseJwks(set.dump());
  REQUIRE(parsed);
  return *parsed;
}

test::FakeClock clock0() { return test::FakeClock::at(year(2026) / 6 / 1, 12h); }
long long now() { return clock0().nowUnixSeconds(); }

json claims() {
  return {{"iss", kIssuer}, {"sub", "alice"}, {"aud", kClient}, {"exp", now() + 600}, {"iat", now() - 5},
          {"nonce", kNonce}, {"email", "alice@example.test"}, {"email_verified", true}, {"hd", "example.test"},
          {"tid", "tenant-1"}, {"preferred_username", "alice@example.test"}, {"name", "Alice Example"}};
}

std::string sign(const Signer& s, const std::string& input) {
  if (s.alg == "RS256") {
    Botan::PK_Signer signer(*s.key, rng(), "EMSA3(SHA-256)");
    return b64urlBytes(signer.sign_message(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), rng()));
  }
  Botan::PK_Signer signer(*s.key, rng(), "EMSA1(SHA-256)", Botan::IEEE_1363);
  return b64urlBytes(signer.sign_message(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), rng()));
}

std::string token(const Signer& s, const json& payload, json header = {}) {
  if (header.empty()) header = {{"alg", s.alg}, {"kid", s.kid}, {"typ", "JWT"}};
  const std::string input = b64url(header.dump()) + "." + b64url(payload.dump());
  return input + "." + sign(s, input);
}

core::Result<oauth::Identity> verify(const std::string& idToken, const oauth::Jwks& jwks,
                                     const std::string& nonce = kNonce) {
  const auto clock = clock0();
  return oauth::verifyIdToken(idToken, jwks, kIssuer, kClient, nonce, clock);
}

// Refused as IdTokenRejected with `check` in the message, and nothing of the token in it.
void refused(const std::string& idToken, const oauth::Jwks& jwks, const std::string& check,
             const std::string& nonce = kNonce) {
  auto r = verify(idToken, jwks, nonce);
  INFO(check);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::Unauthorized);
  CHECK(r.error().cause == Cause::IdTokenRejected);
  CHECK_THAT(r.error().message, Catch::Contains(check));
  std::size_t start = 0;
  for (std::size_t dot = idToken.find('.'); start < idToken.size(); dot = idToken.find('.', start)) {
    const auto part = idToken.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.size() >= 8) CHECK(r.error().message.find(part) == std::string::npos);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
}

}  // namespace

TEST_CASE("a valid RS256 or ES256 id_token gives the identity", "[oauth][id_token]") {
  const auto jwks = keys({&rsa(), &ec()});
  for (const Signer* s : {&rsa(), &ec()}) {
    auto id = verify(token(*s, claims()), jwks);
    INFO(s->alg);
    REQUIRE(id);
    CHECK(id->issuer == kIssuer);
    CHECK(id->subject == "alice");
    CHECK(id->email == "alice@example.test");
    CHECK(id->emailVerified);
    CHECK(id->hostedDomain == "example.test");
    CHECK(id->tenantId == "tenant-1");
    CHECK(id->preferredUsername == "alice@example.test");
    CHECK(id->name == "Alice Example");
  }
  auto several = claims();
  several["aud"] = {kClient, "another-audience"};
  several["azp"] = kClient;
  CHECK(verify(token(rsa(), several), jwks));
  auto unverified = claims();
  unverified["email_verified"] = false;
  auto id = verify(token(rsa(), unverified), jwks);
  REQUIRE(id);
  CHECK_FALSE(id->emailVerified);
  // within the clock skew
  auto late = claims();
  late["exp"] = now() - 60;
  late["iat"] = now() - 3600;
  CHECK(verify(token(ec(), late), jwks));
  // no kid: the set's only key
  CHECK(verify(token(ec(), claims(), {{"alg", "ES256"}}), keys({&ec()})));
}

TEST_CASE("each claim check refuses what it is for", "[oauth][id_token]") {
  const auto jwks = keys({&rsa(), &ec()});
  const auto with = [](const std::string& name, const json& value) {
    auto c = claims();
    if (value.is_null()) c.erase(name);
    else c[name] = value;
    return token(rsa(), c);
  };
  refused(with("aud", "someone-else"), jwks, "aud");
  refused(with("aud", json::array({"someone-else", "another"})), jwks, "aud");
  refused(with("aud", nullptr), jwks, "aud");
  refused(with("iss", "https://evil.example.test"), jwks, "iss");
  refused(with("iss", nullptr), jwks, "iss");
  refused(with("nonce", "another-nonce"), jwks, "nonce");
  refused(with("nonce", nullptr), jwks, "nonce");
  refused(token(rsa(), claims()), jwks, "nonce", "");
  refused(with("exp", now() - 121), jwks, "exp");
  refused(with("exp", nullptr), jwks, "exp");
  refused(with("exp", "tomorrow"), jwks, "exp");
  refused(with("iat", now() + 121), jwks, "iat");
  refused(with("iat", nullptr), jwks, "iat");
  refused(with("nbf", now() + 600), jwks, "nbf");
  refused(with("sub", nullptr), jwks, "sub");
  refused(with("sub", ""), jwks, "sub");
  refused(with("azp", "someone-else"), jwks, "azp");
  auto several = claims();
  several["aud"] = {kClient, "another-audience"};
  refused(token(rsa(), several), jwks, "azp");  // several audiences and no azp
  several["azp"] = "another-audience";
  refused(token(rsa(), several), jwks, "azp");
}

TEST_CASE("alg none, HS256 and other algorithms are refused; so are bad signatures and unknown keys",
          "[oauth][id_token]") {
  const auto jwks = keys({&rsa(), &ec()});
  const std::string payload = b64url(claims().dump());
  // "none": no signature at all
  refused(b64url(R"({"alg":"none"})") + "." + payload + ".", jwks, "alg");
  refused(b64url(R"({"alg":"none","kid":"rsa-1"})") + "." + payload + ".", jwks, "alg");
  // HS256 keyed with the RSA public key's JWK (the classic key-confusion forgery)
  const std::string hsInput = b64url(R"({"alg":"HS256","kid":"rsa-1"})") + "." + payload;
  auto hmac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
  const std::string hsKey = jwk(rsa()).dump();
  hmac->set_key(reinterpret_cast<const std::uint8_t*>(hsKey.data()), hsKey.size());
  hmac->update(hsInput);
  refused(hsInput + "." + b64urlBytes(hmac->final()), jwks, "alg");
  refused(token(rsa(), claims(), {{"alg", "RS512"}, {"kid", "rsa-1"}}), jwks, "alg");
  refused(token(rsa(), claims(), {{"kid", "rsa-1"}}), jwks, "alg");
  refused(token(rsa(), claims(), {{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", {"exp"}}}), jwks, "crit");

  // a payload changed after signing; a token signed by another key under a known kid
  const std::string good = token(rsa(), claims());
  auto changed = claims();
  changed["sub"] = "mallory";
  const auto dot = good.find('.');
  refused(good.substr(0, dot) + "." + b64url(changed.dump()) + good.substr(good.rfind('.')), jwks, "signature");
  refused(token(otherRsa(), claims()), jwks, "signature");
  std::string flipped = token(ec(), claims());
  flipped.back() = flipped.back() == 'A' ? 'Q' : 'A';
  refused(flipped, jwks, "signature");
  refused(good.substr(0, good.rfind('.') + 1), jwks, "signature");  // signature cut off

  refused(token(rsa(), claims(), {{"alg", "RS256"}, {"kid", "rsa-unknown"}}), jwks, "kid");
  refused(token(rsa(), claims(), {{"alg", "ES256"}, {"kid", "rsa-1"}}), jwks, "kid");  // not an EC key
  refused(token(rsa(), claims(), {{"alg", "RS256"}}), jwks, "kid");  // no kid, several keys
  refused(token(rsa(), claims(), {{"alg", "RS256"}}), keys({&ec()}), "kid");  // the only key is EC

  refused("not-a-jwt", jwks, "compact JWS");
  refused("a.b.c.d.e", jwks, "compact JWS");  // a JWE
  refused("!!!." + payload + ".sig", jwks, "header");
  refused(b64url("[1]") + "." + payload + ".sig", jwks, "header");
  refused(b64url(R"({"alg":"RS256"})") + ".***.sig", jwks, "payload");
  refused(std::string(70 * 1024, 'a'), jwks, "64 KiB");
}

TEST_CASE("JWK Sets: signing keys kept, the rest skipped, malformed keys refused", "[oauth][jwks]") {
  json set = {{"keys",
               {jwk(rsa()), jwk(ec()),
                {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}},
                {{"kty", "RSA"}, {"use", "enc"}, {"kid", "enc"}, {"n", jwk(otherRsa())["n"]}, {"e", "AQAB"}},
                {{"kty", "RSA"}, {"alg", "RS512"}, {"kid", "rs512"}, {"n", jwk(otherRsa())["n"]}, {"e", "AQAB"}},
                {{"kty", "EC"}, {"crv", "P-384"}, {"kid", "p384"}, {"x", "AAAA"}, {"y", "AAAA"}},
                {{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", "ed"}, {"x", "AAAA"}}}}};
  auto jwks = oauth::parseJwks(set.dump());
  REQUIRE(jwks);
  REQUIRE(jwks->keys.size() == 2);
  CHECK(jwks->keys[0].kid == "rsa-1");
  CHECK(jwks->keys[0].alg == "RS256");
  CHECK(jwks->keys[1].kid == "ec-1");
  CHECK(jwks->keys[1].alg == "ES256");

  const auto invalid = [](const std::string& text) {
    auto r = oauth::parseJwks(text);
    INFO(text.substr(0, 120));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::Invalid);
  };
  invalid("[]");
  invalid("{}");
  invalid(R"({"keys":[]})");
  invalid(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})");  // nothing usable
  invalid(R"({"keys":[1]})");
  auto offCurve = jwk(ec());
  offCurve["y"] = offCurve["x"];
  invalid(json{{"keys", {offCurve}}}.dump());
  auto shortX = jwk(ec());
  shortX["x"] = "AAAA";
  invalid(json{{"keys", {shortX}}}.dump());
  auto badN = jwk(rsa());
  badN["n"] = "not base64url!";
  invalid(json{{"keys", {badN}}}.dump());
  auto evenE = jwk(rsa());
  evenE["e"] = "AQAA";
  invalid(json{{"keys", {evenE}}}.dump());
  // an RSA key under 2048 bits is not used
  Botan::RSA_PrivateKey small(rng(), 1024);
  invalid(json{{"keys", {{{"kty", "RSA"}, {"n", b64urlBytes(Botan::BigInt::encode(small.get_n()))}, {"e", "AQAB"}}}}}.dump());
}

TEST_CASE("fetchJwks reads the set from its URI", "[oauth][jwks]") {
  test::ScriptedHttp http;
  http.expect("GET", kIssuer + "/jwks", 200, json{{"keys", {jwk(ec())}}}.dump());
  auto jwks = oauth::fetchJwks(http, kIssuer + "/jwks");
  REQUIRE(jwks);
  CHECK(verify(token(ec(), claims()), *jwks));
  http.expect("GET", kIssuer + "/jwks", 503, "");
  CHECK(oauth::fetchJwks(http, kIssuer + "/jwks").error().code == ErrorCode::RateLimited);
}

TEST_CASE("a multi-tenant issuer template: iss must be the template filled in with the token's own tid", "[oauth][id_token]") {
  const std::string tmpl = "https://login.example.test/{tenantid}/v2.0";
  const std::string tenant = "3f2b6a0e-1c4d-4e8f-9a7b-2c5d8e1f0a3b";
  const auto jwks = keys({&rsa()});
  const auto clock = clock0();
  const auto with = [&](const std::string& iss, const json& tid) {
    auto c = claims();
    c["iss"] = iss;
    if (!tid.is_null()) c["tid"] = tid;
    return oauth::verifyIdToken(token(rsa(), c), jwks, tmpl, kClient, kNonce, clock);
  };
  auto ok = with("https://login.example.test/" + tenant + "/v2.0", tenant);
  REQUIRE(ok);
  CHECK(ok->tenantId == tenant);
  CHECK(ok->issuer == "https://login.example.test/" + tenant + "/v2.0");
  // another tenant's issuer under this token's tid, the template itself, no tid, a tid that is no GUID
  for (const auto& bad : {with("https://login.example.test/99999999-1c4d-4e8f-9a7b-2c5d8e1f0a3b/v2.0", tenant),
                          with(tmpl, tenant), with("https://login.example.test/" + tenant + "/v2.0", nullptr),
                          with("https://login.example.test/common/v2.0", "common")}) {
    REQUIRE_FALSE(bad);
    CHECK(bad.error().cause == core::Cause::IdTokenRejected);
    CHECK_THAT(bad.error().message, Catch::Contains("iss") || Catch::Contains("tid"));
  }
}

TEST_CASE("idp is read: Entra names a guest's own identity provider there", "[oauth][id_token]") {
  auto c = claims();
  c["idp"] = "https://sts.windows.net/22222222-2222-4222-8222-222222222222/";
  auto id = verify(token(rsa(), c), keys({&rsa()}));
  REQUIRE(id);
  CHECK(id->identityProvider == "https://sts.windows.net/22222222-2222-4222-8222-222222222222/");
  auto member = verify(token(rsa(), claims()), keys({&rsa()}));
  REQUIRE(member);
  CHECK(member->identityProvider.empty());
}
