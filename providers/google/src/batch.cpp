#include "calgate/providers/google/batch.hpp"

#include <botan/hex.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace calgate::providers::google {
namespace {

using core::ErrorCode;

core::Error malformed(const std::string& what) {
  return core::Error{ErrorCode::Invalid, "Google Calendar answered a batch with " + what, std::nullopt, core::Cause::None};
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// The boundary parameter of a multipart/mixed Content-Type; nullopt for anything else.
std::optional<std::string> boundaryOf(std::string_view contentType) {
  const std::string type = lower(contentType);
  if (!type.starts_with("multipart/mixed")) return std::nullopt;
  const auto at = type.find("boundary=");
  if (at == std::string::npos) return std::nullopt;
  std::string_view value = contentType.substr(at + 9);
  value = value.substr(0, value.find(';'));
  value = trim(value);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  // RFC 2046: 1 to 70 characters
  if (value.empty() || value.size() > 70) return std::nullopt;
  return std::string(value);
}

/// Splits "head\r\n\r\nbody" (LF alone tolerated); the head's lines without their line ends.
std::pair<std::vector<std::string_view>, std::string_view> splitMessage(std::string_view text) {
  std::size_t end = text.find("\r\n\r\n");
  std::size_t skip = 4;
  if (const auto lf = text.find("\n\n"); lf != std::string_view::npos && (end == std::string_view::npos || lf < end)) {
    end = lf;
    skip = 2;
  }
  std::string_view head = end == std::string_view::npos ? text : text.substr(0, end);
  std::string_view body = end == std::string_view::npos ? std::string_view() : text.substr(end + skip);
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const auto nl = head.find('\n');
    std::string_view line = trim(head.substr(0, nl));
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    head.remove_prefix(nl + 1);
  }
  return {lines, body};
}

std::optional<std::string> headerValue(const std::vector<std::string_view>& lines, std::string_view lowerName) {
  for (auto line : lines) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (lower(trim(line.substr(0, colon))) == lowerName) return std::string(trim(line.substr(colon + 1)));
  }
  return std::nullopt;
}

/// The status of "HTTP/1.1 200 OK"; nullopt when it is not a status line.
std::optional<long> statusOf(std::string_view line) {
  if (!line.starts_with("HTTP/")) return std::nullopt;
  const auto space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) return std::nullopt;
  long status = 0;
  const char* first = line.data() + space + 1;
  auto [ptr, ec] = std::from_chars(first, first + 3, status);
  if (ec != std::errc() || ptr != first + 3 || status < 100 || status > 599) return std::nullopt;
  return status;
}

}  // namespace

std::string batchBoundary(const std::vector<BatchPart>& parts) {
  for (;;) {
    const std::string boundary = "calgate_" + Botan::hex_encode(Botan::system_rng().random_vec(16), false);
    const bool clash = std::any_of(parts.begin(), parts.end(), [&](const BatchPart& p) {
      return p.body.find(boundary) != std::string::npos || p.target.find(boundary) != std::string::npos;
    });
    if (!clash) return boundary;
  }
}

std::string formatBatch(const std::vector<BatchPart>& parts, const std::string& boundary) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    out += "--" + boundary + "\r\nContent-Type: application/http\r\nContent-ID: <item-" + std::to_string(i + 1) + ">\r\n\r\n";
    out += p.method + " " + p.target + " HTTP/1.1\r\n";
    for (const auto& [name, value] : p.headers) out += name + ": " + value + "\r\n";
    if (!p.body.empty()) out += "Content-Type: application/json\r\n";
    out += "\r\n" + p.body + "\r\n";
  }
  return out + "--" + boundary + "--\r\n";
}

core::Result<std::vector<PartAnswer>> parseBatchAnswer(std::string_view contentType, std::string_view body,
                                                       std::size_t expected) {
  const auto boundary = boundaryOf(contentType);
  if (!boundary) return std::unexpected(malformed("a Content-Type that is not multipart/mixed with a boundary"));
  const std::string delimiter = "--" + *boundary;
  std::vector<std::string_view> chunks;
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return std::unexpected(malformed("no part"));
  bool closed = false;
  while (at != std::string_view::npos) {
    const std::size_t start = at + delimiter.size();
    if (body.substr(start, 2) == "--") {
      closed = true;
      break;
    }
    const std::size_t next = body.find(delimiter, start);
    if (next == std::string_view::npos) break;
    chunks.push_back(body.substr(start, next - start));
    if (chunks.size() > expected) return std::unexpected(malformed("more parts than requests"));
    at = next;
  }
  if (!closed) return std::unexpected(malformed("no closing boundary (a truncated answer)"));
  if (chunks.size() != expected) {
    return std::unexpected(malformed(std::to_string(chunks.size()) + " parts for " + std::to_string(expected) + " requests"));
  }
  std::vector<PartAnswer> out;
  out.reserve(expected);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto [partHead, inner] = splitMessage(chunks[i]);
    const auto type = headerValue(partHead, "content-type");
    if (!type || !lower(*type).starts_with("application/http")) return std::unexpected(malformed("a part that is not application/http"));
    if (const auto id = headerValue(partHead, "content-id")) {
      if (*id != "<response-item-" + std::to_string(i + 1) + ">") {
        return std::unexpected(malformed("a part out of order (Content-ID " + id->substr(0, 40) + ")"));
      }
    }
    auto [answerHead, answerBody] = splitMessage(inner);
    const auto status = answerHead.empty() ? std::nullopt : statusOf(answerHead.front());
    if (!status) return std::unexpected(malformed("a part without an HTTP status line"));
    while (!answerBody.empty() && (answerBody.back() == '\n' || answerBody.back() == '\r')) answerBody.remove_suffix(1);
    PartAnswer a;
    a.status = *status;
    if (!answerBody.empty()) {
      a.body = nlohmann::json::parse(answerBody, nullptr, false);
      if (a.body.is_discarded()) a.body = nullptr;
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace calgate::providers::google
