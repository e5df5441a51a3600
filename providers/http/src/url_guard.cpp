#include "calgate/providers/http/url_guard.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <libpsl.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <chrono>
#include <mutex>
#include <set>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace calgate::providers {
namespace {

using core::ErrorCode;
using core::fail;

bool inV4(std::uint32_t a, std::uint32_t net, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~0u << (32 - bits);
  return (a & mask) == (net & mask);
}

std::uint32_t v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (std::uint32_t(a) << 24) | (std::uint32_t(b) << 16) | (std::uint32_t(c) << 8) | d;
}

// IPv4 value of `ip` (also for IPv4-mapped IPv6), if it is one.
std::optional<std::uint32_t> ipv4Of(const std::string& ip) {
  in_addr a4{};
  if (inet_pton(AF_INET, ip.c_str(), &a4) == 1) return ntohl(a4.s_addr);
  in6_addr a6{};
  if (inet_pton(AF_INET6, ip.c_str(), &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6)) {
    return (std::uint32_t(a6.s6_addr[12]) << 24) | (std::uint32_t(a6.s6_addr[13]) << 16) |
           (std::uint32_t(a6.s6_addr[14]) << 8) | a6.s6_addr[15];
  }
  return std::nullopt;
}

// The IPv4 address carried inside an IPv6 one by a transition mechanism: NAT64 (64:ff9b::/96,
// RFC 6052), 6to4 (2002::/16, RFC 3056), IPv4-compatible (::a.b.c.d, RFC 4291) and IPv4-translated
// (::ffff:0:a.b.c.d, RFC 2765). Such an address can lead to the IPv4 host it names.
std::optional<std::uint32_t> embeddedIpv4(const in6_addr& a6) {
  const auto* b = a6.s6_addr;
  auto at = [&](int i) {
    return (std::uint32_t(b[i]) << 24) | (std::uint32_t(b[i + 1]) << 16) | (std::uint32_t(b[i + 2]) << 8) | b[i + 3];
  };
  auto zero = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      if (b[i] != 0) return false;
    }
    return true;
  };
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zero(4, 12)) return at(12);  // NAT64
  if (b[0] == 0x20 && b[1] == 0x02) return at(2);                                                   // 6to4
  if (zero(0, 12)) return at(12);                                                                    // ::a.b.c.d
  if (zero(0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0) return at(12);         // ::ffff:0:a.b.c.d
  return std::nullopt;
}

bool privateV4(std::uint32_t a) {
  return inV4(a, v4(10, 0, 0, 0), 8) || inV4(a, v4(172, 16, 0, 0), 12) || inV4(a, v4(192, 168, 0, 0), 16) ||
         inV4(a, v4(169, 254, 0, 0), 16) || inV4(a, v4(100, 64, 0, 0), 10) || inV4(a, v4(0, 0, 0, 0), 8) ||
         inV4(a, v4(127, 0, 0, 0), 8) || inV4(a, v4(224, 0, 0, 0), 4) || inV4(a, v4(240, 0, 0, 0), 4) ||
         inV4(a, v4(198, 18, 0, 0), 15) ||  // benchmarking (RFC 2544), used inside networks
         inV4(a, v4(192, 0, 0, 0), 24);     // IETF protocol assignments (RFC 6890)
}

// Owns a CURLU handle.
struct UrlHandle {
  CURLU* h = curl_url();
  UrlHandle() = default;
  UrlHandle(const UrlHandle&) = delete;
  UrlHandle& operator=(const UrlHandle&) = delete;
  ~UrlHandle() { curl_url_cleanup(h); }
};

}  // namespace

bool urlHasUserinfo(const std::string& url) {
  // userinfo is what comes before an '@' in the authority: without an '@' anywhere there is none,
  // and the URL need not be parsed (this runs for every request)
  if (url.find('@') == std::string::npos) return false;
  UrlHandle u;
  if (!u.h || curl_url_set(u.h, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    // unparseable: look for an '@' in the authority, the way a lenient parser would
    const auto scheme = url.find("://");
    const auto start = scheme == std::string::npos ? 0 : scheme + 3;
    const auto end = url.find_first_of("/?#", start);
    return url.substr(start, end == std::string::npos ? std::string::npos : end - start).find('@') != std::string::npos;
  }
  for (const auto part : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS}) {
    char* value = nullptr;
    if (curl_url_get(u.h, part, &value, 0) == CURLUE_OK && value) {
      curl_free(value);
      return true;
    }
  }
  return false;
}

