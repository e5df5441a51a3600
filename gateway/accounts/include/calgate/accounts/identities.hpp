#pragma once
/// How an account's proven identities (model::Identity) are kept in the accounts table: a JSON
/// array in accounts.identities. The one place that knows that layout. Pure and thread-safe.

#include "calgate/model/identity.hpp"

#include <optional>
#include <string>
#include <vector>

namespace calgate::accounts {

/// [{"kind", "address", "domain", "member", "tenant"}...]
std::string identitiesToJson(const std::vector<model::Identity>& identities);

/// The identities of a stored account. `column` NULL (connected before proofs were kept): the
/// registrable domain of `serverUrl` (member) and the typed address's domain (Typed, never a
/// member: it may only add policies). Entries that cannot be read are dropped (logged by the
/// caller if it cares); a column that is not a JSON array yields the legacy fallback too.
std::vector<model::Identity> identitiesFromColumn(const std::optional<std::string>& column, const std::string& email,
                                                  const std::optional<std::string>& serverUrl);

/// What is kept for an account whose connection proved nothing (a server on an IP address that
/// reports no address): the typed label's domain as a Typed identity - never a member, so it can
/// only add a policy (tighten), never admit the account anywhere. Otherwise `proven` unchanged.
std::vector<model::Identity> withTypedFallback(std::vector<model::Identity> proven, const std::string& label);

}  // namespace calgate::accounts
