#include "calgate/providers/http_client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <libpsl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <mutex>

namespace calgate::providers {
namespace {

using core::ErrorCode;
using core::fail;

std::once_flag gCurlInit;

struct Transfer {
  std::string body;
  std::map<std::string, std::string> headers;
  std::size_t limit = 0;
  bool tooLarge = false;
  const HttpClientOptions* options = nullptr;
  std::string refusedAddress;
};

size_t onBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->body.size() + size * n > t->limit) {
    t->tooLarge = true;
    return 0;  // aborts the transfer
  }
  t->body.append(data, size * n);
  return size * n;
}

size_t onHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) t->headers.clear();  // a new response (after a redirect)
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    t->headers[name] = value;
  }
  return size * n;
}

std::string addressText(const curl_sockaddr* address) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (address->family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr, buf, sizeof buf);
  } else if (address->family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// Refuses sockets to addresses the options do not allow: every connection, redirects included.
curl_socket_t openSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN) {
    const std::string ip = addressText(address);
    const bool loopback = isLoopbackAddress(ip);
    const bool priv = isPrivateAddress(ip);
    if ((loopback && !t->options->allowLoopback) || (!loopback && priv && !t->options->allowPrivateNetworks) ||
        ip.empty()) {
      t->refusedAddress = ip.empty() ? "an unknown address" : ip;
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

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

std::optional<std::string> HttpResponse::header(const std::string& lowerName) const {
  auto it = headers.find(lowerName);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

bool isLoopbackAddress(const std::string& ip) {
  if (auto a = ipv4Of(ip)) return inV4(*a, v4(127, 0, 0, 0), 8);
  in6_addr a6{};
  return inet_pton(AF_INET6, ip.c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
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

bool credentialsMayFollow(const std::string& from, const std::string& to) {
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

std::optional<std::chrono::seconds> parseRetryAfter(const std::string& value, const core::Clock& clock) {
  std::string v = value;
  while (!v.empty() && v.back() == ' ') v.pop_back();
  unsigned long long seconds = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec == std::errc() && ptr == v.data() + v.size() && !v.empty()) {
    return std::chrono::seconds(std::min<unsigned long long>(seconds, 86400));
  }
  // HTTP-date, IMF-fixdate form: "Sun, 06 Nov 1994 08:49:37 GMT"
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const long long at = static_cast<long long>(timegm(&tm));
  const long long now = clock.nowUnixSeconds();
  return std::chrono::seconds(std::clamp<long long>(at - now, 0, 86400));
}

core::Error statusError(const HttpResponse& r, const std::string& what, const core::Clock& clock) {
  const std::string message = what + ": HTTP " + std::to_string(r.status);
  core::Error e{ErrorCode::Invalid, message, std::nullopt};
  switch (r.status) {
    case 401:
    case 403: e.code = ErrorCode::Unauthorized; break;
    case 404: e.code = ErrorCode::NotFound; break;
    case 409: e.code = ErrorCode::Conflict; break;
    case 410: e.code = ErrorCode::Gone; break;
    case 412: e.code = ErrorCode::PreconditionFailed; break;
    case 429:
    case 503:
      e.code = ErrorCode::RateLimited;
      if (auto ra = r.header("retry-after")) e.retryAfter = parseRetryAfter(*ra, clock);
      break;
    default:
      if (r.status >= 500) e.code = ErrorCode::Unavailable;
  }
  return e;
}

struct CurlHttpClient::Impl {
  HttpClientOptions options;
  std::mutex mutex;
  CURL* curl = nullptr;
};

CurlHttpClient::CurlHttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  std::call_once(gCurlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->options = std::move(options);
  impl_->curl = curl_easy_init();
}

CurlHttpClient::~CurlHttpClient() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

core::Result<HttpResponse> CurlHttpClient::send(const HttpRequest& request) {
  if (!request.url.starts_with("https://") && !request.url.starts_with("http://")) {
    return fail(ErrorCode::Invalid, "only http and https URLs are allowed");
  }
  if (urlHasUserinfo(request.url)) {
    // credentials travel only in username/password, never in a URL (which ends up in ids and logs)
    return fail(ErrorCode::Invalid, "URLs with a user name or password in them are not allowed");
  }
  std::lock_guard lock(impl_->mutex);
  CURL* curl = impl_->curl;
  // Redirects are followed here, not by libcurl: WebDAV requests (PROPFIND, REPORT) keep their
  // method and body on 301/302/307/308 (libcurl would re-send them without the body), and
  // credentials follow only within one site (credentialsMayFollow).
  std::string url = request.url;
  std::string method = request.method;
  bool sendBody = !request.body.empty() || method == "PUT" || method == "POST" || method == "PROPFIND" ||
                  method == "REPORT";
  bool withCredentials = request.username.has_value();
  Transfer t;
  for (long hop = 0;; ++hop) {
    curl_easy_reset(curl);  // options of the last request must not leak into this one (credentials!)
    t = Transfer{};
    t.limit = impl_->options.maxResponseBytes;
    t.options = &impl_->options;
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      if (!sendBody && (name == "Content-Type" || name == "content-type")) continue;
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(impl_->options.connectTimeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->options.totalTimeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, impl_->options.userAgent.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, openSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate if offered
    curl_easy_setopt(curl, CURLOPT_PROXY, impl_->options.proxy.c_str());  // "" = no proxy, env ignored
    if (withCredentials) {
      curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(curl, CURLOPT_USERNAME, request.username->c_str());
      Botan::secure_vector<char> password(request.password.begin(), request.password.end());
      password.push_back('\0');
      curl_easy_setopt(curl, CURLOPT_PASSWORD, password.data());  // curl copies it
    }
    if (sendBody) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    } else if (method == "GET" || method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
      if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    }
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (withCredentials) curl_easy_setopt(curl, CURLOPT_PASSWORD, "");
    if (!t.refusedAddress.empty()) {
      return fail(ErrorCode::Invalid, "refusing to connect to " + t.refusedAddress +
                                          ": a private, loopback or link-local address");
    }
    if (t.tooLarge) return fail(ErrorCode::Invalid, "response larger than the limit");
    if (rc == CURLE_OPERATION_TIMEDOUT) return fail(ErrorCode::Timeout, "HTTP request timed out");
    if (rc != CURLE_OK) return fail(ErrorCode::Unavailable, std::string("HTTP request failed: ") + curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    const auto location = t.headers.find("location");
    const bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (!redirect || location == t.headers.end()) break;
    if (hop >= impl_->options.maxRedirects) return fail(ErrorCode::Invalid, "too many redirects");
    auto next = redirectTarget(url, location->second);
    if (!next) return std::unexpected(next.error());
    withCredentials = withCredentials && credentialsMayFollow(url, *next);
    if (status == 303 && method != "HEAD") {  // "see other": fetch it
      method = "GET";
      sendBody = false;
    }
    url = std::move(*next);
  }
  HttpResponse response;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  // no userinfo can be in `url`: request URLs and redirect targets with one are refused
  response.effectiveUrl = withoutUserinfo(url).value_or(request.url);
  response.body = std::move(t.body);
  response.headers = std::move(t.headers);
  return response;
}

}  // namespace calgate::providers
