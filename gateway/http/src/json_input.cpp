#include "calgate/http/json_input.hpp"

#include <algorithm>
#include <cctype>

namespace calgate::http {
namespace {

// Valid UTF-8 (no overlongs, no surrogates) without C0/DEL control characters.
bool cleanText(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      ++i;
      continue;
    }
    const std::size_t extra = (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2 : (c >= 0xF0 && c <= 0xF4) ? 3 : 0;
    if (extra == 0 || i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) {
      return false;  // overlong, surrogate, or beyond U+10FFFF
    }
    i += extra + 1;
  }
  return true;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percentDecode(std::string_view in) {
  std::string s;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      s += ' ';
    } else if (in[i] == '%') {
      if (in.size() - i < 3) return std::nullopt;
      const int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      s += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      s += in[i];
    }
  }
  return s;
}

http::Response missingField(std::string_view field) {
  return http::fieldProblem(400, "missing-field", "Bad Request", std::string(field) + " is required", field);
}

}  // namespace

http::Response invalidField(std::string_view field, std::string_view detail) {
  return http::fieldProblem(400, "invalid-field", "Bad Request", std::string(field) + ": " + std::string(detail),
                            field);
}

Reply<nlohmann::json> readJsonObject(const http::Request& request) {
  if (!request.hasMediaType("application/json")) {
    return std::unexpected(http::problem(415, "unsupported-media-type", "Unsupported Media Type",
                                         "send the body as application/json"));
  }
  if (request.body.size() > kMaxJsonBody) {
    return std::unexpected(http::problem(413, "body-too-large", "Content Too Large",
                                         "JSON bodies are limited to " + std::to_string(kMaxJsonBody) + " bytes"));
  }
  bool tooDeep = false;
  const nlohmann::json::parser_callback_t limitDepth = [&tooDeep](int depth, nlohmann::json::parse_event_t,
                                                                  nlohmann::json&) {
    if (depth > kMaxJsonDepth) tooDeep = true;
    return !tooDeep;
  };
  nlohmann::json body = nlohmann::json::parse(request.body, limitDepth, false);
  if (tooDeep) {
    return std::unexpected(http::problem(400, "invalid-json", "Bad Request",
                                         "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"));
  }
  if (body.is_discarded()) {
    return std::unexpected(http::problem(400, "invalid-json", "Bad Request", "the body is not valid JSON"));
  }
  if (!body.is_object()) {
    return std::unexpected(http::problem(400, "invalid-json", "Bad Request", "the body must be a JSON object"));
  }
  return body;
}

ObjectReader::ObjectReader(const nlohmann::json& object, std::string prefix)
    : object_(&object), prefix_(std::move(prefix)) {}

Reply<void> ObjectReader::only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, value] : object_->items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string name = key.size() > 64 ? key.substr(0, 64) + "..." : key;
      if (!cleanText(name)) name = "(unprintable)";
      return std::unexpected(http::fieldProblem(400, "unknown-field", "Bad Request",
                                                path(name) + " is not a field of this request", path(name)));
    }
  }
  return {};
}

bool ObjectReader::has(std::string_view name) const { return member(name) != nullptr; }

const nlohmann::json* ObjectReader::member(std::string_view name) const {
  const auto it = object_->find(std::string(name));
  if (it == object_->end()) return nullptr;
  return &*it;
}

Reply<std::optional<std::string>> ObjectReader::optionalString(std::string_view name, std::size_t minBytes,
                                                               std::size_t maxBytes) const {
  const auto* v = member(name);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return std::unexpected(invalidField(path(name), "must be a string"));
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() < minBytes || s.size() > maxBytes) {
    return std::unexpected(invalidField(
        path(name), "must be " + std::to_string(minBytes) + " to " + std::to_string(maxBytes) + " bytes long"));
  }
  if (!cleanText(s)) return std::unexpected(invalidField(path(name), "must not contain control characters"));
  return std::optional<std::string>(s);
}

