// `suanli usage` (sim/usage.h): parsing usage.csv, grouping by tenant, center
// and model with hand-computed sums and cost shares, filters, malformed
// input, the output formats, and the command end to end on a real run.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "sim/usage.h"
#include "support/cli.h"

namespace suanli {
namespace {

using testing::ReadFile;
using testing::RunSuanli;
using testing::Source;
using testing::TempDir;

// Run a/fifo: cost 100 in all (alice 80, bob 10, idle 10); energy 385 kWh.
// Run b/las: one row.
const char* kUsage =
    "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n"
    "a/fifo,alice,east,A100,10,10,0.13,100,50,40\n"
    "a/fifo,alice,west,V100,20,8,0.1,200,30,80\n"
    "a/fifo,bob,east,A100,5,5,0.065,50,10,20\n"
    "a/fifo,(idle),east,A100,0,0,0,25,10,10\n"
    "a/fifo,(idle),west,V100,0,0,0,10,0,4\n"
    "b/las,alice,east,A100,1,1,0.01,10,10,5\n";

UsageData Parse(const std::string& text = kUsage) {
  auto d = ParseUsageCsvText(text, "usage.csv");
  EXPECT_TRUE(d.ok()) << d.status().message();
  return d.ok() ? *d : UsageData{};
}

std::vector<UsageTable> Agg(const std::string& by, const std::string& run = "", const std::string& tenant = "") {
  UsageData d = Parse();
  auto b = ParseUsageBy(by);
  EXPECT_TRUE(b.ok()) << b.status().message();
  UsageQuery q;
  q.by = b.ok() ? *b : kUsageByTenant;
  q.run = run;
  q.tenant = tenant;
  auto t = AggregateUsage(d, q);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : std::vector<UsageTable>{};
}

std::string Keys(const UsageGroup& g) { return Join(g.key, "|"); }

std::string Error(const std::string& text) {
  auto d = ParseUsageCsvText(text, "runs/usage.csv");
  EXPECT_FALSE(d.ok());
  return d.ok() ? "" : d.status().message();
}

TEST(UsageParse, ReadsEveryRowAndTheRunsInOrderOfAppearance) {
  UsageData d = Parse();
  ASSERT_EQ(d.rows.size(), 6u);
  EXPECT_EQ(d.runs, (std::vector<std::string>{"a/fifo", "b/las"}));
  EXPECT_EQ(d.rows[1].center, "west");
  EXPECT_EQ(d.rows[1].model, "V100");
  EXPECT_DOUBLE_EQ(d.rows[1].reference_hours, 8);
  EXPECT_DOUBLE_EQ(d.rows[2].pflop_days, 0.065);
}

TEST(UsageParse, ColumnsByNameInAnyOrderAndGzipOrNot) {
  auto d = ParseUsageCsvText(
      "cost,carbon_kg,policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,extra\n"
      "7.5,1,fifo,t,c,,2,2,0.5,3,x\n",
      "u.csv");
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->rows.size(), 1u);
  EXPECT_DOUBLE_EQ(d->rows[0].cost, 7.5);
  EXPECT_DOUBLE_EQ(d->rows[0].energy_kwh, 3);
  EXPECT_EQ(d->rows[0].model, "(none)");
}

TEST(UsageParse, MalformedRowsNameFileLineAndField) {
  std::string header =
      "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n";
  std::string ok = "p,t,c,m,1,1,1,1,1,1\n";
  std::string e = Error(header + ok + "p,t,c,m,1,1,1,1,abc,1\n");
  EXPECT_NE(e.find("runs/usage.csv:3"), std::string::npos) << e;
  EXPECT_NE(e.find("'cost'"), std::string::npos) << e;
  EXPECT_NE(e.find("'abc'"), std::string::npos) << e;

  e = Error(header + "p,t,c,m,1,1,1,1,1\n");
  EXPECT_NE(e.find("runs/usage.csv:2"), std::string::npos) << e;
  EXPECT_NE(e.find("expected 10 fields as in the header, got 9"), std::string::npos) << e;

  e = Error(header + "p,t,c,m,1,1,1,1,1,1,1\n");
  EXPECT_NE(e.find("got 11"), std::string::npos) << e;

  e = Error(ok);  // no header: the first data row is taken as one
  EXPECT_NE(e.find("runs/usage.csv:1"), std::string::npos) << e;
  EXPECT_NE(e.find("missing column 'policy'"), std::string::npos) << e;

  e = Error("");
  EXPECT_NE(e.find("runs/usage.csv:1: empty file"), std::string::npos) << e;

  e = Error(header + "p,t,c,m,-1,1,1,1,1,1\n");
  EXPECT_NE(e.find("'accelerator_hours'"), std::string::npos) << e;
  EXPECT_NE(e.find(">= 0"), std::string::npos) << e;

  e = Error(header + "p,t,c,m,1,1,1,nan,1,1\n");
  EXPECT_NE(e.find("'energy_kwh'"), std::string::npos) << e;
  e = Error(header + "p,t,c,m,1,1,1,1,inf,1\n");
  EXPECT_NE(e.find("field 'cost'"), std::string::npos) << e;
  e = Error(header + "p,t,c,m,1,1,1,1,1e400,1\n");
  EXPECT_NE(e.find("field 'cost'"), std::string::npos) << e;

  e = Error(header + ",t,c,m,1,1,1,1,1,1\n");
  EXPECT_NE(e.find("'policy'"), std::string::npos) << e;
  e = Error(header + "p,t,\"c,m,1,1,1,1,1,1\n");
  EXPECT_NE(e.find("runs/usage.csv:2: unterminated quote"), std::string::npos) << e;

  // A negative cost (a negative tariff hour) is allowed.
  EXPECT_TRUE(ParseUsageCsvText(header + "p,t,c,m,1,1,1,1,-2,1\n", "u.csv").ok());
}

TEST(UsageBy, KeysAndCombinations) {
  EXPECT_EQ(*ParseUsageBy("tenant"), kUsageByTenant);
  EXPECT_EQ(*ParseUsageBy("center,model"), kUsageByCenter | kUsageByModel);
  EXPECT_EQ(*ParseUsageBy("model, center ,TENANT"), kUsageByTenant | kUsageByCenter | kUsageByModel);
  EXPECT_EQ(UsageKeyNames(*ParseUsageBy("model,tenant")), (std::vector<std::string>{"tenant", "model"}));
  EXPECT_NE(ParseUsageBy("user").status().message().find("unknown key 'user'"), std::string::npos);
  EXPECT_NE(ParseUsageBy("center,center").status().message().find("twice"), std::string::npos);
  EXPECT_FALSE(ParseUsageBy("").ok());
}

TEST(UsageAggregate, ByTenantSumsAndSharesSortedByCostThenName) {
  auto t = Agg("tenant");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].run, "a/fifo");
  EXPECT_EQ(t[0].key_names, (std::vector<std::string>{"tenant"}));
  ASSERT_EQ(t[0].groups.size(), 3u);
  // alice 80, then a tie at 10: "(idle)" before "bob".
  EXPECT_EQ(Keys(t[0].groups[0]), "alice");
  EXPECT_EQ(Keys(t[0].groups[1]), "(idle)");
  EXPECT_EQ(Keys(t[0].groups[2]), "bob");
  const auto& alice = t[0].groups[0];
  EXPECT_DOUBLE_EQ(alice.sum.accelerator_hours, 30);
  EXPECT_DOUBLE_EQ(alice.sum.reference_hours, 18);
  EXPECT_NEAR(alice.sum.pflop_days, 0.23, 1e-12);
  EXPECT_DOUBLE_EQ(alice.sum.energy_kwh, 300);
  EXPECT_DOUBLE_EQ(alice.sum.cost, 80);
  EXPECT_DOUBLE_EQ(alice.sum.carbon_kg, 120);
  EXPECT_DOUBLE_EQ(alice.cost_share_pct, 80);
  EXPECT_EQ(alice.rows, 2u);
  const auto& idle = t[0].groups[1];
  EXPECT_DOUBLE_EQ(idle.sum.energy_kwh, 35);
  EXPECT_DOUBLE_EQ(idle.sum.carbon_kg, 14);
  EXPECT_DOUBLE_EQ(idle.sum.accelerator_hours, 0);
  EXPECT_DOUBLE_EQ(idle.cost_share_pct, 10);
  EXPECT_DOUBLE_EQ(t[0].groups[2].cost_share_pct, 10);
  EXPECT_DOUBLE_EQ(t[0].total.accelerator_hours, 35);
  EXPECT_DOUBLE_EQ(t[0].total.reference_hours, 23);
  EXPECT_NEAR(t[0].total.pflop_days, 0.295, 1e-12);
  EXPECT_DOUBLE_EQ(t[0].total.energy_kwh, 385);
  EXPECT_DOUBLE_EQ(t[0].total.cost, 100);
  EXPECT_DOUBLE_EQ(t[0].total.carbon_kg, 154);
  EXPECT_DOUBLE_EQ(t[0].total_share_pct, 100);
  EXPECT_EQ(t[0].rows, 5u);
  EXPECT_EQ(t[1].run, "b/las");
  ASSERT_EQ(t[1].groups.size(), 1u);
  EXPECT_DOUBLE_EQ(t[1].groups[0].cost_share_pct, 100);
}

