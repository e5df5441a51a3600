#pragma once
/// A fingerprint of what an ApprovedWrite would put in the target. The sync engine stores it and
/// skips writes whose fingerprint has not changed. Independent of field and attendee order, and
/// stable across runs, processes and machines (it is persisted).

#include "calgate/policy/approved_write.hpp"

#include <string>

namespace calgate::policy {

/// The canonical serialisation hashed by contentHash: every written field, length-prefixed, in a
/// fixed order, with attendees lower-cased, de-duplicated and sorted and recurrence lines sorted.
std::string canonicalForm(const ApprovedWrite& write);

/// Lower-case hex SHA-256 of canonicalForm(write).
std::string contentHash(const ApprovedWrite& write);

}  // namespace calgate::policy
