#include "calgate/app/config.hpp"

#include "calgate/store/database.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

extern char** environ;

namespace calgate::app {
namespace {

// The origin browsers reach calgate at: https (http only for a loopback name, for trying it out),
// a host, an optional port, no path beyond "/", no user, query or fragment.
bool validPublicUrl(const std::string& url) {
  std::string_view rest;
  const bool https = url.starts_with("https://");
  if (https) {
    rest = std::string_view(url).substr(8);
  } else if (url.starts_with("http://")) {
    rest = std::string_view(url).substr(7);
  } else {
    return false;
  }
  while (rest.ends_with("/")) rest.remove_suffix(1);
  if (rest.empty() || rest.size() > 253) return false;
  const std::string_view host = rest.substr(0, rest.find(':'));
  if (!https && host != "localhost" && host != "127.0.0.1") return false;  // the exact host, not a prefix
  return std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == ':'; });
}

// The URL as a browser writes it in an Origin header (the portal compares the two): lower case,
// no trailing slash, no default port.
std::string canonicalOrigin(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::transform(url.begin(), url.end(), url.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (url.starts_with("https://") && url.ends_with(":443")) url.resize(url.size() - 4);
  if (url.starts_with("http://") && url.ends_with(":80")) url.resize(url.size() - 3);
  return url;
}

// An http:// URL whose host is a loopback name or address (a test double on this machine).
bool plainLoopbackUrl(const std::string& url) {
  if (!url.starts_with("http://")) return false;
  const std::string_view rest = std::string_view(url).substr(7);
  const std::string_view authority = rest.substr(0, rest.find('/'));
  for (const std::string_view host : {"127.0.0.1", "localhost", "[::1]"}) {
    if (authority == host || (authority.starts_with(host) && authority.size() > host.size() && authority[host.size()] == ':')) return true;
  }
  return false;
}

/// Where a raw value came from, for messages.
struct Origin {
  std::string describe;  // "calgate.yaml line 4" or "environment variable CALGATE_SERVER_PORT"
};

/// Applies a raw scalar to the config; returns false when the value is not acceptable.
using Apply = std::function<bool(Config&, const std::string&)>;

struct KeySpec {
  std::string path;
  std::string expected;  ///< what a valid value looks like, for messages
  Apply apply;
};

std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value.substr(0, 80)) out += (std::isprint(static_cast<unsigned char>(c)) ? c : '?');
  if (value.size() > 80) out += "...";
  return out + "\"";
}

