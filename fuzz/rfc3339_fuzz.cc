// libFuzzer target for RFC 3339 times (base/time.h ParseRfc3339, a job's
// deadline): any input gives a time or nothing, never a crash; a time
// formats in UTC to text that parses back to the same millisecond.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = suanli::ParseRfc3339(text);
  if (!t) return 0;
  const std::string utc = suanli::FormatRfc3339(*t);
  if (utc.empty()) return 0;  // moved out of years 0000..9999 by its offset
  auto again = suanli::ParseRfc3339(utc);
  if (!again || again->ms() != t->ms()) {
    std::fprintf(stderr, "invariant violated: '%s' does not parse back to %lld\n", utc.c_str(),
                 static_cast<long long>(t->ms()));
    std::abort();
  }
  return 0;
}
