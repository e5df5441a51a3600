#include "calgate/providers/http/curl_http_client.hpp"

#include "calgate/providers/http/url_guard.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <mutex>
#include <string_view>

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
  const std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) t->headers.clear();  // a new response (after a redirect)
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    t->headers.insert_or_assign(std::move(name), std::string(value));
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

// What went wrong, as a class a user can act on; never the transport's own text, which would let
// a caller tell a closed port from a filtered one or a non-TLS service on some public host.
std::string failureClass(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST: return "the server's name could not be found";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return "the server's TLS certificate is not trusted";
    default: return "the server could not be reached, or did not answer with HTTP";
  }
}

// Refuses sockets to addresses the options do not allow: every connection, redirects included.
curl_socket_t openSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN) {
    const std::string ip = addressText(address);
    const bool loopback = isLoopbackAddress(ip) || isOwnAddress(ip);  // never the gateway itself
    const bool priv = isPrivateAddress(ip);
    if ((loopback && !t->options->allowLoopback) || (!loopback && priv && !t->options->allowPrivateNetworks) ||
        ip.empty()) {
      t->refusedAddress = ip.empty() ? "an unknown address" : ip;
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

}  // namespace

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
    return fail(ErrorCode::Invalid, "only http and https URLs are allowed", core::Cause::UrlRejected);
  }
  if (request.url.starts_with("http://") && !impl_->options.allowPlainHttp) {
    return fail(ErrorCode::Invalid,
                "only https:// servers are allowed: over http:// the password would travel in clear text (the "
                "operator can allow http:// for servers on the local network with sync.allow_private_networks)",
                core::Cause::UrlRejected);
  }
  if (urlHasUserinfo(request.url)) {
    // credentials travel only in username/password, never in a URL (which ends up in ids and logs)
    return fail(ErrorCode::Invalid, "URLs with a user name or password in them are not allowed",
                core::Cause::UrlRejected);
  }
  for (const auto& [name, value] : request.headers) {
    // header values often come from an answer (an ETag sent back as If-Match): a line break or NUL
    // in one would add headers of the server's choosing to calgate's request
    constexpr std::string_view kBreaks("\r\n\0", 3);
    if (name.empty() || name.find_first_of(kBreaks) != std::string::npos ||
        value.find_first_of(kBreaks) != std::string::npos) {
      return fail(ErrorCode::Invalid, "refusing to send a request header with a line break or NUL in it (" + name + ")");
    }
  }
  std::lock_guard lock(impl_->mutex);
  auto timeout = impl_->options.totalTimeout;
  if (impl_->options.deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*impl_->options.deadline -
                                                                              std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return fail(ErrorCode::Timeout, "the time budget for this work ran out", core::Cause::BudgetExceeded);
    }
    timeout = std::min(timeout, left);
  }
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
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, impl_->options.userAgent.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, openSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &t);
    if (request.acceptCompressed) curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate if offered
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
      return fail(ErrorCode::Invalid,
                  "refusing to connect to " + t.refusedAddress + ": a private, loopback or link-local address",
                  core::Cause::AddressRefused);
    }
    if (t.tooLarge) {
      const std::size_t limit = impl_->options.maxResponseBytes;
      const std::string size = limit >= 1024 * 1024 ? std::to_string(limit / (1024 * 1024)) + " MiB"
                                                    : std::to_string(limit) + " bytes";
      return fail(ErrorCode::Invalid,
                  "the server's answer is larger than " + size + ", the most calgate reads in one response; it was "
                  "not read further",
                  core::Cause::BudgetExceeded);
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      if (timeout < impl_->options.totalTimeout) {  // the budget, not the request's own limit, ran out
        return fail(ErrorCode::Timeout, "the time budget for this work ran out while waiting on the server",
                    core::Cause::BudgetExceeded);
      }
      return fail(ErrorCode::Timeout, "HTTP request timed out");
    }
    if (rc == CURLE_URL_MALFORMAT) {  // not an outage: retrying would never help
      return fail(ErrorCode::Invalid, hop == 0 ? "the URL is malformed" : "the server redirected to a malformed URL",
                  core::Cause::UrlRejected);
    }
    if (rc != CURLE_OK) return fail(ErrorCode::Unavailable, failureClass(rc));
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
  // no userinfo can be in `url`: request URLs and redirect targets with one are refused (a URL
  // not redirected is the request's own, checked above: not parsed again for every request)
  response.effectiveUrl = url == request.url ? request.url : withoutUserinfo(url).value_or(request.url);
  response.body = std::move(t.body);
  response.headers = std::move(t.headers);
  return response;
}

}  // namespace calgate::providers
