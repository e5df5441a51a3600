#pragma once
// What the push channel tests share: a ProviderFactory that hands every calendar the test's own
// adapter (on the engine's clock), and the channels the store holds.
#include "calgate/providers/forwarding_provider.hpp"
#include "calgate/sync/push_channels.hpp"
#include "calgate/sync/sync_service.hpp"
#include "sync/google_pair.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

namespace calgate::test {

/// Every calendar opens the same adapter.
struct OneAdapter final : sync::ProviderFactory {
  providers::Provider& adapter;
  explicit OneAdapter(providers::Provider& a) : adapter(a) {}
  core::Result<std::unique_ptr<providers::Provider>> open(const sync::CalendarRef&, Deadline) override {
    return std::make_unique<providers::ForwardingProvider>(adapter);
  }
};

/// The channels recorded in the pair's store, oldest first.
inline std::vector<sync::PushChannel> recordedChannels(EnginePair& p) {
  auto all = sync::PushChannelStore(p.f.t.db(), p.f.clock).all();
  REQUIRE(all);
  return *all;
}

}  // namespace calgate::test
