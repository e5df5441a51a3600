#pragma once
// Splits a migration script into single statements, because SQLite's prepare (and SOCI's
// prepared statements on PostgreSQL) run one statement at a time. Understands '...' and "..."
// quoting, -- and /* */ comments and PostgreSQL $tag$ dollar quoting.

#include <string>
#include <string_view>
#include <vector>

namespace calgate::gateway::detail {

/// Statements without their terminating ';', trimmed; empty and comment-only pieces dropped.
std::vector<std::string> splitSqlScript(std::string_view script);

}  // namespace calgate::gateway::detail
