#pragma once
/// Text for HTML: the pages calgate serves itself (the OAuth journey, the availability page) put
/// untrusted text (labels, provider names) only through this. Pure; thread-safe.

#include <string>
#include <string_view>

namespace calgate::core {

/// `text` with & < > " ' replaced by their character references: safe in element content and in
/// quoted attribute values.
std::string htmlEscape(std::string_view text);

}  // namespace calgate::core
