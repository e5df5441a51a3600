#pragma once
/// iCalendar text written line by line (RFC 5545 §3.1): the writer behind calendarText. Building
/// libical components and serialising them cost more than the rest of a CalDAV copy's own work
/// (callgrind: 105 thousand instructions per event, 70 of them in libical's serialiser, which
/// allocates a buffer per property and appends per character); the lines calgate writes are few
/// and fixed, so they are written here, and libical keeps what it is needed for: checking and
/// writing recurrence lines and VTIMEZONEs (added as text with `raw`).
///
/// Contract:
///  - `text(name, value)` writes a TEXT value escaped: backslash, ';' and ',' as \\ \; \, and a
///    line break (LF, CRLF or a lone CR) as \n. `plain(name, value)` writes a value that has no
///    escaping (dates, numbers, CAL-ADDRESS). In both, the other control characters (all below
///    0x20 but TAB, and DEL) are dropped, so no value can start a line of its own.
///  - Parameters are passed ready, "TZID=Europe/Berlin" (callers write only names libical knows).
///  - Lines are folded at 75 octets, never inside a UTF-8 sequence or an escape, with CRLF and one
///    space.
///  - libical's parser reads back the values that were written, except what it trims itself:
///    spaces and TABs at either end of a value, and a property whose value is empty (tests: caldav
///    contract).
/// Thread-safety: an instance is used by one thread; no shared state.

#include <string>
#include <string_view>

namespace calgate::providers::caldav {

class ContentLines {
 public:
  void begin(std::string_view component);
  void end(std::string_view component);
  /// NAME[;param]:escaped TEXT value
  void text(std::string_view name, std::string_view value, std::string_view param = {});
  /// NAME[;param]:value written as it is (control characters other than TAB dropped)
  void plain(std::string_view name, std::string_view value, std::string_view param = {});
  /// Lines already written and folded by libical (VTIMEZONE, recurrence lines), CRLF-terminated.
  void raw(std::string_view lines) { out_ += lines; }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void line(std::string_view name, std::string_view param, std::string_view value, bool escape);
  void put(std::string_view unit);
  void fold();  // ends the physical line; the logical one goes on after CRLF and a space
  void putAll(std::string_view ascii);  // ASCII without escapes: folded at any octet
  std::string out_;
  std::size_t lineStart_ = 0;  // where the current physical line begins in out_
};

}  // namespace calgate::providers::caldav
