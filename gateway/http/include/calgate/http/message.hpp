#pragma once
/// HTTP request/response values independent of the server library, so that routing, auth,
/// limits and handlers are testable without a socket.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace calgate::http {

/// Who made an authenticated request, as the dispatcher's authenticator resolved the bearer token.
/// The HTTP layer knows no users or tokens beyond these ids: handlers that need more ask the store.
struct Identity {
  std::string userId;
  std::string tokenId;  ///< the credential used (rate limits are per token): an API token's or a session's id
  bool session = false; ///< signed in to the portal (tokenId is the session's id), not an API token
};

struct Request {
  std::string method;  ///< upper case: GET, POST, ...
  std::string path;    ///< without the query string
  std::string query;   ///< raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  std::optional<std::size_t> contentLength;  ///< the declared Content-Length, if any
  /// Who sent it: the peer's address, or - when the peer is one of server.trusted_proxies - the
  /// last address its X-Forwarded-For names. Per-client limits (PIN attempts) key on it.
  std::string clientAddress;

  // Filled in by the dispatcher.
  std::string requestId;
  std::map<std::string, std::string> params;  ///< path parameters of the matched route
  std::optional<Identity> identity;  ///< set on authenticated routes

  /// First header with this (case-insensitive) name.
  std::optional<std::string_view> header(std::string_view name) const;
  /// Whether Content-Type names `mediaType` (lower-case, e.g. "application/json"), compared
  /// case-insensitively, parameters such as charset ignored.
  bool hasMediaType(std::string_view mediaType) const;
};

struct Response {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string contentType = "text/plain; charset=utf-8");
};

/// An RFC 9457 problem (application/problem+json). `slug` names a stable error type,
/// rendered as type "urn:calgate:problem:<slug>"; `detail` must never hold a secret.
Response problem(int status, std::string_view slug, std::string_view title, std::string_view detail,
                 std::string_view instance = {});

/// A problem about one input field (`field` names it, e.g. "window.past_days"): the same document
/// with a `field` member.
Response fieldProblem(int status, std::string_view slug, std::string_view title, std::string_view detail,
                      std::string_view field);

/// Standard reason phrase ("Not Found"), or "Unknown".
std::string_view reasonPhrase(int status);

}  // namespace calgate::http
