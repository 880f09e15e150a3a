// libFuzzer target for the dispatch policy parser (core/policy/dispatch/
// dispatcher.h, ParseDispatchSpec: `NAME[:KEY=VALUE]...`): any input must give
// a spec with a known name and finite, non-negative weights, or an error with
// a message; a spec's own text must parse again to the same spec.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/policy/dispatch/dispatcher.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

bool Weight(double w) { return std::isfinite(w) && w >= 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = suanli::ParseDispatchSpec(text);
  if (!spec.ok()) {
    if (spec.status().message().empty()) Fail("error without a message");
    return 0;
  }
  bool known = false;
  for (const auto& [name, description] : suanli::DispatchPolicies()) known |= name == spec->name;
  if (!known) Fail("parsed an unknown policy name");
  if (!Weight(spec->w_time) || !Weight(spec->w_data) || !Weight(spec->w_cost) || !Weight(spec->w_carbon))
    Fail("weight negative or not finite");
  if (spec->lp && spec->round < suanli::kSecond) Fail("round below one second");
  if (spec->isolated && spec->text != spec->name) Fail("isolated with weights");
  auto again = suanli::ParseDispatchSpec(spec->text);
  if (!again.ok()) Fail("a spec's own text does not parse");
  if (again->name != spec->name || again->w_time != spec->w_time || again->w_data != spec->w_data ||
      again->w_cost != spec->w_cost || again->w_carbon != spec->w_carbon || again->defer != spec->defer ||
      again->fair != spec->fair || again->round != spec->round || again->text != spec->text)
    Fail("parsing a spec's own text gives a different spec");
  return 0;
}
