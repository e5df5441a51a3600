#include "calgate/providers/caldav/content_lines.hpp"

#include <algorithm>

namespace calgate::providers::caldav {
namespace {

constexpr std::size_t kFoldAt = 75;  // octets per physical line, CRLF not counted (RFC 5545 §3.1)

// Octets of the UTF-8 sequence `lead` starts (1 for ASCII and for a byte that starts none).
std::size_t sequenceLength(unsigned char lead) {
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  if (lead >= 0xE0) return lead < 0xF0 ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}

bool continuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

void ContentLines::begin(std::string_view component) { line("BEGIN", {}, component, false); }

void ContentLines::end(std::string_view component) { line("END", {}, component, false); }

void ContentLines::text(std::string_view name, std::string_view value, std::string_view param) {
  line(name, param, value, true);
}

void ContentLines::plain(std::string_view name, std::string_view value, std::string_view param) {
  line(name, param, value, false);
}

// Appends `unit` (a character, or an escape) to the current line, folding first when it would not
// fit: a unit is never split, so a fold never falls inside a UTF-8 sequence.
void ContentLines::put(std::string_view unit) {
  if (out_.size() - lineStart_ + unit.size() > kFoldAt) fold();
  out_.append(unit);
}

void ContentLines::fold() {
  out_.append("\r\n ");
  lineStart_ = out_.size() - 1;  // the continuation's leading space counts
}

void ContentLines::putAll(std::string_view ascii) {
  while (!ascii.empty()) {
    if (out_.size() - lineStart_ >= kFoldAt) fold();
    const std::size_t take = std::min(ascii.size(), kFoldAt - (out_.size() - lineStart_));
    out_.append(ascii.substr(0, take));
    ascii.remove_prefix(take);
  }
}

void ContentLines::line(std::string_view name, std::string_view param, std::string_view value, bool escape) {
  lineStart_ = out_.size();
  putAll(name);
  if (!param.empty()) {
    put(";");
    putAll(param);
  }
  put(":");
  for (std::size_t i = 0; i < value.size();) {
    const char c = value[i];
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) {  // control characters: a line break only as an escape, in TEXT
      const bool lineBreak = c == '\n' || (c == '\r' && (i + 1 == value.size() || value[i + 1] != '\n'));
      if (escape && lineBreak) put("\\n");  // LF, CRLF (its CR skipped) or a lone CR
      ++i;
      continue;
    }
    if (escape && (c == '\\' || c == ';' || c == ',')) {
      const char escaped[2] = {'\\', c};
      put(std::string_view(escaped, 2));
      ++i;
      continue;
    }
    if (u < 0x80) {  // a run of ASCII needing nothing: appended at once, folded anywhere
      std::size_t j = i + 1;
      while (j < value.size() && static_cast<unsigned char>(value[j]) >= 0x20 && static_cast<unsigned char>(value[j]) < 0x7F &&
             !(escape && (value[j] == '\\' || value[j] == ';' || value[j] == ','))) {
        ++j;
      }
      putAll(value.substr(i, j - i));
      i = j;
      continue;
    }
    std::size_t n = std::min(sequenceLength(u), value.size() - i);
    for (std::size_t k = 1; k < n; ++k) {
      if (!continuationByte(static_cast<unsigned char>(value[i + k]))) n = k;  // a broken sequence
    }
    put(value.substr(i, n));
    i += n;
  }
  out_.append("\r\n");
}

}  // namespace calgate::providers::caldav
