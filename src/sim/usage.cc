#include "sim/usage.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "io/csv.h"
#include "io/line_reader.h"
#include "sim/run_dir.h"

namespace suanli {
namespace {

namespace fs = std::filesystem;

enum Col { kPolicy, kTenant, kCenter, kModel, kAccH, kRefH, kPflop, kEnergy, kCost, kCarbon, kNumCols };

Result<std::string> NonEmptyName(const CsvRow& row, int col, const char* name) {
  std::string_view v = Trim(row.Str(col));
  if (v.empty()) return row.Error(col, name, "a name");
  return std::string(v);
}

Result<double> Number(const CsvRow& row, int col, const char* name, bool non_negative) {
  Result<double> v = non_negative ? row.DoubleAtLeast(col, name, 0) : row.Double(col, name);
  if (!v.ok()) return v.status();
  if (!std::isfinite(*v)) return row.Error(col, name, non_negative ? "a finite number >= 0" : "a finite number");
  return *v;
}

std::string KeyOf(const std::vector<std::string>& parts) {
  std::string k;
  for (const auto& p : parts) {
    k += p;
    k += '\x1f';
  }
  return k;
}

double Round6(double x) {
  if (!std::isfinite(x)) return x;
  double r = std::round(x * 1e6) / 1e6;
  return r == 0 ? 0.0 : r;  // no "-0"
}

// Printable form of a name for the aligned table (control bytes would break alignment).
std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

// Display width: UTF-8 continuation bytes take no column.
size_t Width(std::string_view s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

std::string HeaderLine() {
  std::string s;
  for (const char* c : UsageColumns()) s += (s.empty() ? "" : ",") + std::string(c);
  return s;
}

}  // namespace

const std::vector<const char*>& UsageColumns() {
  static const std::vector<const char*> kCols = {
      "policy",          "tenant",     "center",     "model", "accelerator_hours",
      "reference_hours", "pflop_days", "energy_kwh", "cost",  "carbon_kg"};
  return kCols;
}

Result<UsageData> ParseUsageCsv(LineReader& reader) {
  const std::string& path = reader.name();
  UsageData d;
  d.source = path;
  std::string_view line;
  if (!reader.Next(&line)) {
    SUANLI_RETURN_IF_ERROR(reader.status());
    return ParseError("{}:1: empty file, expected the header line '{}'", path, HeaderLine());
  }
  std::vector<std::string_view> fields;
  std::vector<std::string> storage;
  if (!SplitCsv(line, ',', &fields, &storage)) return ParseError("{}:1: unterminated quote in the header", path);
  std::vector<std::string> header;
  header.reserve(fields.size());
  for (auto f : fields) header.emplace_back(Trim(f));
  int cols[kNumCols];
  for (int i = 0; i < kNumCols; ++i) {
    cols[i] = FindColumn(header, UsageColumns()[i]);
    // Files from before these columns existed read as "(none)" and 0.
    bool optional = i == kModel || i == kRefH || i == kPflop;
    if (cols[i] < 0 && !optional)
      return ParseError("{}:1: missing column '{}' in the header (expected usage.csv: {})", path, UsageColumns()[i],
                        HeaderLine());
  }
  std::unordered_map<std::string, size_t> run_index;
  while (reader.Next(&line)) {
    if (Trim(line).empty()) continue;
    std::string where = fmt::format("{}:{}", path, reader.line_number());
    if (!SplitCsv(line, ',', &fields, &storage)) return ParseError("{}: unterminated quote", where);
    CsvRow row(where, fields, &header);
    if (fields.size() != header.size())
      return row.RowError(fmt::format("expected {} fields as in the header, got {}", header.size(), fields.size()));
    UsageCsvRow r;
    SUANLI_ASSIGN_OR_RETURN(r.policy, NonEmptyName(row, cols[kPolicy], "policy"));
    std::string_view tenant = Trim(row.Str(cols[kTenant]));
    r.tenant = tenant.empty() ? "(none)" : std::string(tenant);
    SUANLI_ASSIGN_OR_RETURN(r.center, NonEmptyName(row, cols[kCenter], "center"));
    std::string_view model = cols[kModel] >= 0 ? Trim(row.Str(cols[kModel])) : std::string_view();
    r.model = model.empty() ? "(none)" : std::string(model);
    SUANLI_ASSIGN_OR_RETURN(r.accelerator_hours, Number(row, cols[kAccH], "accelerator_hours", true));
    if (cols[kRefH] >= 0) {
      SUANLI_ASSIGN_OR_RETURN(r.reference_hours, Number(row, cols[kRefH], "reference_hours", true));
    }
    if (cols[kPflop] >= 0) {
      SUANLI_ASSIGN_OR_RETURN(r.pflop_days, Number(row, cols[kPflop], "pflop_days", true));
    }
    SUANLI_ASSIGN_OR_RETURN(r.energy_kwh, Number(row, cols[kEnergy], "energy_kwh", true));
    SUANLI_ASSIGN_OR_RETURN(r.cost, Number(row, cols[kCost], "cost", false));
    SUANLI_ASSIGN_OR_RETURN(r.carbon_kg, Number(row, cols[kCarbon], "carbon_kg", true));
    if (run_index.emplace(r.policy, d.runs.size()).second) d.runs.push_back(r.policy);
    d.rows.push_back(std::move(r));
  }
  SUANLI_RETURN_IF_ERROR(reader.status());
  return d;
}

Result<UsageData> ParseUsageCsvText(std::string_view text, const std::string& name) {
  auto reader = LineReader::FromString(std::string(text), name);
  return ParseUsageCsv(*reader);
}

Result<UsageData> ReadUsageCsv(const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(auto reader, LineReader::Open(path));
  return ParseUsageCsv(*reader);
}

std::string FindUsageCsv(const std::string& dir_or_file, std::string* error) {
  std::error_code ec;
  if (fs::is_regular_file(dir_or_file, ec)) return dir_or_file;
  if (!fs::is_directory(dir_or_file, ec)) {
    if (error)
      *error =
          fmt::format("'{}' is neither a directory (the output of suanli sim --out) nor a usage.csv file", dir_or_file);
    return "";
  }
  if (std::string p = FindRunFile(dir_or_file, "usage.csv"); !p.empty()) return p;
  if (error)
    *error = fmt::format("'{}' has no usage.csv (expected the output directory of suanli sim --out)", dir_or_file);
  return "";
}

Result<unsigned> ParseUsageBy(std::string_view text) {
  unsigned by = 0;
  for (std::string_view part : Split(text, ',')) {
    std::string p = ToLower(Trim(part));
    unsigned bit = 0;
    if (p == "tenant") bit = kUsageByTenant;
    else if (p == "center") bit = kUsageByCenter;
    else if (p == "model") bit = kUsageByModel;
    if (bit == 0)
      return InvalidArgument(
          "--by '{}': unknown key '{}' (keys: tenant, center, model, or a comma-separated "
          "combination such as tenant,center)",
          text, p);
    if (by & bit) return InvalidArgument("--by '{}': '{}' given twice", text, p);
    by |= bit;
  }
  if (by == 0) return InvalidArgument("--by: expected tenant, center, model or a combination");
  return by;
}

std::vector<std::string> UsageKeyNames(unsigned by) {
  std::vector<std::string> names;
  if (by & kUsageByTenant) names.emplace_back("tenant");
  if (by & kUsageByCenter) names.emplace_back("center");
  if (by & kUsageByModel) names.emplace_back("model");
  return names;
}

void UsageTotals::Add(const UsageCsvRow& r) {
  accelerator_hours += r.accelerator_hours;
  reference_hours += r.reference_hours;
  pflop_days += r.pflop_days;
  energy_kwh += r.energy_kwh;
  cost += r.cost;
  carbon_kg += r.carbon_kg;
}

void UsageTotals::Add(const UsageTotals& t) {
  accelerator_hours += t.accelerator_hours;
  reference_hours += t.reference_hours;
  pflop_days += t.pflop_days;
  energy_kwh += t.energy_kwh;
  cost += t.cost;
  carbon_kg += t.carbon_kg;
}

Result<std::vector<UsageTable>> AggregateUsage(const UsageData& data, const UsageQuery& query) {
  const unsigned by = query.by & (kUsageByTenant | kUsageByCenter | kUsageByModel);
  if (by == 0) return InvalidArgument("--by: expected tenant, center, model or a combination");
  std::vector<std::string> runs;
  if (query.run.empty()) {
    runs = data.runs;
  } else {
    if (std::find(data.runs.begin(), data.runs.end(), query.run) == data.runs.end())
      return NotFound("{}: no run '{}' (runs: {})", data.source, query.run,
                      data.runs.empty() ? std::string("none, the file has no rows") : Join(data.runs, ", "));
    runs = {query.run};
  }
  std::unordered_map<std::string, size_t> table_of;
  std::vector<UsageTable> tables(runs.size());
  std::vector<std::unordered_map<std::string, size_t>> group_of(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    tables[i].run = runs[i];
    tables[i].key_names = UsageKeyNames(by);
    table_of.emplace(runs[i], i);
  }
  std::set<std::string> tenants_seen;
  bool tenant_found = query.tenant.empty();
  std::vector<std::string> key;
  for (const UsageCsvRow& r : data.rows) {
    auto t = table_of.find(r.policy);
    if (t == table_of.end()) continue;
    UsageTable& table = tables[t->second];
    table.run_total.Add(r);
    if (!query.tenant.empty()) {
      if (r.tenant != query.tenant) {
        if (!tenant_found) tenants_seen.insert(r.tenant);
        continue;
      }
      tenant_found = true;
    }
    key.clear();
    if (by & kUsageByTenant) key.push_back(r.tenant);
    if (by & kUsageByCenter) key.push_back(r.center);
    if (by & kUsageByModel) key.push_back(r.model);
    auto [it, inserted] = group_of[t->second].emplace(KeyOf(key), table.groups.size());
    if (inserted) {
      table.groups.emplace_back();
      table.groups.back().key = key;
    }
    UsageGroup& g = table.groups[it->second];
    g.sum.Add(r);
    ++g.rows;
    ++table.rows;
  }
  if (!tenant_found)
    return NotFound("{}: no rows for tenant '{}'{} (tenants: {})", data.source, query.tenant,
                    query.run.empty() ? std::string() : fmt::format(" in run '{}'", query.run),
                    tenants_seen.empty()
                        ? std::string("none")
                        : Join(std::vector<std::string>(tenants_seen.begin(), tenants_seen.end()), ", "));
  for (UsageTable& table : tables) {
    const double run_cost = table.run_total.cost;
    auto share = [run_cost](double cost) { return run_cost != 0 ? 100.0 * cost / run_cost : 0.0; };
    for (UsageGroup& g : table.groups) {
      g.cost_share_pct = share(g.sum.cost);
      table.total.Add(g.sum);
    }
    table.total_share_pct = share(table.total.cost);
    std::sort(table.groups.begin(), table.groups.end(), [](const UsageGroup& a, const UsageGroup& b) {
      if (a.sum.cost != b.sum.cost) return a.sum.cost > b.sum.cost;
      return a.key < b.key;
    });
  }
  return tables;
}

std::string FormatUsageText(const std::vector<UsageTable>& tables) {
  static const char* kHeads[] = {"accel-hours", "ref-hours", "PFLOP-days", "energy kWh", "cost", "kg CO2", "cost %"};
  constexpr int kNum = 7;
  auto cells = [](const UsageTotals& t, double share) {
    return std::vector<std::string>{fmt::format("{:.2f}", t.accelerator_hours),
                                    fmt::format("{:.2f}", t.reference_hours),
                                    fmt::format("{:.4f}", t.pflop_days),
                                    fmt::format("{:.2f}", t.energy_kwh),
                                    fmt::format("{:.2f}", t.cost),
                                    fmt::format("{:.2f}", t.carbon_kg),
                                    fmt::format("{:.1f}%", share)};
  };
  std::string out;
  for (size_t ti = 0; ti < tables.size(); ++ti) {
    const UsageTable& t = tables[ti];
    if (ti > 0) out += '\n';
    out += fmt::format("run {}: {} group{} from {} row{}\n", Printable(t.run), t.groups.size(),
                       t.groups.size() == 1 ? "" : "s", t.rows, t.rows == 1 ? "" : "s");
    const size_t nk = t.key_names.size();
    std::vector<std::vector<std::string>> rows;  // keys then numbers
    rows.reserve(t.groups.size() + 2);
    std::vector<std::string> head(t.key_names.begin(), t.key_names.end());
    head.insert(head.end(), std::begin(kHeads), std::end(kHeads));
    rows.push_back(std::move(head));
    for (const UsageGroup& g : t.groups) {
      std::vector<std::string> r;
      for (const auto& k : g.key) r.push_back(Printable(k));
      auto c = cells(g.sum, g.cost_share_pct);
      r.insert(r.end(), c.begin(), c.end());
      rows.push_back(std::move(r));
    }
    std::vector<std::string> total(nk, "");
    total[0] = "total";
    auto c = cells(t.total, t.total_share_pct);
    total.insert(total.end(), c.begin(), c.end());
    rows.push_back(std::move(total));
    std::vector<size_t> w(nk + kNum, 0);
    for (const auto& r : rows)
      for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], Width(r[i]));
    auto emit = [&](const std::vector<std::string>& r) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        if (i > 0) line += "  ";
        size_t pad = w[i] - Width(r[i]);
        if (i < nk) {
          line += r[i];
          if (i + 1 < r.size()) line.append(pad, ' ');
        } else {
          line.append(pad, ' ');
          line += r[i];
        }
      }
      out += line;
      out += '\n';
    };
    emit(rows.front());
    size_t total_w = 0;
    for (size_t x : w) total_w += x;
    total_w += 2 * (w.size() - 1);
    for (size_t i = 1; i + 1 < rows.size(); ++i) emit(rows[i]);
    out.append(total_w, '-');
    out += '\n';
    emit(rows.back());
  }
  return out;
}

