#include "calgate/http/message.hpp"

#include "calgate/core/log.hpp"

#include <algorithm>
#include <cctype>

namespace calgate::http {

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

bool Request::hasMediaType(std::string_view mediaType) const {
  const auto type = header("content-type");
  if (!type) return false;
  std::string_view media = type->substr(0, type->find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  return media.size() == mediaType.size() &&
         std::equal(media.begin(), media.end(), mediaType.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

Response Response::json(int status, std::string body) {
  return Response{status, "application/json", std::move(body), {}};
}

Response Response::text(int status, std::string body, std::string contentType) {
  return Response{status, std::move(contentType), std::move(body), {}};
}

Response problem(int status, std::string_view slug, std::string_view title, std::string_view detail,
                 std::string_view instance) {
  std::string body = "{\"type\":";
  core::log::appendJsonString(body, "urn:calgate:problem:" + std::string(slug));
  body += ",\"title\":";
  core::log::appendJsonString(body, title);
  body += ",\"status\":" + std::to_string(status);
  if (!detail.empty()) {
    body += ",\"detail\":";
    core::log::appendJsonString(body, detail);
  }
  if (!instance.empty()) {
    body += ",\"instance\":";
    core::log::appendJsonString(body, instance);
  }
  body += "}";
  return Response{status, "application/problem+json", std::move(body), {}};
}

Response fieldProblem(int status, std::string_view slug, std::string_view title, std::string_view detail,
                      std::string_view field) {
  Response r = problem(status, slug, title, detail);
  if (!field.empty()) {
    r.body.pop_back();  // the closing brace
    r.body += ",\"field\":";
    core::log::appendJsonString(r.body, field);
    r.body += "}";
  }
  return r;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 502: return "Bad Gateway";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

}  // namespace calgate::http
