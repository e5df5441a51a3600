#pragma once
// application/x-www-form-urlencoded text (form bodies, query strings) back into its values.

#include <string>
#include <string_view>

namespace calgate::test {

/// "+" is a space, %XX a byte; anything else as it is.
inline std::string formDecoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace calgate::test