std::string FormatUsageCsv(const std::vector<UsageTable>& tables) {
  std::string out = "policy";
  std::vector<std::string> keys = tables.empty() ? std::vector<std::string>{} : tables.front().key_names;
  for (const auto& k : keys) out += "," + k;
  out += ",accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg,cost_share_pct\n";
  for (const UsageTable& t : tables)
    for (const UsageGroup& g : t.groups) {
      out += CsvField(t.run);
      for (const auto& k : g.key) out += "," + CsvField(k);
      fmt::format_to(std::back_inserter(out), ",{:.4f},{:.4f},{:.6f},{:.4f},{:.4f},{:.4f},{:.2f}\n",
                     g.sum.accelerator_hours, g.sum.reference_hours, g.sum.pflop_days, g.sum.energy_kwh, g.sum.cost,
                     g.sum.carbon_kg, g.cost_share_pct);
    }
  return out;
}

std::string FormatUsageJson(const std::vector<UsageTable>& tables, unsigned by) {
  using Json = nlohmann::ordered_json;
  auto numbers = [](Json& j, const UsageTotals& t, double share) {
    j["accelerator_hours"] = Round6(t.accelerator_hours);
    j["reference_hours"] = Round6(t.reference_hours);
    j["pflop_days"] = Round6(t.pflop_days);
    j["energy_kwh"] = Round6(t.energy_kwh);
    j["cost"] = Round6(t.cost);
    j["carbon_kg"] = Round6(t.carbon_kg);
    j["cost_share_pct"] = Round6(share);
  };
  Json root = Json::object();
  root["by"] = UsageKeyNames(by);
  root["runs"] = Json::array();
  for (const UsageTable& t : tables) {
    Json run = Json::object();
    run["run"] = t.run;
    run["usage_rows"] = t.rows;
    run["rows"] = Json::array();
    for (const UsageGroup& g : t.groups) {
      Json r = Json::object();
      for (size_t i = 0; i < g.key.size() && i < t.key_names.size(); ++i) r[t.key_names[i]] = g.key[i];
      numbers(r, g.sum, g.cost_share_pct);
      run["rows"].push_back(std::move(r));
    }
    Json total = Json::object();
    numbers(total, t.total, t.total_share_pct);
    run["total"] = std::move(total);
    Json run_total = Json::object();
    numbers(run_total, t.run_total, t.run_total.cost != 0 ? 100.0 : 0.0);
    run["run_total"] = std::move(run_total);
    root["runs"].push_back(std::move(run));
  }
  // Names are arbitrary bytes from the file: replace invalid UTF-8 rather than throw.
  return root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace suanli