std::optional<unsigned long long> parseUnsigned(const std::string& text) {
  unsigned long long value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

KeySpec integerKey(std::string path, unsigned long long min, unsigned long long max,
                   std::function<void(Config&, unsigned long long)> set) {
  return {std::move(path), "an integer from " + std::to_string(min) + " to " + std::to_string(max),
          [=](Config& c, const std::string& raw) {
            auto v = parseUnsigned(raw);
            if (!v || *v < min || *v > max) return false;
            set(c, *v);
            return true;
          }};
}

KeySpec booleanKey(std::string path, std::function<void(Config&, bool)> set) {
  return {std::move(path), "true or false", [=](Config& c, const std::string& raw) {
            if (raw != "true" && raw != "false") return false;
            set(c, raw == "true");
            return true;
          }};
}

bool isIpAddress(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

/// The items of a comma-separated list, each trimmed of spaces; "" is no item, an empty item stays
/// (for the caller to refuse).
std::vector<std::string> splitList(const std::string& raw) {
  std::vector<std::string> out;
  for (std::size_t at = 0; !raw.empty() && at <= raw.size();) {
    const std::size_t end = std::min(raw.find(',', at), raw.size());
    std::string item = raw.substr(at, end - at);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    out.push_back(std::move(item));
    at = end + 1;
  }
  return out;
}

/// The keys of an OAuth provider's section (google, microsoft): the same five for each.
template <class Section>
void addOAuthKeys(std::vector<KeySpec>& specs, const std::string& name, Section Config::*section, const std::string& client) {
  specs.push_back({name + ".client_id", "the OAuth client id of " + client + " (empty: no such accounts)",
                   [section](Config& c, const std::string& raw) {
                     (c.*section).clientId = raw;
                     return raw.size() <= 256;
                   }});
  specs.push_back({name + ".client_secret_file", "a file path (mode 0600) holding the OAuth client secret",
                   [section](Config& c, const std::string& raw) {
                     (c.*section).clientSecretFile = raw;
                     return true;
                   }});
  specs.push_back({name + ".issuer", "an https URL (http only to 127.0.0.1, localhost or [::1], for tests)",
                   [section](Config& c, const std::string& raw) {
                     (c.*section).issuer = raw;
                     return raw.starts_with("https://") || plainLoopbackUrl(raw);
                   }});
  specs.push_back({name + ".api_root", "an https URL ending in / (http only to 127.0.0.1, localhost or [::1], for tests)",
                   [section](Config& c, const std::string& raw) {
                     (c.*section).apiRoot = raw;
                     return (raw.starts_with("https://") || plainLoopbackUrl(raw)) && raw.ends_with("/");
                   }});
  specs.push_back(booleanKey(name + ".allow_insecure_loopback", [section](Config& c, bool v) { (c.*section).allowInsecureLoopback = v; }));
}

const std::vector<KeySpec>& keySpecs() {
  static const std::vector<KeySpec> all = [] {
  std::vector<KeySpec> specs = {
      {"version", "1 (the only configuration format version)",
       [](Config&, const std::string& raw) { return raw == "1"; }},
      {"data_dir", "a directory path",
       [](Config& c, const std::string& raw) {
         if (raw.empty()) return false;
         c.dataDir = raw;
         return true;
       }},
      {"server.address", "an IPv4 or IPv6 address such as 127.0.0.1 or ::1",
       [](Config& c, const std::string& raw) {
         if (!isIpAddress(raw)) return false;
         c.server.address = raw;
         return true;
       }},
      integerKey("server.port", 0, 65535, [](Config& c, auto v) { c.server.port = static_cast<std::uint16_t>(v); }),
      integerKey("server.threads", 1, 64, [](Config& c, auto v) { c.server.threads = static_cast<unsigned>(v); }),
      integerKey("server.outbound_threads", 1, 256,
                 [](Config& c, auto v) { c.server.outboundThreads = static_cast<unsigned>(v); }),
      integerKey("server.outbound_queue", 0, 100000, [](Config& c, auto v) { c.server.outboundQueue = v; }),
      integerKey("server.outbound_per_user", 1, 256,
                 [](Config& c, auto v) { c.server.outboundPerUser = static_cast<unsigned>(v); }),
      integerKey("server.outbound_budget_seconds", 1, 600,
                 [](Config& c, auto v) { c.server.outboundBudget = std::chrono::seconds(v); }),
      integerKey("server.max_body_bytes", 1024, 64ull * 1024 * 1024,
                 [](Config& c, auto v) { c.server.maxBodyBytes = v; }),
      integerKey("server.rate_limit_per_minute", 0, 1000000,
                 [](Config& c, auto v) { c.server.rateLimitPerMinute = static_cast<unsigned>(v); }),
      integerKey("server.shutdown_grace_seconds", 0, 300,
                 [](Config& c, auto v) { c.server.shutdownGrace = std::chrono::seconds(v); }),
      {"server.trusted_proxies", "a comma-separated list of IP addresses (empty: none)",
       [](Config& c, const std::string& raw) {
         c.server.trustedProxies = splitList(raw);
         return std::all_of(c.server.trustedProxies.begin(), c.server.trustedProxies.end(), isIpAddress);
       }},
      {"server.metrics_token", "empty, or 16 to 256 characters without spaces",
       [](Config& c, const std::string& raw) {
         if (!raw.empty() && (raw.size() < 16 || raw.size() > 256 || raw.find_first_of(" \t\r\n") != std::string::npos)) {
           return false;
         }
         c.server.metricsToken = raw;
         return true;
       }},
      {"server.public_url", "empty, or the https:// (http:// only for localhost) URL browsers reach calgate at, without a path",
       [](Config& c, const std::string& raw) {
         if (!raw.empty() && !validPublicUrl(raw)) return false;
         c.server.publicUrl = canonicalOrigin(raw);
         return true;
       }},
      {"database.url", "empty (the default) or a URL starting with sqlite:, postgresql:// or postgres://",
       [](Config& c, const std::string& raw) {
         if (!raw.empty() && !raw.starts_with("sqlite:") && !raw.starts_with("postgresql://") && !raw.starts_with("postgres://")) {
           return false;
         }
         c.database.url = raw;
         return true;
       }},
      booleanKey("database.auto_migrate", [](Config& c, bool v) { c.database.autoMigrate = v; }),
      integerKey("database.pool_size", 1, 64, [](Config& c, auto v) { c.database.poolSize = static_cast<unsigned>(v); }),
      {"vault.key_file", "a file path (empty for <data_dir>/master.key)",
       [](Config& c, const std::string& raw) {
         c.vault.keyFile = raw;
         return true;
       }},
      {"dns.servers", "a comma-separated list of ip, ip:port or [ipv6]:port (empty: the system's resolvers)",
       [](Config& c, const std::string& raw) {
         c.dns.servers.clear();
         std::size_t start = 0;
         while (start < raw.size()) {
           const auto end = std::min(raw.find(',', start), raw.size());
           std::string item = raw.substr(start, end - start);
           start = end + 1;
           item.erase(0, item.find_first_not_of(' '));
           item.erase(item.find_last_not_of(' ') + 1);
           if (item.empty()) continue;
           std::string host = item, port;
           if (item.front() == '[') {
             const auto close = item.find(']');
             if (close == std::string::npos) return false;
             host = item.substr(1, close - 1);
             if (close + 1 < item.size()) {
               if (item[close + 1] != ':') return false;
               port = item.substr(close + 2);
             }
           } else if (std::count(item.begin(), item.end(), ':') == 1) {
             host = item.substr(0, item.find(':'));
             port = item.substr(item.find(':') + 1);
           }
           if (!isIpAddress(host)) return false;
           if (!port.empty()) {
             auto p = parseUnsigned(port);
             if (!p || *p == 0 || *p > 65535) return false;
           }
           c.dns.servers.push_back(item);
         }
         return true;
       }},
      {"dns.trust_anchor", "a file of DS or DNSKEY records",
       [](Config& c, const std::string& raw) {
         if (raw.empty()) return false;
         c.dns.trustAnchor = raw;
         return true;
       }},
      {"dns.unsigned", "tighten or ignore",
       [](Config& c, const std::string& raw) {
         if (raw != "tighten" && raw != "ignore") return false;
         c.dns.ignoreUnsigned = raw == "ignore";
         return true;
       }},
      integerKey("dns.clock_skew_seconds", 0, 3600, [](Config& c, auto v) { c.dns.clockSkew = std::chrono::seconds(v); }),
      integerKey("dns.timeout_ms", 100, 30000, [](Config& c, auto v) { c.dns.timeout = std::chrono::milliseconds(v); }),
      integerKey("sync.workers", 0, 64, [](Config& c, auto v) { c.sync.workers = static_cast<unsigned>(v); }),
      integerKey("sync.poll_interval_seconds", 10, 86400,
                 [](Config& c, auto v) { c.sync.pollInterval = std::chrono::seconds(v); }),
      integerKey("sync.safety_poll_seconds", 60, 86400,
                 [](Config& c, auto v) { c.sync.safetyPollInterval = std::chrono::seconds(v); }),
      integerKey("sync.lease_seconds", 30, 3600, [](Config& c, auto v) { c.sync.lease = std::chrono::seconds(v); }),
      integerKey("sync.mass_delete_percent", 1, 100,
                 [](Config& c, auto v) { c.sync.massDeletePercent = static_cast<unsigned>(v); }),
      integerKey("sync.mass_delete_minimum", 1, 1000000,
                 [](Config& c, auto v) { c.sync.massDeleteMinimum = static_cast<unsigned>(v); }),
      booleanKey("sync.restore_deleted_copies", [](Config& c, bool v) { c.sync.restoreDeletedCopies = v; }),
      integerKey("sync.run_budget_seconds", 60, 86400,
                 [](Config& c, auto v) { c.sync.runBudget = std::chrono::seconds(v); }),
      integerKey("sync.pull_max_bytes", 1024 * 1024, 4ull * 1024 * 1024 * 1024,
                 [](Config& c, auto v) { c.sync.pullMaxBytes = v; }),
      integerKey("sync.pull_max_events", 100, 10000000, [](Config& c, auto v) { c.sync.pullMaxEvents = v; }),
      integerKey("sync.mapping_retention_days", 1, 3650,
                 [](Config& c, auto v) { c.sync.mappingRetentionDays = static_cast<unsigned>(v); }),
      booleanKey("sync.allow_private_networks", [](Config& c, bool v) { c.sync.allowPrivateNetworks = v; }),
      integerKey("retention.audit_days", 30, 36500,
                 [](Config& c, auto v) { c.sync.auditRetentionDays = static_cast<unsigned>(v); }),
      integerKey("retention.deletion_records_days", 30, 36500,
                 [](Config& c, auto v) { c.sync.deletionRecordsDays = static_cast<unsigned>(v); }),
      integerKey("retention.revoked_days", 1, 36500,
                 [](Config& c, auto v) { c.sync.revokedDays = static_cast<unsigned>(v); }),
      integerKey("limits.accounts_per_user", 1, 100000,
                 [](Config& c, auto v) { c.limits.accountsPerUser = static_cast<unsigned>(v); }),
      integerKey("limits.pairs_per_user", 1, 100000,
                 [](Config& c, auto v) { c.limits.pairsPerUser = static_cast<unsigned>(v); }),
      integerKey("limits.feeds_per_user", 1, 100000,
                 [](Config& c, auto v) { c.limits.feedsPerUser = static_cast<unsigned>(v); }),
      integerKey("limits.feed_blocks", 100, 1000000, [](Config& c, auto v) { c.limits.feedBlocks = v; }),
      integerKey("portal.session_days", 1, 365,
                 [](Config& c, auto v) { c.portal.sessionLifetime = std::chrono::hours(24 * v); }),
      integerKey("portal.login_link_hours", 1, 168,
                 [](Config& c, auto v) { c.portal.loginLinkLifetime = std::chrono::hours(v); }),
      {"portal.signup_domains", "a comma-separated list of domain names (empty: none)",
       [](Config& c, const std::string& raw) {
         c.portal.signupDomains = splitList(raw);
         return std::all_of(c.portal.signupDomains.begin(), c.portal.signupDomains.end(), [](std::string& domain) {
           std::transform(domain.begin(), domain.end(), domain.begin(),
                          [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
           return domain.size() <= 253 && domain.find('.') != std::string::npos && !domain.starts_with(".") &&
                  std::all_of(domain.begin(), domain.end(), [](unsigned char ch) { return std::isalnum(ch) || ch == '.' || ch == '-'; });
         });
       }},
      {"log.level", "one of debug, info, warn, error, off",
       [](Config& c, const std::string& raw) { return core::log::parseLevel(raw, c.log.level); }},
  };
  addOAuthKeys(specs, "google", &Config::google, "calgate's Google Cloud project");
  addOAuthKeys(specs, "microsoft", &Config::microsoft, "calgate's Microsoft Entra app registration");
  return specs;
  }();
  return all;
}

/// The rejected value as shown in a message. URLs may carry passwords: show the scheme only.
std::string shownValue(const KeySpec& spec, const std::string& raw) {
  if (spec.path == "server.metrics_token") return quoted("(a secret, not shown)");
  if (spec.path == "database.url") {
    const auto colon = raw.find(':');
    return colon == std::string::npos ? quoted("...") : quoted(raw.substr(0, colon) + ":...");
  }
  return quoted(raw);
}

const KeySpec* findSpec(const std::string& path) {
  for (const auto& spec : keySpecs()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

bool isSection(const std::string& path) {
  const std::string prefix = path + ".";
  return std::any_of(keySpecs().begin(), keySpecs().end(),
                     [&](const KeySpec& s) { return s.path.starts_with(prefix); });
}

std::string sectionKeys(const std::string& section) {
  std::string prefix = section.empty() ? "" : section + ".";
  std::vector<std::string> names;
  for (const auto& s : keySpecs()) {
    if (!s.path.starts_with(prefix)) continue;
    std::string rest = s.path.substr(prefix.size());
    rest = rest.substr(0, rest.find('.'));
    if (std::find(names.begin(), names.end(), rest) == names.end()) names.push_back(rest);
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

struct RawValue {
  std::string value;
  Origin origin;
};

std::string lineOf(const std::string& file, const YAML::Node& node) {
  const auto mark = node.Mark();
  if (mark.line < 0) return file;
  return file + " line " + std::to_string(mark.line + 1);
}

// Flattens a YAML document into key path -> scalar, rejecting unknown keys and wrong shapes.
std::optional<ConfigError> flatten(const YAML::Node& node, const std::string& prefix, const std::string& file,
                                   std::map<std::string, RawValue>& out) {
  for (const auto& entry : node) {
    const YAML::Node& keyNode = entry.first;
    const YAML::Node& valueNode = entry.second;
    if (!keyNode.IsScalar()) {
      return ConfigError{"config " + lineOf(file, keyNode) + ": keys must be plain names"};
    }
    const std::string key = keyNode.Scalar();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    const std::string where = " (" + lineOf(file, keyNode) + ")";
    if (isSection(path)) {
      if (valueNode.IsNull()) continue;  // an empty section keeps its defaults
      if (!valueNode.IsMap()) {
        return ConfigError{path + where + ": expected a mapping with keys " + sectionKeys(path)};
      }
      if (auto err = flatten(valueNode, path, file, out)) return err;
      continue;
    }
    if (!findSpec(path)) {
      const std::string known = sectionKeys(prefix);
      return ConfigError{path + where + ": unknown key" + (known.empty() ? "" : "; expected one of " + known)};
    }
    if (!valueNode.IsScalar()) {
      const std::string shape = valueNode.IsMap() ? "a mapping" : valueNode.IsSequence() ? "a list" : "nothing";
      return ConfigError{path + where + ": expected " + findSpec(path)->expected + ", got " + shape};
    }
    out[path] = RawValue{valueNode.Scalar(), Origin{lineOf(file, valueNode)}};
  }
  return std::nullopt;
}

}  // namespace

Environment processEnvironment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::vector<std::string> configKeyPaths() {
  std::vector<std::string> out;
  for (const auto& s : keySpecs()) out.push_back(s.path);
  return out;
}

std::string environmentVariableFor(const std::string& keyPath) {
  std::string name = "CALGATE_";
  for (char c : keyPath) name += (c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

const std::vector<std::string>& reservedEnvironmentVariables() {
  static const std::vector<std::string> reserved = {"CALGATE_CONFIG", "CALGATE_MASTER_KEY",
                                                    "CALGATE_MASTER_PASSPHRASE"};
  return reserved;
}

std::expected<Config, ConfigError> loadConfig(const std::optional<std::filesystem::path>& file,
                                              const Environment& env) {
  Config config;
  std::map<std::string, RawValue> raw;

  if (file) {
    const std::string name = file->string();
    std::ifstream in(*file, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(*file, ec)) {
      const std::string reason = std::filesystem::exists(*file, ec) ? "permission denied or not a regular file"
                                                                    : "no such file";
      return std::unexpected(ConfigError{"config file " + name + ": cannot read it (" + reason + ")"});
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > 1024 * 1024) {
      return std::unexpected(ConfigError{"config file " + name + ": larger than 1 MiB"});
    }
    YAML::Node root;
    try {
      root = YAML::Load(text.str());
    } catch (const YAML::Exception& e) {
      return std::unexpected(ConfigError{"config file " + name + " line " + std::to_string(e.mark.line + 1) +
                                         ": invalid YAML: " + e.msg});
    }
    if (!root.IsNull() && !root.IsMap()) {
      return std::unexpected(ConfigError{"config file " + name + ": expected a mapping of keys at the top level"});
    }
    if (root.IsMap()) {
      if (auto err = flatten(root, "", name, raw)) return std::unexpected(*err);
    }
    if (!raw.contains("version")) {
      return std::unexpected(ConfigError{"version (" + name + "): missing required key; expected version: 1"});
    }
    config.source = *file;
  }

  for (const auto& [name, value] : env) {
    if (!name.starts_with("CALGATE_")) continue;
    const auto& reserved = reservedEnvironmentVariables();
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) continue;
    std::optional<std::string> path;
    for (const auto& spec : keySpecs()) {
      if (environmentVariableFor(spec.path) == name) path = spec.path;
    }
    if (!path || *path == "version") {
      return std::unexpected(ConfigError{"environment variable " + name +
                                         ": unknown configuration variable; see deploy/calgate.example.yaml "
                                         "for the CALGATE_* names"});
    }
    raw[*path] = RawValue{value, Origin{"environment variable " + name}};
  }

  for (const auto& spec : keySpecs()) {
    auto it = raw.find(spec.path);
    if (it == raw.end()) continue;
    if (!spec.apply(config, it->second.value)) {
      return std::unexpected(ConfigError{spec.path + " (" + it->second.origin.describe + "): expected " +
                                         spec.expected + ", got " + shownValue(spec, it->second.value)});
    }
  }
  // The URL's shape depends on its scheme; check it completely now rather than at first use.
  if (auto target = store::resolveDatabaseUrl(config.database.url, config.dataDir); !target) {
    auto it = raw.find("database.url");
    const std::string origin = it == raw.end() ? "default" : it->second.origin.describe;
    return std::unexpected(ConfigError{"database.url (" + origin + "): " + target.error().message});
  }
  // Google and Microsoft deliver push notifications only to https: an https public URL turns push on
  if (config.server.publicUrl.starts_with("https://")) config.sync.pushBaseUrl = config.server.publicUrl;
  return config;
}

}  // namespace calgate::app
