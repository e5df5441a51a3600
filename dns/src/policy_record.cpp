#include "calgate/dns/policy_record.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace calgate::dns {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool validDomain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.' || d.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(d.begin(), d.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto end = std::min(s.find(sep, start), s.size());
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 40)) out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  return s.size() > 40 ? out + "..." : out;
}

}  // namespace

std::optional<policy::OrgLevel> parseLevelKeyword(std::string_view keyword) {
  const std::string k = lower(keyword);
  if (k == "none") return policy::OrgLevel::None;
  if (k == "private") return policy::OrgLevel::Private;
  if (k == "block") return policy::OrgLevel::Block;
  return std::nullopt;
}

ParsedRecord parsePolicyRecord(const std::vector<std::string>& strings) {
  ParsedRecord out;
  for (const auto& s : strings) out.text += s;
  const std::string_view text = out.text;

  // Only a record that starts with the version tag is ours.
  const auto tags = split(text, ';');
  const auto first = trim(tags.front());
  const auto eq = first.find('=');
  if (eq == std::string_view::npos || lower(trim(first.substr(0, eq))) != "v" || trim(first.substr(eq + 1)) != "CALPRIV1") {
    out.kind = ParsedRecord::Kind::NotPolicy;
    return out;
  }
  auto invalid = [&](std::string message) {
    out.kind = ParsedRecord::Kind::Invalid;
    out.error = std::move(message);
    return out;
  };
  if (text.size() > kMaxRecordBytes) {
    return invalid("record is " + std::to_string(text.size()) + " bytes; at most 1024 are allowed");
  }

  PolicyRecord& r = out.record;
  std::set<std::string> seen;
  bool hasP = false;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto tag = trim(tags[i]);
    if (tag.empty()) {
      if (i + 1 == tags.size()) continue;  // a trailing ';'
      return invalid("empty tag at position " + std::to_string(i + 1) + " (two ';' in a row)");
    }
    const auto sep = tag.find('=');
    if (sep == std::string_view::npos) return invalid("tag \"" + printable(tag) + "\" has no '='");
    const std::string name = lower(trim(tag.substr(0, sep)));
    const std::string_view value = trim(tag.substr(sep + 1));
    if (name.empty()) return invalid("a tag has no name before '='");
    if (!seen.insert(name).second) return invalid("tag \"" + name + "\" appears more than once");
    if (name == "v") {
      if (i != 0) return invalid("v= must be the first tag");
    } else if (name == "p") {
      hasP = true;
      if (auto level = parseLevelKeyword(value)) {
        r.p = *level;
      } else {
        r.p = policy::OrgLevel::Block;
        r.warnings.push_back("p=" + printable(value) + " is not none, private or block; treated as block (the strictest)");
      }
    } else if (name == "sp") {
      if (auto level = parseLevelKeyword(value)) {
        r.sp = *level;
      } else {
        r.sp = policy::OrgLevel::Block;
        r.warnings.push_back("sp=" + printable(value) + " is not none, private or block; treated as block");
      }
    } else if (name == "ma") {
      unsigned long long seconds = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec != std::errc() || ptr != value.data() + value.size() || value.empty() ||
          seconds > static_cast<unsigned long long>(kMaxMaxAge.count())) {
        r.warnings.push_back("ma=" + printable(value) + " is not a number of seconds from 0 to 31557600; using 86400");
      } else {
        r.ma = std::chrono::seconds(seconds);
      }
    } else if (name == "label") {
      const bool printableAscii = std::all_of(value.begin(), value.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7F; });
      if (value.empty() || value.size() > kMaxLabelBytes || !printableAscii) {
        r.warnings.push_back("label= must be 1 to 64 printable ASCII characters; using the default");
      } else {
        r.label = std::string(value);
      }
    } else if (name == "allow") {
      for (auto item : split(value, ',')) {
        item = trim(item);
        if (item.empty()) continue;
        std::string domain = lower(item);
        if (!domain.empty() && domain.back() == '.') domain.pop_back();
        if (validDomain(domain)) r.allow.push_back(domain);
        else r.warnings.push_back("allow= entry \"" + printable(item) + "\" is not a domain name; ignored");
      }
    } else if (name == "rua") {
      for (auto item : split(value, ',')) {
        item = trim(item);
        if (item.empty()) continue;
        const std::string l = lower(item);
        if ((l.starts_with("mailto:") && item.find('@') != std::string_view::npos) || l.starts_with("https://")) {
          r.rua.push_back(std::string(item));
        } else {
          r.warnings.push_back("rua= entry \"" + printable(item) + "\" is not a mailto: or https: URI; ignored");
        }
      }
    }
    // unknown tags are ignored (room for future versions)
  }
  if (!hasP) r.warnings.push_back("no p= tag; treated as block (the strictest)");
  out.kind = ParsedRecord::Kind::Valid;
  return out;
}

}  // namespace calgate::dns
