#pragma once
/// Transport over c-ares: UDP with EDNS (1232-byte buffer, so larger answers are not taken for
/// truncated), TCP retry on truncation, SERVFAIL/REFUSED answers returned rather than skipped
/// (so they surface as Indeterminate), per-query timeout and tries. Sockets are waited for with
/// poll(2) (any descriptor number). Thread-safe: each query in flight has a c-ares channel of its
/// own (up to kIdleChannels are kept for reuse), so queries run side by side.

#include "calgate/dns/transport.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace calgate::dns {

struct TransportOptions {
  /// "ip", "ip:port" or "[ipv6]:port"; empty = the system's resolvers (/etc/resolv.conf).
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2000};
  int tries = 3;
};

class CaresTransport final : public Transport {
 public:
  /// Unavailable if c-ares cannot be initialised, Invalid for a malformed server address.
  static core::Result<std::unique_ptr<CaresTransport>> create(const TransportOptions& options);
  ~CaresTransport() override;

  core::Result<std::vector<std::uint8_t>> query(const std::string& name, RrType type) override;

 private:
  struct Channel;
  explicit CaresTransport(std::unique_ptr<Channel> channel, TransportOptions options);
  static constexpr std::size_t kIdleChannels = 8;
  static core::Result<std::unique_ptr<Channel>> openChannel(const TransportOptions& options);
  std::unique_ptr<Channel> takeChannel();
  void giveBack(std::unique_ptr<Channel> channel);
  TransportOptions options_;
  std::mutex mutex_;  // guards idle_
  std::vector<std::unique_ptr<Channel>> idle_;
};

}  // namespace calgate::dns
