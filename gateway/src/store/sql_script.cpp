#include "store/sql_script.hpp"

#include <cctype>

namespace calgate::gateway::detail {
namespace {

bool hasCode(std::string_view text) {
  // true when text has something besides whitespace and comments
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 2) == "--") {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (text.substr(i, 2) == "/*") {
      const auto end = text.find("*/", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 1;
    } else if (!std::isspace(static_cast<unsigned char>(text[i]))) {
      return true;
    }
  }
  return false;
}

std::string trim(std::string_view text) {
  std::size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return std::string(text.substr(b, e - b));
}

}  // namespace

std::vector<std::string> splitSqlScript(std::string_view script) {
  std::vector<std::string> out;
  std::size_t start = 0;
  std::size_t i = 0;
  auto emit = [&](std::size_t end) {
    const auto piece = script.substr(start, end - start);
    if (hasCode(piece)) out.push_back(trim(piece));
  };
  while (i < script.size()) {
    const char c = script[i];
    if (c == '\'' || c == '"') {
      ++i;
      while (i < script.size()) {
        if (script[i] == c) {
          if (i + 1 < script.size() && script[i + 1] == c) { i += 2; continue; }  // doubled quote
          break;
        }
        ++i;
      }
      ++i;
    } else if (script.substr(i, 2) == "--") {
      while (i < script.size() && script[i] != '\n') ++i;
    } else if (script.substr(i, 2) == "/*") {
      const auto end = script.find("*/", i + 2);
      i = end == std::string_view::npos ? script.size() : end + 2;
    } else if (c == '$') {
      // $tag$ ... $tag$ (tag may be empty)
      std::size_t j = i + 1;
      while (j < script.size() && (std::isalnum(static_cast<unsigned char>(script[j])) || script[j] == '_')) ++j;
      if (j < script.size() && script[j] == '$') {
        const auto tag = script.substr(i, j - i + 1);
        const auto end = script.find(tag, j + 1);
        i = end == std::string_view::npos ? script.size() : end + tag.size();
      } else {
        ++i;
      }
    } else if (c == ';') {
      emit(i);
      start = ++i;
    } else {
      ++i;
    }
  }
  emit(script.size());
  return out;
}

}  // namespace calgate::gateway::detail
