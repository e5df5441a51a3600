#pragma once
/// Who a connected account proves to be, and therefore whose organisation policies concern it
/// (DESIGN.md §5). An address the user typed when connecting is a label, never evidence: only
/// what a provider proved (an OpenID Connect identity, a CalDAV principal's addresses, the server
/// the account lives on) counts.
///
/// Two questions are asked of an account:
/// - as a **source**: which organisations' policies apply to its events? Every proven domain's:
///   more policies can only make a copy stricter, so even a claim a user's own server makes counts.
/// - as a **target**: which organisations is it inside (for `allow=` and `p=block`)? Only those that
///   control the proof: Google's `hd`, a Microsoft work tenant's UPN domain, the registrable domain
///   of the CalDAV server host and the principal's addresses within it. Never a bare claim.
/// Plain values; the functions are pure and thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace calgate::model {

enum class IdentityKind {
  VerifiedEmail,   ///< OIDC `email` with `email_verified` true
  HostedDomain,    ///< Google Workspace `hd` claim: the domain's administrator controls the account
  WorkAccount,     ///< Microsoft work or school account: UPN in a (non-consumer) tenant
  CalDavAddress,   ///< the principal's calendar-user-address-set (RFC 6638), as the server reports it
  ServerDomain,    ///< the registrable domain of the CalDAV server's host
  Typed,           ///< accounts connected before proofs existed: the typed address, tightening only
};

std::string_view toString(IdentityKind kind);
/// Inverse of toString(); false for an unknown name.
bool parseIdentityKind(std::string_view name, IdentityKind& out);

struct Identity {
  IdentityKind kind = IdentityKind::ServerDomain;
  std::string address;  ///< the email address / UPN ("" for a bare domain)
  std::string domain;   ///< lower case, no trailing dot
  /// The account is inside `domain`'s organisation: it may be admitted by that organisation's
  /// policy as a target. Set only where the organisation controls the proof (see above).
  bool member = false;
  std::string tenant{};  ///< WorkAccount: the Microsoft tenant id
};

/// Domains whose policies apply to the account's events as a source: every identity's, distinct,
/// in order of appearance.
std::vector<std::string> policyDomains(const std::vector<Identity>& identities);
/// Domains the account is proven to be inside (members only), distinct, in order.
std::vector<std::string> memberDomains(const std::vector<Identity>& identities);

/// The registrable domain of a host name (Public Suffix List, libpsl): "caldav.eu.acme.co.uk" ->
/// "acme.co.uk". Empty for an IP literal, a bare public suffix or an invalid name.
std::string registrableDomain(std::string_view host);
/// `domain` equals `base` or is a subdomain of it (label boundary; case-insensitive, trailing dots
/// ignored). Never true for an empty side.
bool withinDomain(std::string_view domain, std::string_view base);
/// Lower case, trailing dots removed.
std::string normaliseDomain(std::string_view domain);

/// The identities of a CalDAV account on `serverUrl` whose principal reports `addresses` (RFC 6638
/// calendar-user-address-set hrefs; only `mailto:` ones are addresses, others are ignored): the
/// server's registrable domain (member), and each address (member only when its domain lies within
/// the server's registrable domain - a server proves addresses of its own organisation only).
std::vector<Identity> caldavIdentities(std::string_view serverUrl, const std::vector<std::string>& addresses);

/// The tenant id Microsoft gives every personal (consumer) account.
inline constexpr std::string_view kMicrosoftConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// A Google account's identities from its verified ID token: the email only when
/// `emailVerified` (never a member: a consumer account can verify an address of any domain), and
/// the `hd` claim's domain (a member: a Workspace administrator of that domain owns the account).
std::vector<Identity> googleIdentities(std::string_view email, bool emailVerified, std::string_view hostedDomain);
/// A Microsoft account's identities from its verified ID token: the UPN (`preferred_username`)
/// with its tenant id; a member of the UPN's domain only in a work or school tenant (a tenant can
/// use only domains it verified as UPN suffixes), never in the consumer tenant or without one.
std::vector<Identity> microsoftIdentities(std::string_view upn, std::string_view tenantId);

}  // namespace calgate::model