Reply<std::string> ObjectReader::requiredString(std::string_view name, std::size_t minBytes,
                                                std::size_t maxBytes) const {
  auto v = optionalString(name, minBytes, maxBytes);
  if (!v) return std::unexpected(v.error());
  if (!*v) return std::unexpected(missingField(path(name)));
  return std::move(**v);
}

Reply<std::optional<long long>> ObjectReader::optionalInteger(std::string_view name, long long min,
                                                              long long max) const {
  const auto* v = member(name);
  if (!v) return std::optional<long long>();
  if (!v->is_number_integer()) return std::unexpected(invalidField(path(name), "must be an integer"));
  long long n = 0;
  if (v->is_number_unsigned() && v->get<unsigned long long>() > static_cast<unsigned long long>(max)) {
    return std::unexpected(
        invalidField(path(name), "must be between " + std::to_string(min) + " and " + std::to_string(max)));
  }
  n = v->get<long long>();
  if (n < min || n > max) {
    return std::unexpected(
        invalidField(path(name), "must be between " + std::to_string(min) + " and " + std::to_string(max)));
  }
  return std::optional<long long>(n);
}

Reply<std::optional<bool>> ObjectReader::optionalBool(std::string_view name) const {
  const auto* v = member(name);
  if (!v) return std::optional<bool>();
  if (!v->is_boolean()) return std::unexpected(invalidField(path(name), "must be true or false"));
  return std::optional<bool>(v->get<bool>());
}

Reply<std::optional<std::string>> ObjectReader::optionalEnum(std::string_view name,
                                                             std::initializer_list<std::string_view> values) const {
  const auto* v = member(name);
  if (!v) return std::optional<std::string>();
  std::string list;
  for (auto a : values) list += (list.empty() ? "" : ", ") + std::string(a);
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    if (std::find(values.begin(), values.end(), s) != values.end()) return std::optional<std::string>(s);
  }
  return std::unexpected(invalidField(path(name), "must be one of " + list));
}

Reply<std::optional<ObjectReader>> ObjectReader::optionalObject(std::string_view name) const {
  const auto* v = member(name);
  if (!v) return std::optional<ObjectReader>();
  if (!v->is_object()) return std::unexpected(invalidField(path(name), "must be an object"));
  return std::optional<ObjectReader>(ObjectReader(*v, path(name) + "."));
}

Reply<std::vector<std::string>> ObjectReader::requiredStringList(std::string_view name, std::size_t maxItems,
                                                                 std::size_t maxBytes) const {
  const auto* v = member(name);
  if (!v) return std::unexpected(missingField(path(name)));
  if (!v->is_array() || v->empty() || v->size() > maxItems) {
    return std::unexpected(
        invalidField(path(name), "must be a list of 1 to " + std::to_string(maxItems) + " strings"));
  }
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty() ||
        item.get_ref<const std::string&>().size() > maxBytes || !cleanText(item.get_ref<const std::string&>())) {
      return std::unexpected(invalidField(path(name), "must hold only non-empty strings of at most " +
                                                          std::to_string(maxBytes) + " bytes"));
    }
    const auto& s = item.get_ref<const std::string&>();
    if (std::find(out.begin(), out.end(), s) != out.end()) {
      return std::unexpected(invalidField(path(name), "must not repeat an entry"));
    }
    out.push_back(s);
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parseQuery(std::string_view query) {
  if (query.size() > 2048) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < query.size()) {
    const auto end = std::min(query.find('&', i), query.size());
    const auto part = query.substr(i, end - i);
    if (!part.empty()) {
      const auto eq = part.find('=');
      auto key = percentDecode(part.substr(0, eq));
      auto value = percentDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
      if (!key || !value) return std::nullopt;
      out.emplace_back(std::move(*key), std::move(*value));
    }
    i = end + 1;
  }
  return out;
}

}  // namespace calgate::http
