// Who an account proves to be: which organisations' policies concern it as a source, and which
// organisations it is inside as a target (model/identity.hpp).
#include "calgate/model/identity.hpp"

#include <catch2/catch.hpp>

using namespace calgate::model;

namespace {
using Domains = std::vector<std::string>;
}

TEST_CASE("registrable domains come from the Public Suffix List", "[identity]") {
  CHECK(registrableDomain("caldav.eu.acme.co.uk") == "acme.co.uk");
  CHECK(registrableDomain("CalDAV.Acme.COM.") == "acme.com");
  CHECK(registrableDomain("p42-caldav.icloud.com") == "icloud.com");
  CHECK(registrableDomain("caldav.acme.localhost") == "acme.localhost");
  CHECK(registrableDomain("co.uk").empty());
  CHECK(registrableDomain("127.0.0.1").empty());
  CHECK(registrableDomain("::1").empty());
  CHECK(withinDomain("made-up.acme.com", "acme.com"));
  CHECK(withinDomain("ACME.com.", "acme.com"));
  CHECK_FALSE(withinDomain("notacme.com", "acme.com"));
  CHECK_FALSE(withinDomain("", "acme.com"));
}

TEST_CASE("a CalDAV server proves its own domain and the addresses within it, nothing else", "[identity]") {
  SECTION("an organisation's own server: a typed gmail address does not matter, the server does") {
    const auto ids = caldavIdentities("https://caldav.acme.com/dav/", {"/alice/"});  // Radicale-style: a path
    REQUIRE(ids.size() == 1);
    CHECK(ids[0].kind == IdentityKind::ServerDomain);
    CHECK(policyDomains(ids) == Domains{"acme.com"});
    CHECK(memberDomains(ids) == Domains{"acme.com"});
  }
  SECTION("its addresses within its domain, also in made-up subdomains, are members") {
    const auto ids = caldavIdentities("https://caldav.acme.com/", {"mailto:Alice@ACME.com", "mailto:x@made-up.acme.com"});
    CHECK(policyDomains(ids) == Domains{"acme.com", "made-up.acme.com"});  // acme.com's p= applies, not only sp=
    CHECK(memberDomains(ids) == Domains{"acme.com", "made-up.acme.com"});
    CHECK(ids[1].address == "alice@acme.com");
  }
  SECTION("a self-hosted server claiming an organisation's address: counts for policies, never for membership") {
    const auto ids = caldavIdentities("https://dav.mine.example/", {"mailto:boss@acme.com", "urn:uuid:1234"});
    CHECK(policyDomains(ids) == Domains{"mine.example", "acme.com"});
    CHECK(memberDomains(ids) == Domains{"mine.example"});
  }
  SECTION("a foreign provider hosting a custom domain is inside its own domain only") {
    const auto ids = caldavIdentities("https://caldav.fastmail.com/", {"mailto:me@acme.com", "mailto:me@fastmail.com"});
    CHECK(memberDomains(ids) == Domains{"fastmail.com"});
    CHECK(policyDomains(ids) == Domains{"fastmail.com", "acme.com"});
  }
  SECTION("hrefs are URI references: escapes are decoded") {
    const auto ids = caldavIdentities("https://dav.acme.com/", {"mailto%3Aalice%40acme.com"});  // as Xandikos sends it
    REQUIRE(ids.size() == 2);
    CHECK(ids[1].address == "alice@acme.com");
    CHECK(ids[1].member);
  }
  SECTION("an IP address proves nothing; malformed addresses are dropped") {
    const auto ids = caldavIdentities("http://127.0.0.1:5232/", {"mailto:", "mailto:@x", "mailto:a@", "MAILTO:a@b c"});
    CHECK(ids.empty());
  }
}

TEST_CASE("OpenID identities: only an organisation-controlled proof makes a member", "[identity]") {
  SECTION("a consumer Google account with a verified organisation address but no hd") {
    const auto ids = googleIdentities("me@acme.com", true, "");
    CHECK(policyDomains(ids) == Domains{"acme.com"});
    CHECK(memberDomains(ids).empty());
  }
  SECTION("a Workspace account: hd makes it a member") {
    const auto ids = googleIdentities("me@acme.com", true, "acme.com");
    CHECK(memberDomains(ids) == Domains{"acme.com"});
  }
  SECTION("an unverified email is no identity at all") {
    CHECK(googleIdentities("me@acme.com", false, "").empty());
  }
  SECTION("Microsoft: a work tenant's UPN is a member, a personal account's is not") {
    const auto work = microsoftIdentities("me@acme.com", "0b7c9a2e-1111-2222-3333-444455556666");
    CHECK(memberDomains(work) == Domains{"acme.com"});
    CHECK(work[0].kind == IdentityKind::WorkAccount);
    const auto personal = microsoftIdentities("me@acme.com", kMicrosoftConsumerTenant);
    CHECK(memberDomains(personal).empty());
    CHECK(policyDomains(personal) == Domains{"acme.com"});
  }
}

TEST_CASE("identity kinds round-trip by name", "[identity]") {
  for (auto k : {IdentityKind::VerifiedEmail, IdentityKind::HostedDomain, IdentityKind::WorkAccount,
                 IdentityKind::CalDavAddress, IdentityKind::ServerDomain, IdentityKind::Typed}) {
    IdentityKind back = IdentityKind::Typed;
    REQUIRE(parseIdentityKind(toString(k), back));
    CHECK(back == k);
  }
  IdentityKind unused{};
  CHECK_FALSE(parseIdentityKind("email", unused));
}
