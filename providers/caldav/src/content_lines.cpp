#include "calgate/providers/caldav/content_lines.hpp"

namespace calgate::providers::caldav {
namespace {

constexpr std::size_t kFoldAt = 75;  // octets per physical line, CRLF not counted (RFC 5545 §3.1)

bool continuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// `logical` (one content line without its CRLF) folded onto `out`.
void fold(std::string& out, std::string_view logical) {
  std::size_t room = kFoldAt;
  while (logical.size() > room) {
    std::size_t cut = room;
    while (cut > 1 && continuationByte(logical[cut])) --cut;  // never inside a UTF-8 sequence
    out.append(logical.substr(0, cut));
    out.append("\r\n ");
    logical.remove_prefix(cut);
    room = kFoldAt - 1;  // the continuation's leading space counts
  }
  out.append(logical);
  out.append("\r\n");
}

}  // namespace

void ContentLines::begin(std::string_view component) { line("BEGIN", {}, component, false); }

void ContentLines::end(std::string_view component) { line("END", {}, component, false); }

void ContentLines::text(std::string_view name, std::string_view value, std::string_view param) {
  line(name, param, value, true);
}

void ContentLines::plain(std::string_view name, std::string_view value, std::string_view param) {
  line(name, param, value, false);
}

void ContentLines::line(std::string_view name, std::string_view param, std::string_view value, bool escape) {
  std::string logical;
  logical.reserve(name.size() + param.size() + value.size() + 8);
  logical.append(name);
  if (!param.empty()) logical.append(";").append(param);
  logical.push_back(':');
  for (const char c : value) {
    const bool control = static_cast<unsigned char>(c) < 0x20 && c != '\t';
    if (escape && (c == '\\' || c == ';' || c == ',')) {
      logical.push_back('\\');
      logical.push_back(c);
    } else if (escape && c == '\n') {
      logical.append("\\n");
    } else if (!control) {
      logical.push_back(c);
    }
  }
  fold(out_, logical);
}

}  // namespace calgate::providers::caldav
