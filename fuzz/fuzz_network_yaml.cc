// libFuzzer target for the network YAML loader (io/model_loader.h): any input
// must give a network that validates against the catalog, or an error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "io/model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const suanli::Catalog& catalog = suanli::BuiltinCatalog();
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto net = suanli::ParseNetworkYaml(yaml, "fuzz.yaml", catalog);
  if (net.ok()) {
    suanli::Status st = net->Validate(catalog);
    if (!st.ok()) {
      std::fprintf(stderr, "parsed network does not validate: %s\n", st.message().c_str());
      std::abort();
    }
  } else if (net.status().message().empty()) {
    std::fprintf(stderr, "error without a message\n");
    std::abort();
  }
  return 0;
}