TEST(UsageAggregate, ByCenter) {
  auto t = Agg("center", "a/fifo");
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(t[0].groups.size(), 2u);
  EXPECT_EQ(Keys(t[0].groups[0]), "east");
  EXPECT_DOUBLE_EQ(t[0].groups[0].sum.cost, 70);
  EXPECT_DOUBLE_EQ(t[0].groups[0].sum.energy_kwh, 175);
  EXPECT_DOUBLE_EQ(t[0].groups[0].sum.accelerator_hours, 15);
  EXPECT_DOUBLE_EQ(t[0].groups[0].cost_share_pct, 70);
  EXPECT_EQ(Keys(t[0].groups[1]), "west");
  EXPECT_DOUBLE_EQ(t[0].groups[1].sum.energy_kwh, 210);
  EXPECT_DOUBLE_EQ(t[0].groups[1].sum.carbon_kg, 84);
  EXPECT_DOUBLE_EQ(t[0].groups[1].cost_share_pct, 30);
}

TEST(UsageAggregate, ByModel) {
  auto t = Agg("model", "a/fifo");
  ASSERT_EQ(t[0].groups.size(), 2u);
  EXPECT_EQ(Keys(t[0].groups[0]), "A100");
  EXPECT_DOUBLE_EQ(t[0].groups[0].sum.reference_hours, 15);
  EXPECT_NEAR(t[0].groups[0].sum.pflop_days, 0.195, 1e-12);
  EXPECT_EQ(Keys(t[0].groups[1]), "V100");
  EXPECT_DOUBLE_EQ(t[0].groups[1].sum.reference_hours, 8);
}

