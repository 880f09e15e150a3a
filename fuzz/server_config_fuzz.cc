// libFuzzer target for the server's configuration YAML (live/control.h:
// ParseServerConfig, then ValidateServerConfig): any input gives a config or
// an error with a message, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "live/control.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  auto config = suanli::live::ParseServerConfig(yaml, "fuzz/server.yaml");
  if (!config.ok()) {
    if (config.status().message().empty()) {
      std::fprintf(stderr, "error without a message\n");
      std::abort();
    }
    return 0;
  }
  suanli::Status st = suanli::live::ValidateServerConfig(*config);
  if (!st.ok() && st.message().empty()) {
    std::fprintf(stderr, "validation error without a message\n");
    std::abort();
  }
  return 0;
}
