#pragma once
/// The HTTP listener (Pistache underneath; no Pistache types here). Converts wire requests to
/// http::Request, runs the Dispatcher, writes the response, and tracks requests in flight so a
/// shutdown can finish them.

#include "calgate/core/error.hpp"
#include "calgate/http/dispatcher.hpp"
#include "calgate/http/server_config.hpp"

#include <chrono>
#include <cstdint>
#include <memory>

namespace calgate::http {

class Server {
 public:
  Server(Dispatcher& dispatcher, const ServerConfig& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts serving on background threads. Unavailable when the address cannot be
  /// bound (in use, not local, permission).
  core::Result<void> start();

  /// The bound port (useful with port 0 in tests).
  std::uint16_t port() const;

  /// Stops taking new work (requests arriving meanwhile get 503 with Connection: close), waits up
  /// to `grace` for requests in flight to finish and their answers to be out, then closes the
  /// listener. Returns how many handlers were still running at the deadline; when that is not 0
  /// the listener is left as is (its threads are busy) and the caller should end the process. An
  /// answer still being written then (a peer that went away, which Pistache may never report) is
  /// given up with the listener and logged, not counted. Idempotent.
  std::size_t shutdown(std::chrono::milliseconds grace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace calgate::http
