#pragma once
// GET /v1/pairs/{id}/preview: a dry run. Reads the source calendar now, asks the evaluator what
// it would write for the next events, and compares with what the pair last wrote. Writes nothing
// (no provider write, no mapping, no cursor).

#include "support.hpp"

namespace calgate::api {

http::Response previewPair(Services& services, const http::Request& request, const sync::SyncPair& pair,
                           std::size_t limit);

}  // namespace calgate::api
