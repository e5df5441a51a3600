#pragma once
// An HTTPS endpoint on loopback for adapter tests of push (tests/services/common/receiver-main.mjs,
// one node process per object): it passes Graph's validation handshake and accepts every
// notification. `ca` is the PEM the fakes' deliveryCa switch takes. Header-only.

#include "support/fake_service.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace calgate::test {

class HttpsReceiver {
 public:
  explicit HttpsReceiver(const std::string& path = "/webhooks") {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/node", std::string(CALGATE_SOURCE_DIR) + "/tests/services/common/receiver-main.mjs", path},
        std::map<std::string, std::string>{}, dir_.path());
    const auto started = firstJsonLine(*process_);
    url = started["url"].get<std::string>();
    ca = started["ca"].get<std::string>();
  }
  /// The deliveryCa switch of a fake: the PEM as a JSON string.
  std::string caSwitch() const { return nlohmann::json(ca).dump(); }

  std::string url;
  std::string ca;

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
};

}  // namespace calgate::test
