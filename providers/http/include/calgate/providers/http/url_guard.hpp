#pragma once
/// The URL and address rules every outgoing request follows: no credentials in URLs, no
/// connections to loopback or private addresses unless allowed, no https -> http redirects,
/// credentials only within one site. Pure functions; thread-safe.

#include "calgate/core/error.hpp"

#include <optional>
#include <string>

namespace calgate::providers {

/// Whether an absolute URL carries a userinfo part ("https://user:secret@host/"); a URL that cannot
/// be parsed counts as having one if its authority holds an '@'.
bool urlHasUserinfo(const std::string& url);
/// The URL without its userinfo part (user, password, login options); nullopt if unparseable.
std::optional<std::string> withoutUserinfo(const std::string& url);

/// Whether an address (textual IPv4/IPv6) is one the guard refuses by default. Private: RFC 1918,
/// CGNAT, link-local, 0/8, multicast, reserved, 198.18.0.0/15, 192.0.0.0/24, fc00::/7, fec0::/10,
/// 64:ff9b:1::/48, and IPv6 addresses that embed a private IPv4 one (IPv4-mapped, IPv4-compatible,
/// IPv4-translated, NAT64 64:ff9b::/96, 6to4 2002::/16).
bool isLoopbackAddress(const std::string& ip);
bool isPrivateAddress(const std::string& ip);
/// Whether an address is one of this host's own (its network interfaces, read with getifaddrs and
/// kept for a minute): a URL must not make the gateway call itself, so these are refused like
/// loopback, whatever their range.
bool isOwnAddress(const std::string& ip);

/// Resolves a redirect's Location against the URL that answered it. Invalid for an unusable
/// Location, one with userinfo, a scheme other than http(s), or a downgrade from https to http.
core::Result<std::string> redirectTarget(const std::string& from, const std::string& location);
/// Whether credentials sent to `from` may follow a redirect to `to`: the same origin (scheme, host,
/// port), or https to https within one registrable domain (Public Suffix List), e.g.
/// fastmail.com -> caldav.fastmail.com. Anything else gets the request without them.
bool credentialsMayFollow(const std::string& from, const std::string& to);

}  // namespace calgate::providers
