#include "calgate/providers/caldav/multistatus.hpp"

#include <cctype>
#include <cstdlib>
#include <unordered_map>

namespace calgate::providers::caldav {

namespace {

constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxElements = 1'000'000;

struct Resolver {
  std::unordered_map<std::string, std::vector<std::string>> scopes;  // prefix -> URIs in scope
  std::size_t elements = 0;
  std::string prefixBuffer, nameBuffer;  // reused for every element

  core::Result<void> visit(pugi::xml_node node, int depth) {
    if (depth > kMaxDepth) return core::fail(core::ErrorCode::Invalid, "XML nested deeper than 64 levels");
    if (++elements > kMaxElements) return core::fail(core::ErrorCode::Invalid, "XML with over a million elements");
    std::vector<std::string> declared;
    for (auto a = node.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view n = a.name();
      if (n == "xmlns" || n.starts_with("xmlns:")) {
        const std::string prefix(n == "xmlns" ? std::string_view() : n.substr(6));
        scopes[prefix].emplace_back(a.value());
        declared.push_back(prefix);
      }
    }
    const std::string_view name = node.name();
    const auto colon = name.find(':');
    const std::string_view local = colon == std::string_view::npos ? name : name.substr(colon + 1);
    prefixBuffer.assign(colon == std::string_view::npos ? std::string_view() : name.substr(0, colon));
    auto scope = scopes.find(prefixBuffer);
    const bool bound = scope != scopes.end() && !scope->second.empty();
    nameBuffer.assign("{");
    if (bound) nameBuffer.append(scope->second.back());
    nameBuffer.append("}").append(local);
    node.set_name(nameBuffer.c_str());
    for (auto c = node.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      if (auto ok = visit(c, depth + 1); !ok) return ok;
    }
    for (const auto& p : declared) scopes[p].pop_back();
    return {};
  }
};

}  // namespace

core::Result<void> loadDavXml(pugi::xml_document& doc, std::string_view body) {
  // no DOCTYPE/entity expansion: pugixml does not fetch or expand external entities
  const auto parsed = doc.load_buffer(body.data(), body.size(), pugi::parse_default & ~pugi::parse_doctype);
  if (!parsed) return core::fail(core::ErrorCode::Invalid, std::string("malformed XML: ") + parsed.description());
  if (!doc.document_element()) return core::fail(core::ErrorCode::Invalid, "XML without a root element");
  Resolver resolver;
  return resolver.visit(doc.document_element(), 0);
}

std::pair<std::string, std::string> qualifiedName(const pugi::xml_node& node) {
  const std::string name = node.name();
  if (!name.empty() && name.front() == '{') {  // resolved by loadDavXml: "{uri}local"
    const auto close = name.find('}');
    if (close != std::string::npos) return {name.substr(1, close - 1), name.substr(close + 1)};
  }
  const auto colon = name.find(':');
  const std::string prefix = colon == std::string::npos ? "" : name.substr(0, colon);
  const std::string local = colon == std::string::npos ? name : name.substr(colon + 1);
  const std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
  for (pugi::xml_node n = node; n; n = n.parent()) {
    if (n.type() != pugi::node_element) continue;
    if (auto a = n.attribute(attr.c_str())) return {a.value(), local};
  }
  return {"", local};
}

namespace {

// Whether `node` is {ns}local: a name loadDavXml resolved is compared as it stands.
bool named(const pugi::xml_node& node, std::string_view ns, std::string_view local) {
  const std::string_view name = node.name();
  if (name.starts_with('{')) {
    return name.size() == ns.size() + local.size() + 2 && name.substr(1, ns.size()) == ns &&
           name[ns.size() + 1] == '}' && name.substr(ns.size() + 2) == local;
  }
  const auto [nodeNs, nodeLocal] = qualifiedName(node);
  return nodeNs == ns && nodeLocal == local;
}

}  // namespace

pugi::xml_node child(const pugi::xml_node& node, std::string_view ns, std::string_view local) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && named(c, ns, local)) return c;
  }
  return {};
}

std::vector<pugi::xml_node> children(const pugi::xml_node& node, std::string_view ns, std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && named(c, ns, local)) out.push_back(c);
  }
  return out;
}

std::string text(const pugi::xml_node& node) {
  std::string t = node.text().get();
  if (t.empty()) t = node.child_value();
  std::size_t b = 0, e = t.size();
  while (b < e && std::isspace(static_cast<unsigned char>(t[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(t[e - 1]))) --e;
  return t.substr(b, e - b);
}

int statusCode(std::string_view line) {
  // "HTTP/1.1 200 OK"
  const auto space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) return 0;
  int code = 0;
  for (std::size_t i = space + 1; i < space + 4; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return 0;
    code = code * 10 + (line[i] - '0');
  }
  return code;
}

std::string hrefPath(std::string_view href) {
  std::string h(href);
  if (const auto scheme = h.find("://"); scheme != std::string::npos) {
    const auto slash = h.find('/', scheme + 3);
    h = slash == std::string::npos ? "/" : h.substr(slash);
  }
  return h;  // kept percent-encoded: it is used in request URLs as the server wrote it
}

std::string xmlEscape(std::string_view t) {
  std::string out;
  for (char c : t) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

pugi::xml_node DavResponse::prop(std::string_view ns, std::string_view local) const {
  for (const auto& [code, props] : propstats) {
    if (code < 200 || code > 299) continue;
    if (auto p = child(props, ns, local)) return p;
  }
  return {};
}

core::Result<Multistatus> parseMultistatus(std::string_view body) {
  if (body.size() > 32 * 1024 * 1024) return core::fail(core::ErrorCode::Invalid, "multistatus body over 32 MiB");
  Multistatus ms;
  ms.document = std::make_shared<pugi::xml_document>();
  if (auto loaded = loadDavXml(*ms.document, body); !loaded) return std::unexpected(loaded.error());
  const pugi::xml_node root = ms.document->document_element();
  const auto [rns, rlocal] = qualifiedName(root);
  if (rns != kDav || rlocal != "multistatus") {
    return core::fail(core::ErrorCode::Invalid, "expected a DAV:multistatus document");
  }
  for (const auto& r : children(root, kDav, "response")) {
    DavResponse resp;
    resp.href = hrefPath(text(child(r, kDav, "href")));
    if (auto s = child(r, kDav, "status")) resp.status = statusCode(text(s));
    for (const auto& ps : children(r, kDav, "propstat")) {
      resp.propstats.emplace_back(statusCode(text(child(ps, kDav, "status"))), child(ps, kDav, "prop"));
    }
    ms.responses.push_back(std::move(resp));
  }
  if (auto token = child(root, kDav, "sync-token")) ms.syncToken = text(token);
  return ms;
}

}  // namespace calgate::providers::caldav
