// `suanli usage`: metering "like water and electricity" from the usage.csv a
// run writes (`suanli sim --out DIR`, see docs/formats-output.md and
// docs/usage.md). usage.csv has one row per run, tenant, center and
// accelerator model; this module parses it, groups it by any of tenant,
// center and model, and formats the bill as an aligned table, CSV or JSON.
//
// Parsing and aggregation are pure functions (no files except ReadUsageCsv),
// so they are tested directly and fuzzed (fuzz/usage_csv_fuzz.cc). A file
// that is malformed is an error naming the file, line and field; nothing here
// aborts on user input.
//
// Cost: parsing and grouping are linear in the file (hash maps), then one sort
// of the groups per run.
// usage.csv is small even for million-job runs (rows are per tenant x center
// x model, not per job).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace suanli {

class LineReader;

// One row of usage.csv.
struct UsageCsvRow {
  std::string policy;  // the run label
  std::string tenant;  // "(idle)": idle accelerators' energy; "(none)" when the field was empty
  std::string center;
  std::string model;  // "(none)" when the field was empty
  double accelerator_hours = 0;
  double reference_hours = 0;
  double pflop_days = 0;
  double energy_kwh = 0;
  double cost = 0;  // may be negative (a negative tariff hour)
  double carbon_kg = 0;
};

struct UsageData {
  std::string source;             // file name, for messages
  std::vector<std::string> runs;  // run labels in order of first appearance
  std::vector<UsageCsvRow> rows;
};

// The ten columns of usage.csv, in the order the simulator writes them.
// Columns are found by name (any order, case-insensitive); model,
// reference_hours and pflop_days may be missing (files written before them:
// "(none)" and 0); extra columns are
// ignored; every row must have as many fields as the header.
const std::vector<const char*>& UsageColumns();

Result<UsageData> ParseUsageCsv(LineReader& reader);
Result<UsageData> ParseUsageCsvText(std::string_view text, const std::string& name);
// Reads a plain or gzip file.
Result<UsageData> ReadUsageCsv(const std::string& path);
// DIR/usage.csv or DIR/usage.csv.gz, or PATH itself when it is a file; empty
// (with `error` set) when neither exists.
std::string FindUsageCsv(const std::string& dir_or_file, std::string* error);

// Grouping keys, combinable as bits.
enum UsageKey : unsigned { kUsageByTenant = 1, kUsageByCenter = 2, kUsageByModel = 4 };

// "tenant", "center", "model" or a comma-separated combination
// ("tenant,center", "center,model", "tenant,center,model", ...), each at most
// once; columns always come out in the order tenant, center, model.
Result<unsigned> ParseUsageBy(std::string_view text);
std::vector<std::string> UsageKeyNames(unsigned by);

struct UsageTotals {
  double accelerator_hours = 0;
  double reference_hours = 0;
  double pflop_days = 0;
  double energy_kwh = 0;
  double cost = 0;
  double carbon_kg = 0;
  void Add(const UsageCsvRow& r);
  void Add(const UsageTotals& t);
};

struct UsageGroup {
  std::vector<std::string> key;  // one value per key name
  UsageTotals sum;
  double cost_share_pct = 0;  // of the whole run's cost (all tenants, idle included); 0 when that is 0
  uint64_t rows = 0;          // usage.csv rows in the group
};

struct UsageTable {
  std::string run;
  std::vector<std::string> key_names;  // "tenant", "center", "model"
  std::vector<UsageGroup> groups;      // cost descending, then key ascending
  UsageTotals total;                   // over the groups (after the tenant filter)
  double total_share_pct = 0;          // total.cost / run cost
  UsageTotals run_total;               // the whole run, unfiltered
  uint64_t rows = 0;                   // usage.csv rows in the table
};

struct UsageQuery {
  unsigned by = kUsageByTenant;
  std::string run;     // empty: every run, one table each
  std::string tenant;  // empty: every tenant
};

// Groups the rows: O(rows + groups log groups). Errors: an unknown run (listing the known ones), a tenant
// with no rows in the selected runs (listing the tenants there), an empty
// or invalid `by`.
Result<std::vector<UsageTable>> AggregateUsage(const UsageData& data, const UsageQuery& query);

// Human-readable: one aligned table per run with a totals row.
std::string FormatUsageText(const std::vector<UsageTable>& tables);
// policy,<keys>,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg,cost_share_pct
// (the groups only; the totals are their sums).
std::string FormatUsageCsv(const std::vector<UsageTable>& tables);
// {"by": [...], "runs": [{"run", "rows": [...], "total": {...}}]}, stable key
// order, numbers rounded to 6 decimals.
std::string FormatUsageJson(const std::vector<UsageTable>& tables, unsigned by);

}  // namespace suanli
