#pragma once
// GET /v1/pairs/{id}/preview: a dry run. Asks the sync engine for the plan its next run would
// apply (scope "next", the pair's cursors) or for every event in the window (scope "all",
// complete listings, as after a change of rules), and renders it: each step with its action,
// cause, reasons and the approved write, the mass-delete guard's verdict and the digest a
// confirmation names. Re-derives nothing; writes nothing (no provider write, mapping, cursor).

#include "support.hpp"

#include "calgate/sync/sync_engine.hpp"

namespace calgate::api {

http::Response previewPair(Services& services, const http::Request& request, const sync::SyncPair& pair,
                           std::size_t limit, sync::PlanScope scope);

}  // namespace calgate::api
