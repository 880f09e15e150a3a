// libFuzzer target for the accelerator catalog YAML loader (io/model_loader.h):
// any input must give a catalog whose names all resolve, or an error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "io/model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto catalog = suanli::ParseCatalogYaml(yaml, "fuzz.yaml");
  if (catalog.ok()) {
    for (size_t i = 0; i < catalog->size(); ++i) {
      const auto& m = catalog->model(static_cast<suanli::ModelId>(i));
      auto found = catalog->Find(m.name);
      if (!found || *found != i) {
        std::fprintf(stderr, "model '%s' does not resolve to itself\n", m.name.c_str());
        std::abort();
      }
    }
  } else if (catalog.status().message().empty()) {
    std::fprintf(stderr, "error without a message\n");
    std::abort();
  }
  return 0;
}