TEST(UsageAggregate, ByTenantCenter) {
  auto t = Agg("tenant,center", "a/fifo");
  ASSERT_EQ(t[0].groups.size(), 5u);
  EXPECT_EQ(t[0].key_names, (std::vector<std::string>{"tenant", "center"}));
  std::vector<std::string> order;
  for (const auto& g : t[0].groups) order.push_back(Keys(g));
  EXPECT_EQ(order, (std::vector<std::string>{"alice|east", "alice|west", "(idle)|east", "bob|east", "(idle)|west"}));
  EXPECT_DOUBLE_EQ(t[0].groups[1].cost_share_pct, 30);
  EXPECT_DOUBLE_EQ(t[0].groups[4].cost_share_pct, 0);
  EXPECT_DOUBLE_EQ(t[0].groups[4].sum.energy_kwh, 10);
}

TEST(UsageAggregate, ByCenterModelAndByAllThree) {
  auto t = Agg("center,model", "a/fifo");
  ASSERT_EQ(t[0].groups.size(), 2u);
  EXPECT_EQ(Keys(t[0].groups[0]), "east|A100");
  EXPECT_DOUBLE_EQ(t[0].groups[0].sum.carbon_kg, 70);
  auto all = Agg("tenant,center,model", "a/fifo");
  ASSERT_EQ(all[0].groups.size(), 5u);
  EXPECT_EQ(Keys(all[0].groups[0]), "alice|east|A100");
  EXPECT_EQ(Keys(all[0].groups[1]), "alice|west|V100");
  EXPECT_DOUBLE_EQ(all[0].total.cost, 100);
  EXPECT_DOUBLE_EQ(all[0].total.energy_kwh, 385);
}

