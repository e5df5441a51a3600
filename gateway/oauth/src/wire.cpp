#include "wire.hpp"

#include "calgate/providers/http/url_guard.hpp"

#include <botan/base64.h>
#include <botan/exceptn.h>

#include <algorithm>
#include <cctype>

namespace calgate::oauth::detail {

using core::ErrorCode;

std::string base64url(const std::uint8_t* data, std::size_t size) {
  std::string text = Botan::base64_encode(data, size);
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

std::optional<std::vector<std::uint8_t>> fromBase64url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string standard;
  standard.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
    standard.push_back(c);
  }
  while (standard.size() % 4 != 0) standard.push_back('=');
  try {
    const auto bytes = Botan::base64_decode(standard, false);
    std::vector<std::uint8_t> out(bytes.begin(), bytes.end());
    if (base64url(out.data(), out.size()) != text) return std::nullopt;  // only the canonical form
    return out;
  } catch (const Botan::Exception&) {
    return std::nullopt;
  }
}

namespace {

bool unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

template <class Out>
void encodeInto(Out& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
}

}  // namespace

std::string formEncode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  encodeInto(out, value);
  return out;
}

void appendField(Secret& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out.push_back('&');
  encodeInto(out, name);
  out.push_back('=');
  encodeInto(out, value);
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The host of an authority ("[::1]:8080" -> "::1", "a.example:443" -> "a.example").
std::string hostOf(std::string_view authority) {
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    return close == std::string_view::npos ? std::string() : std::string(authority.substr(1, close - 1));
  }
  return std::string(authority.substr(0, authority.find(':')));
}

}  // namespace

core::Result<void> checkEndpointUrl(const std::string& url, bool allowInsecureLoopback, std::string_view what) {
  const auto refuse = [&](std::string_view why) {
    return core::fail(ErrorCode::Invalid, std::string(what) + " " + std::string(why), core::Cause::UrlRejected);
  };
  if (url.empty()) return refuse("is missing");
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7F; })) {
    return refuse("holds spaces or control characters");
  }
  const auto sep = url.find("://");
  if (sep == std::string::npos) return refuse("is not an absolute URL");
  const std::string scheme = lower(std::string_view(url).substr(0, sep));
  const std::string_view rest = std::string_view(url).substr(sep + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  const std::string host = hostOf(authority);
  if (host.empty()) return refuse("has no host");
  if (authority.find('@') != std::string_view::npos || providers::urlHasUserinfo(url)) {
    return refuse("carries credentials");
  }
  if (url.find('#') != std::string::npos) return refuse("has a fragment");
  if (scheme == "https") return {};
  if (scheme == "http" && allowInsecureLoopback && providers::isLoopbackAddress(host)) return {};
  return refuse(scheme == "http" ? "is not https" : "is not an https URL");
}

core::Result<nlohmann::json> jsonObject(std::string_view body, std::size_t limit, std::string_view what) {
  if (body.size() > limit) {
    return core::fail(ErrorCode::Invalid, std::string(what) + " is larger than " + std::to_string(limit / 1024) +
                                              " KiB; not read");
  }
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return core::fail(ErrorCode::Invalid, std::string(what) + " is not JSON");
  if (!j.is_object()) return core::fail(ErrorCode::Invalid, std::string(what) + " is not a JSON object");
  return j;
}

std::optional<std::string> stringMember(const nlohmann::json& object, std::string_view name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= max) break;
    if (c >= 0x20 && c < 0x7F) out.push_back(c);
  }
  return out;
}

bool sameBytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace calgate::oauth::detail
