#pragma once
/// Text from outside (a calendar server's href, a parser's message quoting a file) made safe to
/// store and show: valid UTF-8, bounded. Pure; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace calgate::core {

/// `text` with every invalid UTF-8 sequence replaced by U+FFFD, cut after at most `maxBytes` bytes
/// on a character boundary (never inside a character).
std::string utf8Clean(std::string_view text, std::size_t maxBytes);

}  // namespace calgate::core
