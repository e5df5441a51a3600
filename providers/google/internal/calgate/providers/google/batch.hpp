#pragma once
// Google's batch protocol (CONTRACT.md §1 "Batch"), the wire half: several Calendar requests as the
// application/http parts of one multipart/mixed body, and the multipart/mixed answer read back into
// one status and JSON body per part. Pure functions over strings; private to the adapter.
//
// The answer is untrusted: a missing or malformed boundary, a part that is not application/http, a
// status line that does not parse, a Content-ID that names another part, or a part count other than
// the request's is Invalid, never a guess. A part's body that is not JSON reads as null (its status
// still counts). Thread-safe (no state).

#include "calgate/core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace calgate::providers::google {

struct BatchPart {
  std::string method;  ///< POST, PATCH, DELETE, GET
  std::string target;  ///< the request target: an absolute path with its query ("/calendar/v3/...")
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides Content-Type (set for a body)
  std::string body;    ///< JSON, or empty
};

struct PartAnswer {
  long status = 0;
  nlohmann::json body;  ///< null for an empty or non-JSON body
};

/// A boundary that cannot occur in the parts (checked; a new one is drawn when it would).
std::string batchBoundary(const std::vector<BatchPart>& parts);

/// The multipart/mixed request body; parts carry `Content-ID: <item-N>` (N from 1).
std::string formatBatch(const std::vector<BatchPart>& parts, const std::string& boundary);

/// The answers of a batch of `expected` parts, in request order.
core::Result<std::vector<PartAnswer>> parseBatchAnswer(std::string_view contentType, std::string_view body,
                                                       std::size_t expected);

}  // namespace calgate::providers::google
