// libFuzzer target for the configuration loader (gateway/config/config.hpp):
// TOML syntax (toml++) and our validation. Any accepted input must satisfy
// the invariants the loader promises.
// Build (clang): clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined
//   -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 -I gateway -I base/include -I dsp/include
//   -I drivers/include -I <build>/gateway/config tests/fuzz/config_fuzz.cpp
//   gateway/config/config.cpp gateway/route/dial_plan.cpp dsp/src/tone_profile.cpp -ltomlplusplus
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sipline::gateway::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = parse_config(text, "fuzz.toml");
  if (!c) {
    // Every error names its source, line and column.
    if (c.error().message().rfind("fuzz.toml:", 0) != 0) std::abort();
    return 0;
  }
  if (c->lines.ports.empty() || c->media.codecs.empty() || c->media.workers < 1) std::abort();
  if (c->media.rtp_address.empty() || c->media.rtp_port_min >= c->media.rtp_port_max) std::abort();
  for (const auto& port : c->lines.ports) {
    if (port.country.empty() || port.number.empty() || port.name.empty()) std::abort();
  }
  if (c->dial_plan.rules().empty()) std::abort();
  (void)c->dial_plan.match(c->lines.ports.front().number);
  return 0;
}
