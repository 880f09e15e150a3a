// libFuzzer target for the run directory's summary.json reader
// (sim/run_dir.h), shared by `suanli report` and `suanli sweep`: any input
// must parse or give an error with a message that names the file; what
// parses must be an object with a "policies" array of objects.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/run_dir.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto s = suanli::ParseSummaryJson(text, "summary.json");
  if (!s.ok()) {
    if (s.status().message().rfind("summary.json: ", 0) != 0) Fail("error does not name the file");
    return 0;
  }
  if (!s->is_object() || !s->contains("policies") || !s->at("policies").is_array()) Fail("no policies array");
  for (const auto& run : s->at("policies")) {
    if (!run.is_object()) Fail("a run that is not an object");
  }
  return 0;
}
