// libFuzzer target for the usage.csv parser and aggregation (sim/usage.h):
// any input must parse or give an error with a message; what parses must
// aggregate under every grouping with totals equal to the sum of the rows and
// the groups' rows adding up, and all three output formats must be produced
// (the JSON one must parse back).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/usage.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

bool Close(double a, double b, double scale) {
  if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(scale)) return true;  // overflowed sums
  return std::fabs(a - b) <= 1e-9 * (1 + scale);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto d = suanli::ParseUsageCsvText(text, "fuzz.csv");
  if (!d.ok()) {
    if (d.status().message().empty()) Fail("error without a message");
    return 0;
  }
  for (const auto& r : d->rows) {
    if (r.policy.empty() || r.center.empty() || r.tenant.empty() || r.model.empty()) Fail("empty name");
    if (!(r.accelerator_hours >= 0 && r.reference_hours >= 0 && r.pflop_days >= 0 && r.energy_kwh >= 0 &&
          r.carbon_kg >= 0 && std::isfinite(r.cost)))
      Fail("negative or non-finite quantity");
  }
  for (unsigned by = 1; by <= 7; ++by) {
    suanli::UsageQuery q;
    q.by = by;
    auto tables = suanli::AggregateUsage(*d, q);
    if (!tables.ok()) Fail("aggregation of parsed rows failed");
    if (tables->size() != d->runs.size()) Fail("one table per run");
    uint64_t rows = 0;
    for (const auto& t : *tables) {
      suanli::UsageTotals sum;
      double scale = 0;
      uint64_t group_rows = 0;
      for (size_t i = 0; i < t.groups.size(); ++i) {
        const auto& g = t.groups[i];
        if (g.key.size() != t.key_names.size()) Fail("key size");
        if (g.rows == 0) Fail("empty group");
        if (i > 0 && t.groups[i - 1].sum.cost < g.sum.cost) Fail("not sorted by cost");
        sum.Add(g.sum);
        scale += std::fabs(g.sum.cost) + g.sum.energy_kwh + g.sum.accelerator_hours;
        group_rows += g.rows;
      }
      if (group_rows != t.rows) Fail("group rows do not add up");
      if (!Close(sum.cost, t.total.cost, scale) || !Close(sum.energy_kwh, t.total.energy_kwh, scale) ||
          !Close(t.total.accelerator_hours, t.run_total.accelerator_hours, scale))
        Fail("totals differ from the sum of the groups");
      rows += t.rows;
    }
    if (rows != d->rows.size()) Fail("rows lost in aggregation");
    (void)suanli::FormatUsageText(*tables);
    (void)suanli::FormatUsageCsv(*tables);
    std::string json = suanli::FormatUsageJson(*tables, by);
    if (!nlohmann::json::accept(json)) Fail("JSON output does not parse");
  }
  // Filters: the first run and the first row's tenant must be found.
  if (!d->rows.empty()) {
    suanli::UsageQuery q;
    q.run = d->rows.front().policy;
    q.tenant = d->rows.front().tenant;
    if (!suanli::AggregateUsage(*d, q).ok()) Fail("filter on an existing run and tenant failed");
  }
  return 0;
}
