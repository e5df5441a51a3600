#pragma once
/// Structured logging: one JSON object per line on stderr, e.g.
///   {"ts":"2026-11-21T10:00:00.123Z","level":"info","event":"http.request","route":"/v1/me","status":200}
/// Callers pass named fields; nothing is interpolated into free text. Never pass a secret
/// (token, password, key, Authorization header) as a field: there is no redaction pass.
/// Thread-safe.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace calgate::core::log {

enum class Level { Debug, Info, Warn, Error, Off };

/// One named value of a log line.
class Field {
 public:
  enum class Kind { String, Integer, Real, Boolean };
  Field(std::string_view key, std::string_view value) : key_(key), kind_(Kind::String), text_(value) {}
  Field(std::string_view key, const char* value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, bool value) : key_(key), kind_(Kind::Boolean), integer_(value ? 1 : 0) {}
  Field(std::string_view key, int value) : key_(key), kind_(Kind::Integer), integer_(value) {}
  Field(std::string_view key, long value) : key_(key), kind_(Kind::Integer), integer_(value) {}
  Field(std::string_view key, long long value) : key_(key), kind_(Kind::Integer), integer_(value) {}
  Field(std::string_view key, unsigned value) : key_(key), kind_(Kind::Integer), integer_(value) {}
  Field(std::string_view key, unsigned long value)
      : key_(key), kind_(Kind::Integer), integer_(static_cast<long long>(value)) {}
  Field(std::string_view key, double value) : key_(key), kind_(Kind::Real), real_(value) {}

  std::string_view key() const { return key_; }
  Kind kind() const { return kind_; }
  std::string_view text() const { return text_; }
  long long integer() const { return integer_; }
  double real() const { return real_; }

 private:
  std::string_view key_;
  Kind kind_;
  std::string_view text_;
  long long integer_ = 0;
  double real_ = 0;
};

using Fields = std::initializer_list<Field>;

/// Parses "debug" | "info" | "warn" | "error" | "off"; returns false for anything else.
bool parseLevel(std::string_view name, Level& out);

/// Sets the minimum level written. Default: Info.
void setLevel(Level level);

/// Formats one line (without the trailing newline). Exposed for tests.
std::string formatLine(Level level, std::string_view event, Fields fields);

/// Writes one line if `level` is enabled.
void write(Level level, std::string_view event, Fields fields = {});

inline void debug(std::string_view event, Fields fields = {}) { write(Level::Debug, event, fields); }
inline void info(std::string_view event, Fields fields = {}) { write(Level::Info, event, fields); }
inline void warn(std::string_view event, Fields fields = {}) { write(Level::Warn, event, fields); }
inline void error(std::string_view event, Fields fields = {}) { write(Level::Error, event, fields); }

/// Appends `text` to `out` as a JSON string literal (quotes included), escaping control
/// characters and replacing invalid UTF-8 with U+FFFD. Shared with other JSON writers.
void appendJsonString(std::string& out, std::string_view text);

}  // namespace calgate::core::log