TEST(UsageAggregate, TenantFilterKeepsSharesOfTheWholeRun) {
  auto t = Agg("center", "", "alice");
  ASSERT_EQ(t.size(), 2u);
  ASSERT_EQ(t[0].groups.size(), 2u);
  EXPECT_EQ(Keys(t[0].groups[0]), "east");
  EXPECT_DOUBLE_EQ(t[0].groups[0].sum.cost, 50);
  EXPECT_DOUBLE_EQ(t[0].groups[0].cost_share_pct, 50);
  EXPECT_DOUBLE_EQ(t[0].groups[1].cost_share_pct, 30);
  EXPECT_DOUBLE_EQ(t[0].total.cost, 80);
  EXPECT_DOUBLE_EQ(t[0].total_share_pct, 80);
  EXPECT_DOUBLE_EQ(t[0].run_total.cost, 100);
  EXPECT_EQ(t[0].rows, 2u);
  auto idle = Agg("center", "a/fifo", "(idle)");
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_DOUBLE_EQ(idle[0].total.energy_kwh, 35);
  EXPECT_DOUBLE_EQ(idle[0].total.accelerator_hours, 0);
}

TEST(UsageAggregate, UnknownRunAndTenantListTheKnownOnes) {
  UsageData d = Parse();
  UsageQuery q;
  q.run = "c/sjf";
  auto r = AggregateUsage(d, q);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no run 'c/sjf' (runs: a/fifo, b/las)"), std::string::npos)
      << r.status().message();
  q.run = "b/las";
  q.tenant = "bob";
  r = AggregateUsage(d, q);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no rows for tenant 'bob' in run 'b/las' (tenants: alice)"), std::string::npos)
      << r.status().message();
  q.run = "";
  q.tenant = "bob";
  EXPECT_TRUE(AggregateUsage(d, q).ok());  // bob has rows in a/fifo
}

TEST(UsageAggregate, HeaderOnlyFileGivesNoTables) {
  auto d = ParseUsageCsvText(
      "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n", "u.csv");
  ASSERT_TRUE(d.ok());
  auto t = AggregateUsage(*d, UsageQuery{});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->empty());
  UsageQuery q;
  q.run = "x";
  EXPECT_NE(AggregateUsage(*d, q).status().message().find("runs: none"), std::string::npos);
}

TEST(UsageFormat, TextTableIsAlignedWithATotalsRow) {
  std::string s = FormatUsageText(Agg("tenant"));
  EXPECT_NE(s.find("run a/fifo: 3 groups from 5 rows\n"), std::string::npos) << s;
  EXPECT_NE(s.find("run b/las: 1 group from 1 row\n"), std::string::npos) << s;
  // Every line of one table has the same width (names left, numbers right).
  std::istringstream in(s.substr(0, s.find("\n\n")));
  std::string line;
  std::getline(in, line);  // the "run ..." line
  size_t width = 0;
  int lines = 0;
  while (std::getline(in, line)) {
    if (width == 0) width = line.size();
    EXPECT_EQ(line.size(), width) << "'" << line << "'\n" << s;
    ++lines;
  }
  EXPECT_EQ(lines, 1 + 3 + 1 + 1);  // header, groups, rule, total
  EXPECT_NE(s.find("tenant  accel-hours  ref-hours  PFLOP-days  energy kWh    cost  kg CO2  cost %"), std::string::npos)
      << s;
  EXPECT_NE(s.find("alice         30.00      18.00      0.2300      300.00   80.00  120.00   80.0%"), std::string::npos)
      << s;
  EXPECT_NE(s.find("total         35.00      23.00      0.2950      385.00  100.00  154.00  100.0%"), std::string::npos)
      << s;
  EXPECT_LT(s.find("(idle)"), s.find("bob"));
}