std::optional<std::string> withoutUserinfo(const std::string& url) {
  UrlHandle u;
  if (!u.h || curl_url_set(u.h, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  curl_url_set(u.h, CURLUPART_USER, nullptr, 0);
  curl_url_set(u.h, CURLUPART_PASSWORD, nullptr, 0);
  curl_url_set(u.h, CURLUPART_OPTIONS, nullptr, 0);
  char* clean = nullptr;
  if (curl_url_get(u.h, CURLUPART_URL, &clean, 0) != CURLUE_OK || !clean) return std::nullopt;
  std::string out = clean;
  curl_free(clean);
  return out;
}

bool isLoopbackAddress(const std::string& ip) {
  if (auto a = ipv4Of(ip)) return inV4(*a, v4(127, 0, 0, 0), 8);
  in6_addr a6{};
  return inet_pton(AF_INET6, ip.c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

namespace {

std::string canonicalAddress(const std::string& ip) {
  in6_addr a6{};
  in_addr a4{};
  char buf[INET6_ADDRSTRLEN] = {0};
  if (inet_pton(AF_INET, ip.c_str(), &a4) == 1) return inet_ntop(AF_INET, &a4, buf, sizeof buf) ? buf : ip;
  if (inet_pton(AF_INET6, ip.c_str(), &a6) == 1) return inet_ntop(AF_INET6, &a6, buf, sizeof buf) ? buf : ip;
  return ip;
}

std::set<std::string> interfaceAddresses() {
  std::set<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  char buf[INET6_ADDRSTRLEN] = {0};
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      if (inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf)) out.insert(buf);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      if (inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf)) out.insert(buf);
    }
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

bool isOwnAddress(const std::string& ip) {
  static std::mutex mutex;
  static std::set<std::string> own;
  static std::chrono::steady_clock::time_point readAt;
  std::lock_guard lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  if (own.empty() || now - readAt > std::chrono::minutes(1)) {
    own = interfaceAddresses();
    readAt = now;
  }
  return own.contains(canonicalAddress(ip));
}

bool isPrivateAddress(const std::string& ip) {
  if (auto a = ipv4Of(ip)) return privateV4(*a);
  in6_addr a6{};
  if (inet_pton(AF_INET6, ip.c_str(), &a6) != 1) return true;  // unparseable: refuse
  if (auto embedded = embeddedIpv4(a6); embedded && privateV4(*embedded)) return true;
  const bool localNat64 = a6.s6_addr[0] == 0x00 && a6.s6_addr[1] == 0x64 && a6.s6_addr[2] == 0xff &&
                          a6.s6_addr[3] == 0x9b && a6.s6_addr[4] == 0x00 && a6.s6_addr[5] == 0x01;  // 64:ff9b:1::/48
  return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_LINKLOCAL(&a6) ||
         IN6_IS_ADDR_SITELOCAL(&a6) || IN6_IS_ADDR_MULTICAST(&a6) || (a6.s6_addr[0] & 0xFE) == 0xFC || localNat64;
}

core::Result<std::string> redirectTarget(const std::string& from, const std::string& location) {
  if (location.empty() || location.size() > 8192) return fail(ErrorCode::Invalid, "unusable redirect");
  UrlHandle u;
  if (!u.h || curl_url_set(u.h, CURLUPART_URL, from.c_str(), 0) != CURLUE_OK ||
      curl_url_set(u.h, CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) {  // relative to `from`
    return fail(ErrorCode::Invalid, "unusable redirect");
  }
  char* text = nullptr;
  if (curl_url_get(u.h, CURLUPART_URL, &text, 0) != CURLUE_OK || !text) return fail(ErrorCode::Invalid, "unusable redirect");
  std::string to = text;
  curl_free(text);
  if (urlHasUserinfo(to)) return fail(ErrorCode::Invalid, "redirect to a URL with credentials in it refused");
  if (!to.starts_with("https://") && !to.starts_with("http://")) return fail(ErrorCode::Invalid, "redirect to a non-HTTP URL refused");
  if (from.starts_with("https://") && !to.starts_with("https://")) {
    return fail(ErrorCode::Invalid, "redirect from https to http refused");
  }
  return to;
}

namespace {

// "http(s)://host[:port]" of `url` when its authority is only a DNS name or IPv4 address and a port
// (letters, digits, '.', '-'): two URLs with the same such text are on one origin whatever a URL
// parser makes of them. Empty for anything else (userinfo, IPv6 literals, escapes, port 0 or with
// leading zeros), which is parsed. Whether the rest of the URL is well-formed is not judged here:
// the HTTP client refuses to send a URL it cannot parse.
std::string_view plainOrigin(std::string_view url) {
  const std::size_t begin = url.starts_with("https://") ? 8 : url.starts_with("http://") ? 7 : 0;
  if (begin == 0) return {};
  const std::size_t end = std::min(url.find_first_of("/?#", begin), url.size());
  const std::string_view authority = url.substr(begin, end - begin);
  const std::size_t colon = authority.find(':');
  const std::string_view host = authority.substr(0, colon);
  const std::string_view port = colon == std::string_view::npos ? std::string_view() : authority.substr(colon + 1);
  const auto hostChar = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (host.empty() || !std::all_of(host.begin(), host.end(), hostChar)) return {};
  if (colon != std::string_view::npos) {
    const bool plainPort = !port.empty() && port.size() <= 5 && port.front() != '0' &&
                           std::all_of(port.begin(), port.end(), digit) && std::stoi(std::string(port)) <= 65535;
    if (!plainPort) return {};
  }
  return url.substr(0, end);
}

}  // namespace

bool credentialsMayFollow(const std::string& from, const std::string& to) {
  // the common case, a request to the account's own server: no URL parsing (this runs for every
  // request a provider sends)
  if (const auto origin = plainOrigin(from); !origin.empty() && origin == plainOrigin(to)) return true;
  auto parts = [](const std::string& url) {
    std::array<std::string, 3> out;  // scheme, host, port
    UrlHandle u;
    if (!u.h || curl_url_set(u.h, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return out;
    const std::array<CURLUPart, 3> which = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
    for (std::size_t i = 0; i < which.size(); ++i) {
      char* v = nullptr;
      if (curl_url_get(u.h, which[i], &v, i == 2 ? CURLU_DEFAULT_PORT : 0) == CURLUE_OK && v) {
        out[i] = v;
        curl_free(v);
      }
    }
    for (auto& c : out[1]) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const auto a = parts(from), b = parts(to);
  if (a[1].empty() || b[1].empty()) return false;
  if (a == b) return true;
  if (a[0] != "https" || b[0] != "https") return false;
  const char* ra = psl_registrable_domain(psl_builtin(), a[1].c_str());
  const char* rb = psl_registrable_domain(psl_builtin(), b[1].c_str());
  return ra && rb && std::string_view(ra) == std::string_view(rb);
}

}  // namespace calgate::providers
