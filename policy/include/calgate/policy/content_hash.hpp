#pragma once
/// A fingerprint of what an ApprovedWrite would put in the target. The sync engine stores it and
/// skips writes whose fingerprint has not changed. Independent of field and attendee order, and
/// stable across runs, processes and machines (it is persisted).

#include "calgate/policy/approved_write.hpp"

#include <string>
#include <string_view>

namespace calgate::policy {

/// The canonical serialisation hashed by contentHash: every written field, length-prefixed, in a
/// fixed order, with attendees lower-cased, de-duplicated and sorted and recurrence lines sorted.
std::string canonicalForm(const ApprovedWrite& write);

/// Lower-case hex SHA-256 of canonicalForm(write): the unkeyed form (version 1).
std::string contentHash(const ApprovedWrite& write);

/// The change-detection fingerprint as stored: keyed (an HMAC-SHA-256 with a key of calgate's own
/// from the vault, stored as "k1:" + hex), so that someone who reads the database cannot confirm
/// a guessed title offline from a copy's times and the hash. Without a key it is the unkeyed
/// version 1 (tests, the dry-run preview without a vault). A stored fingerprint of either form
/// matches a write whose fingerprint it is, so an upgrade rewrites no copy: a mapping carries its
/// old form until the planner records the keyed one for an unchanged copy (current() is false).
/// Immutable after construction: thread-safe.
class ContentHasher {
 public:
  ContentHasher() = default;
  /// `key`: raw bytes (32 from Vault::serverSecret); empty means unkeyed.
  explicit ContentHasher(std::string key) : key_(std::move(key)) {}
  /// The fingerprint to store for `write`.
  std::string of(const ApprovedWrite& write) const;
  /// Whether `stored` (either form) is the fingerprint of `write`.
  bool matches(std::string_view stored, const ApprovedWrite& write) const;
  /// Whether `stored` has the form of() makes (else the planner re-records it, writing nothing).
  bool current(std::string_view stored) const;
  bool keyed() const { return !key_.empty(); }

 private:
  std::string key_;
};

/// The vault purpose of the key of keyed hashes (content fingerprints, erasure records' addresses).
inline constexpr const char* kHashKeyPurpose = "keyed-hash";

}  // namespace calgate::policy