TEST(UsageFormat, JsonParsesWithStableKeyOrder) {
  std::string s = FormatUsageJson(Agg("tenant,center"), kUsageByTenant | kUsageByCenter);
  auto j = nlohmann::ordered_json::parse(s);
  EXPECT_EQ(j["by"], nlohmann::ordered_json({"tenant", "center"}));
  ASSERT_EQ(j["runs"].size(), 2u);
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["run"], "a/fifo");
  EXPECT_EQ(run["usage_rows"], 5);
  ASSERT_EQ(run["rows"].size(), 5u);
  std::vector<std::string> keys;
  for (const auto& [k, v] : run["rows"][0].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"tenant", "center", "accelerator_hours", "reference_hours", "pflop_days",
                                            "energy_kwh", "cost", "carbon_kg", "cost_share_pct"}));
  EXPECT_EQ(run["rows"][0]["tenant"], "alice");
  EXPECT_EQ(run["rows"][0]["center"], "east");
  EXPECT_DOUBLE_EQ(run["rows"][0]["cost_share_pct"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(run["total"]["pflop_days"].get<double>(), 0.295);  // rounded, no float noise
  EXPECT_DOUBLE_EQ(run["total"]["energy_kwh"].get<double>(), 385);
  EXPECT_DOUBLE_EQ(run["run_total"]["cost"].get<double>(), 100);
  // The same input gives the same bytes.
  EXPECT_EQ(s, FormatUsageJson(Agg("tenant,center"), kUsageByTenant | kUsageByCenter));
}

TEST(UsageFormat, CsvOneRowPerGroupQuotingNames) {
  std::string s = FormatUsageCsv(Agg("center", "a/fifo"));
  EXPECT_EQ(s,
            "policy,center,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg,cost_share_pct\n"
            "a/fifo,east,15.0000,15.0000,0.195000,175.0000,70.0000,70.0000,70.00\n"
            "a/fifo,west,20.0000,8.0000,0.100000,210.0000,30.0000,84.0000,30.00\n");
  auto d = ParseUsageCsvText(
      "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n"
      "p,\"x,y\",c,m,1,1,1,1,1,1\n",
      "u.csv");
  ASSERT_TRUE(d.ok()) << d.status().message();
  auto t = AggregateUsage(*d, UsageQuery{});
  ASSERT_TRUE(t.ok());
  EXPECT_NE(FormatUsageCsv(*t).find("\np,\"x,y\",1.0000"), std::string::npos) << FormatUsageCsv(*t);
}

// ---------------------------------------------------------------------------
// The command.

std::string WriteUsageDir(const std::string& name, const std::string& text) {
  std::string dir = TempDir(name);
  std::ofstream(dir + "/usage.csv") << text;
  return dir;
}

TEST(CliUsage, TableJsonCsvAndFilters) {
  std::string dir = WriteUsageDir("usage_cli", kUsage);
  auto r = RunSuanli("usage " + dir + " --by center");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("run a/fifo: 2 groups from 5 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("east  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("70.0%"), std::string::npos) << r.out;

  r = RunSuanli("usage " + dir + " --run b/las --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["rows"][0]["tenant"], "alice");

  r = RunSuanli("usage " + dir + "/usage.csv --tenant bob --csv --by tenant,center,model");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out,
            "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg,"
            "cost_share_pct\n"
            "a/fifo,bob,east,A100,5.0000,5.0000,0.065000,50.0000,10.0000,20.0000,10.00\n");
}

TEST(CliUsage, ErrorsExitTwoWithAClearMessage) {
  std::string dir = WriteUsageDir("usage_cli_err", kUsage);
  auto r = RunSuanli("usage " + dir + " --run nope");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("no run 'nope' (runs: a/fifo, b/las)"), std::string::npos) << r.out;
  r = RunSuanli("usage " + dir + " --by user");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("unknown key 'user'"), std::string::npos) << r.out;
  r = RunSuanli("usage " + dir + " --json --csv");
  EXPECT_EQ(r.code, 2) << r.out;
  r = RunSuanli("usage " + dir + "/missing");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("neither a directory"), std::string::npos) << r.out;
  std::string empty = TempDir("usage_cli_nofile");
  r = RunSuanli("usage " + empty);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("has no usage.csv"), std::string::npos) << r.out;
  std::string bad = WriteUsageDir("usage_cli_bad", std::string(kUsage) + "a/fifo,bob,east,A100,5,5,x,50,10,20\n");
  r = RunSuanli("usage " + bad);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("usage.csv:8: field 'pflop_days'"), std::string::npos) << r.out;
}

