// libFuzzer target for the _calendar-privacy TXT record parser. Input: the raw bytes of one TXT
// record's strings, split at NUL bytes (so the fuzzer also explores multi-string records).
// Build: cmake --preset fuzz && cmake --build --preset fuzz
// Run:   build/fuzz/fuzz/calgate_fuzz_policy_record -max_total_time=60 fuzz/corpus/policy_record
#include "calgate/dns/policy_record.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> strings(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) strings.emplace_back();
    else strings.back().push_back(static_cast<char>(data[i]));
  }
  const auto parsed = calgate::dns::parsePolicyRecord(strings);
  // invariants: a valid record respects the limits the parser promises
  if (parsed.kind == calgate::dns::ParsedRecord::Kind::Valid) {
    if (parsed.text.size() > calgate::dns::kMaxRecordBytes) __builtin_trap();
    if (parsed.record.ma > calgate::dns::kMaxMaxAge) __builtin_trap();
    if (parsed.record.label && parsed.record.label->size() > calgate::dns::kMaxLabelBytes) __builtin_trap();
  }
  return 0;
}
