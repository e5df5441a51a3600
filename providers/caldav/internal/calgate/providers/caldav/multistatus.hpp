#pragma once
// WebDAV multistatus (RFC 4918 §13) parsing, namespace-aware on top of pugixml (which is not):
// elements are matched by (namespace URI, local name), whatever prefixes a server chooses.
// Tolerant of absolute vs relative hrefs and of prefix choices; strict about size.

#include "calgate/core/error.hpp"

#include <pugixml.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calgate::providers::caldav {

inline constexpr std::string_view kDav = "DAV:";
inline constexpr std::string_view kCalDav = "urn:ietf:params:xml:ns:caldav";
inline constexpr std::string_view kCalServer = "http://calendarserver.org/ns/";
inline constexpr std::string_view kAppleIcal = "http://apple.com/ns/ical/";

/// Parses a WebDAV XML body and resolves every element's namespace once (names become
/// "{uri}local"), in time linear in the document. Invalid for malformed XML, nesting deeper than
/// 64 levels or more than a million elements.
core::Result<void> loadDavXml(pugi::xml_document& doc, std::string_view body);
/// (namespace URI, local name) of an element, resolving its prefix through the xmlns declarations
/// in scope.
std::pair<std::string, std::string> qualifiedName(const pugi::xml_node& node);
/// First child element with that namespace and local name (or an empty node).
pugi::xml_node child(const pugi::xml_node& node, std::string_view ns, std::string_view local);
/// All child elements with that namespace and local name.
std::vector<pugi::xml_node> children(const pugi::xml_node& node, std::string_view ns, std::string_view local);
/// Text content, trimmed.
std::string text(const pugi::xml_node& node);

struct DavResponse {
  std::string href;                 ///< path as the server wrote it (absolute URLs reduced to their path)
  std::optional<int> status;        ///< a response-level status (e.g. 404 for a removed member)
  /// The property with a 2xx propstat, or an empty node.
  pugi::xml_node prop(std::string_view ns, std::string_view local) const;
  std::vector<std::pair<int, pugi::xml_node>> propstats;  ///< (status, <prop> element)
};

struct Multistatus {
  std::shared_ptr<pugi::xml_document> document;  // keeps nodes alive
  std::vector<DavResponse> responses;
  std::string syncToken;  ///< RFC 6578 sync-token, if present
};

/// Parses a multistatus body. Invalid for malformed XML, a root that is not DAV:multistatus or a
/// body over 32 MiB.
core::Result<Multistatus> parseMultistatus(std::string_view body);

/// "HTTP/1.1 404 Not Found" -> 404; 0 when unparseable.
int statusCode(std::string_view statusLine);

/// Reduces "https://host/p" to "/p" (percent-encoding kept).
std::string hrefPath(std::string_view href);

/// XML-escapes text for element content.
std::string xmlEscape(std::string_view text);

}  // namespace calgate::providers::caldav