TEST(CliUsage, EndToEndTotalsEqualTheSumsOfUsageCsv) {
  std::string dir = TempDir("usage_e2e");
  auto sim = RunSuanli("sim -q --network tiny --dispatch earliest-start --policy fifo --workload " +
                       Source("data/traces/tiresias/60_job.csv.gz") + " --out " + dir);
  ASSERT_EQ(sim.code, 0) << sim.out;

  // Independent sums straight from the file.
  std::istringstream in(ReadFile(dir + "/usage.csv"));
  std::string line;
  std::getline(in, line);
  const char* names[] = {"accelerator_hours", "reference_hours", "pflop_days", "energy_kwh", "cost", "carbon_kg"};
  double sum[6] = {0, 0, 0, 0, 0, 0};
  std::map<std::string, double> center_cost;
  std::string run;
  int rows = 0;
  while (std::getline(in, line)) {
    auto f = Split(line, ',');
    ASSERT_EQ(f.size(), 10u) << line;
    run = std::string(f[0]);
    for (int i = 0; i < 6; ++i) sum[i] += *ParseDouble(f[4 + i]);
    center_cost[std::string(f[2])] += *ParseDouble(f[8]);
    ++rows;
  }
  ASSERT_GT(rows, 0);
  EXPECT_EQ(run, "earliest-start/fifo");
  EXPECT_GT(sum[0], 0);
  EXPECT_GT(sum[3], 0);

  auto r = RunSuanli("usage " + dir + " --by center");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("run earliest-start/fifo: " + std::to_string(center_cost.size()) + " groups from " +
                       std::to_string(rows) + " rows"),
            std::string::npos)
      << r.out;
  auto total_line = r.out.substr(r.out.rfind("\ntotal") + 1);
  EXPECT_NE(total_line.find(fmt::format("{:.2f}", sum[3])), std::string::npos) << r.out;
  EXPECT_NE(total_line.find(fmt::format("{:.2f}", sum[4])), std::string::npos) << r.out;
  EXPECT_NE(total_line.find("100.0%"), std::string::npos) << r.out;

  r = RunSuanli("usage " + dir + " --by center --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["runs"].size(), 1u);
  const auto& t = j["runs"][0];
  EXPECT_EQ(t["usage_rows"], rows);
  ASSERT_EQ(t["rows"].size(), center_cost.size());
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(t["total"][names[i]].get<double>(), sum[i], 1e-6 + 1e-9 * std::abs(sum[i])) << names[i];
  double share = 0;
  for (const auto& row : t["rows"]) {
    EXPECT_NEAR(row["cost"].get<double>(), center_cost[row["center"].get<std::string>()], 1e-6);
    share += row["cost_share_pct"].get<double>();
  }
  if (sum[4] != 0) {
    EXPECT_NEAR(share, 100, 1e-3);
  }
}

}  // namespace
}  // namespace suanli
