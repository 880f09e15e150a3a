// libFuzzer target for the request body parser with limits enforced while
// parsing (server/json_limits.h). The first byte chooses the limits (depth
// 1..8, keys per object 1..8, values 1..64 or the defaults); the rest is the
// body. Invariants: an accepted body is a JSON object within the limits,
// equal to what nlohmann's own parser makes of it; a refused one gets a 400
// naming a field; text nlohmann's parser refuses is refused.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/json_limits.h"

namespace {

using nlohmann::json;

[[noreturn]] void Fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "invariant violated: %s %s\n", what, detail.c_str());
  std::abort();
}

// Depth (1 for a scalar), values and the largest object of `j`, iteratively.
void Measure(const json& root, int* depth, int64_t* values, int64_t* widest) {
  std::vector<std::pair<const json*, int>> stack{{&root, 1}};
  *depth = 0;
  *values = 0;
  *widest = 0;
  while (!stack.empty()) {
    auto [j, d] = stack.back();
    stack.pop_back();
    ++*values;
    if (j->is_structured()) {
      if (d > *depth) *depth = d;
      if (j->is_object()) *widest = std::max<int64_t>(*widest, static_cast<int64_t>(j->size()));
      for (const auto& v : *j) stack.emplace_back(&v, d + 1);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  suanli::server::JsonLimits lim;
  if (data[0] & 0x80) {
    lim.max_depth = 1 + (data[0] & 7);
    lim.max_keys = 1 + ((data[0] >> 3) & 7);
    lim.max_values = 1 + (data[0] & 63);
  }
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  json out;
  suanli::server::ApiError err;
  bool ok = suanli::server::ParseJsonObject(text, &out, &err, lim);
  json ref = json::parse(text.begin(), text.end(), nullptr, false);
  if (!ok) {
    if (err.http_status != 400 || err.field.empty()) Fail("refusal without a field", err.message);
    if (err.message.rfind(err.field + ": ", 0) != 0) Fail("message does not start with its field", err.message);
    return 0;
  }
  if (!out.is_object()) Fail("accepted a non-object");
  if (ref.is_discarded()) Fail("accepted what nlohmann refuses", std::string(text.substr(0, 200)));
  if (ref != out) Fail("parsed differently from nlohmann", out.dump());
  int depth = 0;
  int64_t values = 0, widest = 0;
  Measure(out, &depth, &values, &widest);
  // Containers count toward the depth; scalars inside the deepest do not.
  if (depth > lim.max_depth) Fail("deeper than the limit", std::to_string(depth));
  if (values > lim.max_values) Fail("more values than the limit", std::to_string(values));
  if (widest > lim.max_keys) Fail("more keys than the limit", std::to_string(widest));
  return 0;
}
