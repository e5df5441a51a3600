// Fuzz target (libFuzzer entry point) for REST request bodies and query strings: arbitrary bytes
// read as a JSON body the way POST /v1/pairs and POST /v1/feeds read theirs (strict object,
// nested objects, enums, integers, string lists) and as a query string. Nothing may crash or
// throw; every refusal must be a problem document with a 4xx status.
// Build: cmake --preset fuzz && cmake --build --preset fuzz
// Run:   build/fuzz/fuzz/calgate_fuzz_json_body -max_total_time=60 fuzz/corpus/json_body
#include "calgate/http/json_input.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

void refusedProperly(const calgate::http::Response& r) {
  if (r.status < 400 || r.status > 499) __builtin_trap();
  if (r.contentType != "application/problem+json") __builtin_trap();
  if (nlohmann::json::parse(r.body, nullptr, false).is_discarded()) __builtin_trap();
}

template <class T>
void check(const calgate::http::Reply<T>& r) {
  if (!r) refusedProperly(r.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace calgate;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)http::parseQuery(text);

  http::Request request;
  request.method = "POST";
  request.headers = {{"content-type", "application/json"}};
  request.body = text;
  auto body = http::readJsonObject(request);
  check(body);
  if (!body) return 0;
  http::ObjectReader in(*body);
  check(in.only({"source_calendar_id", "target_calendar_id", "direction", "rules", "window", "calendar_ids", "pin"}));
  check(in.requiredString("source_calendar_id", 1, 64));
  check(in.optionalEnum("direction", {"one_way", "two_way"}));
  check(in.requiredStringList("calendar_ids", 20, 64));
  check(in.optionalString("pin", 0, 64));
  auto rules = in.optionalObject("rules");
  check(rules);
  if (rules && *rules) {
    check((*rules)->only({"mode", "label"}));
    check((*rules)->optionalString("label", 1, 100));
    check((*rules)->optionalBool("mode"));
  }
  auto window = in.optionalObject("window");
  check(window);
  if (window && *window) {
    check((*window)->optionalInteger("past_days", 0, 3650));
    check((*window)->optionalInteger("future_days", 1, 3650));
  }
  return 0;
}
