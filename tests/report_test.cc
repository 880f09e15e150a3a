// `suanli report`: the SVG chart module, the HTML report built from a
// simulation's output directory, its errors, and the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/report.h"
#include "sim/svg_chart.h"
#include "support/cli.h"

namespace suanli {
namespace {

using testing::ReadFile;
using testing::RunSuanli;
using testing::Source;
using testing::TempDir;
namespace fs = std::filesystem;

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

// Checks that the markup's tags nest properly (every element closed, in
// order) and that every '&' starts an entity. Enough for SVG, which has no
// void elements.
::testing::AssertionResult WellFormed(const std::string& xml) {
  std::vector<std::string> stack;
  for (size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] == '&') {
      size_t semi = xml.find(';', i);
      std::string ent = semi == std::string::npos ? "" : xml.substr(i, semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&#39;")
        return ::testing::AssertionFailure() << "bare '&' at " << i << ": " << xml.substr(i, 20);
      continue;
    }
    if (xml[i] != '<') continue;
    size_t end = xml.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unterminated tag at " << i;
    std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) return ::testing::AssertionFailure() << "'<' inside a tag at " << i;
    if (tag[0] == '/') {
      std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name)
        return ::testing::AssertionFailure()
               << "</" << name << "> closes " << (stack.empty() ? "nothing" : stack.back());
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
    i = end;
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "<" << stack.back() << "> never closed";
  return ::testing::AssertionSuccess();
}

const char* kSummary = R"({
  "workload": "default", "network": "china-aicc:1/100", "seed": 7,
  "policies": [
    {"policy": "earliest-start/fifo+easy", "dispatch": "earliest-start", "center_policy": "fifo+easy",
     "jobs": 4, "finished": 3, "unschedulable": 0,
     "avg_jct_s": 5000, "p50_jct_s": 3600, "p95_jct_s": 9000, "p99_jct_s": 9900,
     "avg_wait_s": 100, "p50_wait_s": 0, "p99_wait_s": 600, "makespan_s": 20000,
     "utilization": 0.5, "preemptions": 0, "scheduling_passes": 10, "peak_pending": 2,
     "energy_kwh": 1500, "cost": 900, "carbon_kg": 800,
     "goodput": 0.97, "lost_work_s": 3600, "failures": 1, "restarts": 1, "transfer_s": 30, "deferred": 0,
     "centers": [
       {"name": "wuhan", "edge": false, "lat": 30.6, "lon": 114.3, "accelerators": 1024,
        "utilization": 0.6, "jobs": 3, "energy_kwh": 1200, "cost": 700, "carbon_kg": 650},
       {"name": "edge<1>", "edge": true, "lat": 22.5, "lon": 114.1, "accelerators": 16,
        "utilization": 0.1, "jobs": 1, "energy_kwh": 300, "cost": 200, "carbon_kg": 150}
     ]},
    {"policy": "cheapest/sjf", "dispatch": "cheapest", "center_policy": "sjf",
     "jobs": 4, "finished": 4, "unschedulable": 0,
     "avg_jct_s": 4000, "p50_jct_s": 3000, "p95_jct_s": 8000, "p99_jct_s": 8800,
     "avg_wait_s": 50, "p50_wait_s": 0, "p99_wait_s": 300, "makespan_s": 18000,
     "utilization": 0.55, "preemptions": 0, "scheduling_passes": 9, "peak_pending": 1,
     "energy_kwh": 1400, "cost": 800, "carbon_kg": 850,
     "goodput": 0.99, "lost_work_s": 0, "failures": 0, "restarts": 0, "transfer_s": 0, "deferred": 1,
     "centers": [
       {"name": "wuhan", "edge": false, "lat": 30.6, "lon": 114.3, "accelerators": 1024,
        "utilization": 0.65, "jobs": 4, "energy_kwh": 1300, "cost": 750, "carbon_kg": 800},
       {"name": "edge<1>", "edge": true, "lat": 22.5, "lon": 114.1, "accelerators": 16,
        "utilization": 0.0, "jobs": 0, "energy_kwh": 100, "cost": 50, "carbon_kg": 50}
     ]}
  ]
}
)";

const char* kJobs =
    "policy,job,name,tenant,submit_s,start_s,end_s,wait_s,jct_s,accelerators,gpu_milli,nodes,model,preemptions,"
    "state,center,restarts,lost_work_s,transfer_s\n"
    "earliest-start/fifo+easy,0,j0,a<b&c,0,0,3600,0,3600,8,1000,1,A100-80GB,0,finished,wuhan,0,0,0\n"
    "earliest-start/fifo+easy,1,j1,t2,10,610,9010,600,9000,1,1000,1,A100-80GB,0,finished,edge<1>,1,3600,30\n"
    "earliest-start/fifo+easy,2,j2,t2,20,30,2420,10,2400,2,1000,1,Ascend-910B,0,finished,wuhan,0,0,0\n"
    "earliest-start/fifo+easy,3,j3,a<b&c,30,,,,,64,1000,0,,0,unfinished,,0,0,0\n"
    "cheapest/sjf,0,j0,a<b&c,0,0,3600,0,3600,8,1000,1,A100-80GB,0,finished,wuhan,0,0,0\n"
    "cheapest/sjf,1,j1,t2,10,310,8810,300,8800,1,1000,1,A100-80GB,0,finished,wuhan,0,0,0\n"
    "cheapest/sjf,2,j2,t2,20,20,2420,0,2400,2,1000,1,Ascend-910B,0,finished,wuhan,0,0,0\n"
    "cheapest/sjf,3,j3,a<b&c,30,40,1240,10,1210,64,1000,8,A100-80GB,0,finished,wuhan,0,0,0\n";

const char* kUtil =
    "policy,time_s,busy_accelerators,utilization,pending,running\n"
    "earliest-start/fifo+easy,0,520.000,0.500000,2,3\n"
    "earliest-start/fifo+easy,3600,300.000,0.288462,1,2\n"
    "earliest-start/fifo+easy,7200,100.000,0.096154,0,1\n"
    "cheapest/sjf,0,600.000,0.576923,1,3\n"
    "cheapest/sjf,3600,200.000,0.192308,0,1\n";

const char* kCenters =
    "policy,time_s,center,model,busy_accelerators,capacity,utilization,pending,running\n"
    "earliest-start/fifo+easy,0,wuhan,A100-80GB,500,768,0.651042,1,2\n"
    "earliest-start/fifo+easy,0,wuhan,Ascend-910B,10,256,0.039063,1,2\n"
    "earliest-start/fifo+easy,0,edge<1>,A100-80GB,10,16,0.625,1,1\n"
    "earliest-start/fifo+easy,3600,wuhan,A100-80GB,290,768,0.377604,0,1\n"
    "earliest-start/fifo+easy,3600,wuhan,Ascend-910B,0,256,0,0,1\n"
    "earliest-start/fifo+easy,3600,edge<1>,A100-80GB,10,16,0.625,1,1\n"
    "cheapest/sjf,0,wuhan,A100-80GB,590,768,0.768229,1,3\n"
    "cheapest/sjf,0,wuhan,Ascend-910B,10,256,0.039063,1,3\n"
    "cheapest/sjf,0,edge<1>,A100-80GB,0,16,0,0,0\n"
    "cheapest/sjf,3600,wuhan,A100-80GB,200,768,0.260417,0,1\n"
    "cheapest/sjf,3600,wuhan,Ascend-910B,0,256,0,0,1\n"
    "cheapest/sjf,3600,edge<1>,A100-80GB,0,16,0,0,0\n";

const char* kUsage =
    "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n"
    "earliest-start/fifo+easy,a<b&c,wuhan,A100-80GB,8,8,0.104,10,6,5\n"
    "earliest-start/fifo+easy,t2,wuhan,Ascend-910B,1.33,1.2,0.017,2,1.2,1\n"
    "earliest-start/fifo+easy,t2,edge<1>,A100-80GB,2.5,2.5,0.032,3,2,1.5\n"
    "earliest-start/fifo+easy,(idle),wuhan,A100-80GB,0,0,0,1185,690.8,643.5\n"
    "earliest-start/fifo+easy,(idle),edge<1>,A100-80GB,0,0,0,297,198,148.5\n"
    "cheapest/sjf,a<b&c,wuhan,A100-80GB,29.5,29.5,0.38,36,21,22\n"
    "cheapest/sjf,t2,wuhan,A100-80GB,2.4,2.4,0.031,3,1.8,1.8\n"
    "cheapest/sjf,t2,wuhan,Ascend-910B,1.33,1.2,0.017,2,1.2,1\n"
    "cheapest/sjf,(idle),wuhan,A100-80GB,0,0,0,1259,726,775.2\n"
    "cheapest/sjf,(idle),edge<1>,A100-80GB,0,0,0,100,50,50\n";

std::string FullFixture(const std::string& name) {
  std::string d = TempDir(name);
  Write(d + "/summary.json", kSummary);
  Write(d + "/jobs.csv", kJobs);
  Write(d + "/utilization.csv", kUtil);
  Write(d + "/centers.csv", kCenters);
  Write(d + "/usage.csv", kUsage);
  return d;
}

// The output of today's `suanli sim`: no centers in summary.json, the old
// jobs.csv columns, no centers.csv or usage.csv.
std::string OldFixture(const std::string& name) {
  std::string d = TempDir(name);
  Write(d + "/summary.json", R"({"workload": "w", "network": "tiny", "seed": 1, "policies": [
    {"policy": "fifo", "jobs": 2, "finished": 2, "unschedulable": 0, "avg_jct_s": 10, "p50_jct_s": 10,
     "p95_jct_s": 12, "p99_jct_s": 12, "avg_wait_s": 1, "p50_wait_s": 1, "p99_wait_s": 1, "makespan_s": 30,
     "utilization": 0.25, "preemptions": 0, "scheduling_passes": 3, "peak_pending": 1}]})");
  Write(d + "/jobs.csv",
        "policy,job,name,tenant,submit_s,start_s,end_s,wait_s,jct_s,accelerators,gpu_milli,nodes,model,preemptions,"
        "state\nfifo,0,a,t,0,1,9,1,9,1,1000,1,V100,0,finished\nfifo,1,b,t,1,2,13,1,12,1,1000,1,V100,0,finished\n");
  Write(d + "/utilization.csv", "policy,time_s,busy_accelerators,utilization,pending,running\nfifo,0,1,0.25,1,1\n");
  return d;
}

std::vector<std::string> SvgBlocks(const std::string& html) {
  std::vector<std::string> out;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) {
    size_t e = html.find("</svg>", p);
    if (e == std::string::npos) break;
    out.push_back(html.substr(p, e + 6 - p));
  }
  return out;
}

// ---------------------------------------------------------------------------
// The chart module

TEST(ReportSvg, EscapesMarkupAndBrokenUtf8) {
  EXPECT_EQ(svg::Escape("a<b&c \"x\" 'y' >"), "a&lt;b&amp;c &quot;x&quot; &#39;y&#39; &gt;");
  EXPECT_EQ(svg::Escape("武汉"), "武汉");
  EXPECT_EQ(svg::Escape(std::string("a\xff") + "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(svg::Escape(std::string("x\x01y")), "x\xEF\xBF\xBDy");
  EXPECT_EQ(svg::Escape("\xE6\xAD"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  // Shortening counts code points and never splits one.
  EXPECT_EQ(svg::Shorten("abcdef", 4), "abc\xE2\x80\xA6");
  EXPECT_EQ(svg::Shorten("武汉智算中心", 3), "武汉\xE2\x80\xA6");
  EXPECT_EQ(svg::Shorten("abc", 3), "abc");
}

TEST(ReportSvg, NiceTicksOnLinearAndLogAxes) {
  svg::Axis lin;
  double lo = 0.3, hi = 97;
  auto t = svg::Ticks(lin, &lo, &hi, 6);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 100);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.front().label, "0");
  EXPECT_EQ(t.back().label, "100");

  svg::Axis pct;
  pct.format = svg::Format::kPercent;
  pct.min = 0;
  pct.max = 1;
  lo = 0.2, hi = 0.4;
  t = svg::Ticks(pct, &lo, &hi, 6);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 1);
  EXPECT_EQ(t.back().label, "100%");

  svg::Axis dur;
  dur.scale = svg::Scale::kLog;
  dur.format = svg::Format::kDuration;
  lo = 5, hi = 200000;
  t = svg::Ticks(dur, &lo, &hi, 8);
  std::vector<std::string> labels;
  for (const auto& k : t) labels.push_back(k.label);
  EXPECT_EQ(lo, 1);
  EXPECT_EQ(hi, 604800);
  EXPECT_NE(std::find(labels.begin(), labels.end(), "1h"), labels.end());
  EXPECT_NE(std::find(labels.begin(), labels.end(), "1d"), labels.end());

  EXPECT_EQ(svg::FormatValue(12500, svg::Format::kNumber), "12.5k");
  EXPECT_EQ(svg::FormatValue(2e6, svg::Format::kNumber), "2M");
  EXPECT_EQ(svg::FormatValue(0.25, svg::Format::kPercent), "25%");
  EXPECT_EQ(svg::FormatValue(5400, svg::Format::kDuration), "1.5h");
  EXPECT_EQ(svg::FormatValue(114.3, svg::Format::kLongitude),
            "114.3\xC2\xB0"
            "E");
}

TEST(ReportSvg, LogHistogramCdfIsMonotoneAndEndsAtOne) {
  svg::LogHistogram h(1.0, 10, 40);
  for (int i = 0; i < 1000; ++i) h.Add(std::pow(10.0, (i % 70) / 10.0));
  h.Add(0.2);  // below the minimum: counted at 1 s
  auto cdf = h.Cdf();
  ASSERT_GT(cdf.size(), 10u);
  EXPECT_DOUBLE_EQ(cdf.front().x, 1.0);
  EXPECT_NEAR(cdf.front().y, 1.0 / 1001, 1e-12);
  for (size_t i = 1; i < cdf.size(); ++i) {
    EXPECT_GE(cdf[i].x, cdf[i - 1].x);
    EXPECT_GE(cdf[i].y, cdf[i - 1].y);
  }
  EXPECT_DOUBLE_EQ(cdf.back().y, 1.0);
  // The largest value, 10^6.9, ends the curve at the top edge of its bin (1/40 decade wide).
  EXPECT_GT(cdf.back().x, std::pow(10.0, 6.9));
  EXPECT_LE(cdf.back().x, std::pow(10.0, 6.9 + 1.0 / 40) * 1.0001);
  // The median of 10^(k/10) for k in 0..69 is about 10^3.45.
  auto median = std::find_if(cdf.begin(), cdf.end(), [](const svg::Point& p) { return p.y >= 0.5; });
  EXPECT_NEAR(std::log10(median->x), 3.45, 0.1);
}

TEST(ReportSvg, ChartsAreWellFormedWithEscapedLabels) {
  svg::LineChart lc;
  lc.title = "t<1>";
  lc.x.label = "x & y";
  lc.series = {{"s<a>", {{0, 0}, {1, 2}, {2, std::nan("")}, {3, 1}}, "", false}, {"b", {{0, 1}, {3, 3}}, "", true}};
  std::string a = svg::Render(lc);
  EXPECT_TRUE(WellFormed(a)) << a;
  EXPECT_NE(a.find("s&lt;a&gt;"), std::string::npos);
  EXPECT_EQ(a.find("s<a>"), std::string::npos);
  EXPECT_EQ(Count(a, "<polyline"), 3u);  // the NaN splits the first series

  svg::BarChart bc;
  bc.title = "bars";
  bc.categories = {"a<b&c", "d"};
  bc.series = {{"x", {1, 2}, ""}, {"y", {3, -1}, ""}};
  bc.stacked = true;
  std::string b = svg::Render(bc);
  EXPECT_TRUE(WellFormed(b)) << b;
  EXPECT_EQ(Count(b, "<rect x="), 4u + 2u /* legend */);
  EXPECT_NE(b.find("a&lt;b&amp;c"), std::string::npos);

  svg::ScatterChart sc;
  sc.markers = {{"c&1", "", 1, 2, 10, 0.5, false, true}, {"e\"2", "tip <x>", 3, 4, 1, std::nan(""), true, true}};
  std::string c = svg::Render(sc);
  EXPECT_TRUE(WellFormed(c)) << c;
  EXPECT_NE(c.find("c&amp;1"), std::string::npos);
  EXPECT_NE(c.find("tip &lt;x&gt;"), std::string::npos);
  EXPECT_NE(c.find("<polygon"), std::string::npos);  // the alternative shape
  EXPECT_EQ(svg::Render(sc), c);                     // deterministic
}

// ---------------------------------------------------------------------------
// The report

TEST(Report, FullDirectoryGivesPageWithEveryChartAlsoAsFile) {
  std::string d = FullFixture("report_full");
  std::vector<std::string> written, notes;
  Status st = WriteReport(d, {}, &written, &notes);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(notes.empty()) << notes.front();
  std::string html = ReadFile(d + "/report.html");
  ASSERT_FALSE(html.empty());
  ASSERT_FALSE(written.empty());
  EXPECT_EQ(written.back(), (fs::path(d) / "report.html").string());

  // Self-contained: no scripts, no external resources.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  std::string stripped = html;
  for (size_t p; (p = stripped.find("xmlns=\"http://www.w3.org/2000/svg\"")) != std::string::npos;)
    stripped.erase(p, 34);
  EXPECT_EQ(stripped.find("http"), std::string::npos);

  // Every <svg> closed, every chart well-formed, and each one written as a file with the same text.
  EXPECT_EQ(Count(html, "<svg"), Count(html, "</svg>"));
  auto blocks = SvgBlocks(html);
  EXPECT_EQ(blocks.size(), written.size() - 1);
  for (const auto& b : blocks) EXPECT_TRUE(WellFormed(b)) << b.substr(0, 200);
  for (size_t i = 0; i + 1 < written.size(); ++i) {
    std::string svg_text = ReadFile(written[i]);
    EXPECT_NE(html.find(svg_text), std::string::npos) << written[i];
  }
  for (const char* f :
       {"map-earliest-start-fifo-easy.svg", "map-cheapest-sjf.svg", "utilization.svg", "pending.svg",
        "util-centers-cheapest-sjf.svg", "util-models-cheapest-sjf.svg", "pending-centers-earliest-start-fifo-easy.svg",
        "jct-cdf.svg", "wait-cdf.svg", "cost-by-tenant.svg", "carbon-by-tenant.svg", "cost-by-center.svg",
        "carbon-by-center.svg", "energy-by-center.svg"})
    EXPECT_TRUE(fs::exists(d + "/" + f)) << f;

  // Names from the inputs, escaped wherever they appear.
  for (const char* s : {"earliest-start/fifo+easy", "cheapest/sjf", "wuhan", "edge&lt;1&gt;", "a&lt;b&amp;c",
                        "china-aicc:1/100", "Ascend-910B", "(idle)"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  EXPECT_EQ(html.find("a<b&c"), std::string::npos);
  EXPECT_EQ(html.find("edge<1>"), std::string::npos);

  // The best value per column is highlighted: cheapest/sjf has the lower avg JCT (4000 s = 1.1h).
  size_t row = html.find("<tr><th scope=\"row\">cheapest/sjf</th>");
  ASSERT_NE(row, std::string::npos);
  std::string sjf_row = html.substr(row, html.find("</tr>", row) - row);
  EXPECT_NE(sjf_row.find("class=\"best\" title=\"4000\""), std::string::npos) << sjf_row;
  // ... and the first run has the lower carbon.
  row = html.find("<tr><th scope=\"row\">earliest-start/fifo+easy</th>");
  std::string fifo_row = html.substr(row, html.find("</tr>", row) - row);
  EXPECT_NE(fifo_row.find("class=\"best\" title=\"800\""), std::string::npos) << fifo_row;
  EXPECT_EQ(Count(fifo_row, "class=\"best\""), 1u) << fifo_row;

  // The map marks the edge site with the other shape and shows both centers.
  std::string map = ReadFile(d + "/map-cheapest-sjf.svg");
  EXPECT_NE(map.find("<polygon"), std::string::npos);
  EXPECT_NE(map.find("wuhan"), std::string::npos);
  EXPECT_NE(map.find("100\xC2\xB0"
                     "E"),
            std::string::npos)
      << "longitude labels";
  EXPECT_NE(map.find("30\xC2\xB0"
                     "N"),
            std::string::npos)
      << "latitude labels";
  // Utilisation per model has both models; per tenant cost has the escaped tenant.
  std::string models = ReadFile(d + "/util-models-earliest-start-fifo-easy.svg");
  EXPECT_NE(models.find("Ascend-910B"), std::string::npos);
  EXPECT_NE(ReadFile(d + "/cost-by-tenant.svg").find("a&lt;b&amp;c"), std::string::npos);
}

TEST(Report, TodaysSimOutputSkipsMissingSectionsWithNotes) {
  std::string d = OldFixture("report_old");
  auto r = BuildReport(d, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::string notes;
  for (const auto& n : r->notes) notes += n + "\n";
  EXPECT_NE(notes.find("centers.csv not found"), std::string::npos) << notes;
  EXPECT_NE(notes.find("usage.csv not found"), std::string::npos) << notes;
  EXPECT_NE(notes.find("'centers'"), std::string::npos) << notes;
  for (const auto& n : r->notes) EXPECT_NE(r->html.find(svg::Escape(n)), std::string::npos) << n;
  std::vector<std::string> files;
  for (const auto& [f, _] : r->charts) files.push_back(f);
  EXPECT_EQ(files, (std::vector<std::string>{"utilization.svg", "pending.svg", "jct-cdf.svg", "wait-cdf.svg"}));
  // Columns the summary lacks are left out of the table.
  EXPECT_NE(r->html.find("<th>avg JCT</th>"), std::string::npos);
  EXPECT_EQ(r->html.find("<th>carbon</th>"), std::string::npos);

  // Header-only centers.csv and usage.csv (a single-center run): noted, no empty charts.
  Write(d + "/centers.csv", "policy,time_s,center,model,busy_accelerators,capacity,utilization,pending,running\n");
  Write(d + "/usage.csv",
        "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n");
  auto h = BuildReport(d, {});
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->charts.size(), 4u);
  EXPECT_NE(h->html.find("centers.csv has no data rows"), std::string::npos);
  EXPECT_NE(h->html.find("usage.csv has no data rows"), std::string::npos);

  // Only summary.json: every chart section left out, still a page.
  std::string e = TempDir("report_summary_only");
  fs::copy_file(d + "/summary.json", e + "/summary.json");
  auto s = BuildReport(e, {});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->charts.empty());
  EXPECT_GE(s->notes.size(), 5u);
  EXPECT_NE(s->html.find("jobs.csv not found"), std::string::npos);
  EXPECT_NE(s->html.find("<td title=\"10\">10s</td>"), std::string::npos) << "one run: nothing highlighted";
}

TEST(Report, MalformedInputNamesFileLineAndField) {
  struct Case {
    const char* file;
    std::string text;
    std::vector<std::string> expect;
  };
  std::string jobs_header = std::string(kJobs).substr(0, std::string(kJobs).find('\n') + 1);
  std::vector<Case> cases = {
      {"jobs.csv",
       jobs_header + "fifo,0,a,t,0,0,5,0,5,1,1000,1,V100,0,finished,c,0,0,0\n"
                     "fifo,1,a,t,0,0,5,0,abc,1,1000,1,V100,0,finished,c,0,0,0\n",
       {"jobs.csv:3", "jct_s", "abc"}},
      {"jobs.csv", jobs_header + "fifo,0,a,t,0,0,5,0,5\n", {"jobs.csv:2", "expected 19 fields", "got 9"}},
      {"jobs.csv", "policy,job,wait_s\nfifo,1,2\n", {"jobs.csv:1", "missing column 'jct_s'"}},
      {"utilization.csv",
       "policy,time_s,busy_accelerators,utilization,pending,running\nfifo,0,1,-0.5,1,1\n",
       {"utilization.csv:2", "utilization", ">= 0"}},
      {"centers.csv",
       "policy,time_s,center,model,busy_accelerators,capacity,utilization,pending,running\n"
       "fifo,0,wuhan,A100,1,8,0.125,0,1\nfifo,60,wuhan,A100,x,8,0.125,0,1\n",
       {"centers.csv:3", "busy_accelerators", "'x'"}},
      {"centers.csv",
       "policy,time_s,center,model,busy_accelerators,capacity,utilization,pending,running\n"
       "fifo,0,,A100,1,8,0.125,0,1\n",
       {"centers.csv:2", "'center'"}},
      {"usage.csv",
       "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n"
       "fifo,t,wuhan,A100,1,1,0.01,2,\"1.5,\",1\n",
       {"usage.csv:2", "cost"}},
      {"summary.json", "{\"policies\": [ {\"policy\": \"fifo\",\n \"avg_jct_s\": }]}", {"summary.json", "line 2"}},
      {"summary.json",
       R"({"policies": [{"policy": "fifo", "avg_jct_s": "slow"}]})",
       {"summary.json", "policies[0].avg_jct_s", "expected a number"}},
      {"summary.json",
       R"({"policies": [{"policy": "fifo", "centers": [{"name": "a", "lat": "north"}]}]})",
       {"summary.json", "policies[0].centers[0].lat"}},
      {"summary.json", R"({"policies": [{"jobs": 3}]})", {"summary.json", "policies[0]", "'policy'"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string d = OldFixture("report_bad_" + std::to_string(i));
    Write(d + "/" + cases[i].file, cases[i].text);
    auto r = BuildReport(d, {});
    ASSERT_FALSE(r.ok()) << "case " << i;
    for (const auto& e : cases[i].expect)
      EXPECT_NE(r.status().message().find(e), std::string::npos) << "case " << i << ": " << r.status().message();
    EXPECT_FALSE(fs::exists(d + "/report.html"));
  }
  // Not a sim directory at all.
  auto r = BuildReport(TempDir("report_empty"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no summary.json"), std::string::npos);
  r = BuildReport(TempDir("report_empty") + "/nope", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a directory"), std::string::npos);
}

TEST(Report, SameInputGivesByteIdenticalFiles) {
  std::string a = FullFixture("report_det_a"), b = FullFixture("report_det_b");
  std::vector<std::string> wa, wb;
  ASSERT_TRUE(WriteReport(a, {}, &wa).ok());
  ASSERT_TRUE(WriteReport(b, {}, &wb).ok());
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) {
    EXPECT_EQ(fs::path(wa[i]).filename(), fs::path(wb[i]).filename());
    EXPECT_EQ(ReadFile(wa[i]), ReadFile(wb[i])) << wa[i];
  }
  // A second run over the same directory rewrites the same bytes.
  std::string first = ReadFile(a + "/report.html");
  ASSERT_TRUE(WriteReport(a, {}).ok());
  EXPECT_EQ(ReadFile(a + "/report.html"), first);
}

TEST(Report, ManyCentersAndLongSeriesStaySmall) {
  // 60 centers, 5,000 time steps, 200 tenants: lines are averaged down and
  // the smaller centers and tenants grouped as "other".
  std::string d = TempDir("report_big");
  std::string summary = R"({"workload": "w", "network": "n", "seed": 1, "policies": [{"policy": "fifo", "centers": [)";
  std::string centers = "policy,time_s,center,model,busy_accelerators,capacity,utilization,pending,running\n";
  std::string usage =
      "policy,tenant,center,model,accelerator_hours,reference_hours,pflop_days,energy_kwh,cost,carbon_kg\n";
  for (int c = 0; c < 60; ++c) {
    summary +=
        fmt::format("{}{{\"name\": \"c{}\", \"lat\": {}, \"lon\": {}, \"accelerators\": {}, \"utilization\": 0.5}}",
                    c ? "," : "", c, 20 + c * 0.5, 80 + c * 0.8, 8 * (c + 1));
    for (int t = 0; t < 5000; t += 10)
      centers += fmt::format("fifo,{},c{},A100,{},{},0.5,{},1\n", t * 60, c, c, 8 * (c + 1), t % 7);
  }
  for (int t = 0; t < 200; ++t) usage += fmt::format("fifo,tenant{},c{},A100,{},1,1,1,{},1\n", t, t % 60, t, t);
  summary += "]}]}";
  Write(d + "/summary.json", summary);
  Write(d + "/centers.csv", centers);
  Write(d + "/usage.csv", usage);
  auto r = BuildReport(d, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_LT(r->html.size(), 1u << 20);
  std::string util;
  for (const auto& [f, s] : r->charts)
    if (f == "util-centers-fifo.svg") util = s;
  ASSERT_FALSE(util.empty());
  EXPECT_EQ(Count(util, "<polyline"), 11u);  // ten largest + other centers
  EXPECT_NE(util.find("other centers (50)"), std::string::npos);
  EXPECT_NE(util.find("c59"), std::string::npos);
  EXPECT_EQ(util.find(">c0<"), std::string::npos);
  for (const auto& [f, s] : r->charts)
    if (f == "cost-by-tenant.svg") {
      EXPECT_NE(s.find("other tenants (191)"), std::string::npos);
    }
  // Every center is in the page (the table), even those not labelled on the map.
  for (int c = 0; c < 60; ++c) EXPECT_NE(r->html.find(fmt::format(">c{}<", c)), std::string::npos) << c;
}

// ---------------------------------------------------------------------------
// The command

TEST(ReportCli, WritesPageAndChartsAndPrintsPaths) {
  std::string d = FullFixture("report_cli");
  auto r = RunSuanli("report " + d);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(d + "/report.html"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(d + "/jct-cdf.svg"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(d + "/report.html"));

  std::string o = TempDir("report_cli_out");
  r = RunSuanli("report " + d + " --out " + o + "/sub/page.html --title 'Run <7> & more'");
  ASSERT_EQ(r.code, 0) << r.out;
  std::string html = ReadFile(o + "/sub/page.html");
  EXPECT_NE(html.find("<title>Run &lt;7&gt; &amp; more</title>"), std::string::npos);
  EXPECT_TRUE(fs::exists(o + "/sub/energy-by-center.svg"));

  std::string old = OldFixture("report_cli_old");
  r = RunSuanli("report " + old);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("note: centers.csv not found"), std::string::npos) << r.out;

  Write(old + "/jobs.csv", "policy,wait_s,jct_s\nfifo,1,-3\n");
  r = RunSuanli("report " + old);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("jobs.csv:2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("jct_s"), std::string::npos) << r.out;

  r = RunSuanli("report " + old + "/missing");
  EXPECT_EQ(r.code, 2) << r.out;
  r = RunSuanli("report");
  EXPECT_EQ(r.code, 2) << r.out;
}

TEST(ReportCli, ReportsARealSimulation) {
  std::string d = TempDir("report_cli_sim");
  auto s = RunSuanli("sim -q --workload " + Source("data/traces/tiresias/60_job.csv.gz") +
                     " --network tiny --policy fifo,las --seed 3 --threads 1 --out " + d);
  ASSERT_EQ(s.code, 0) << s.out;
  auto r = RunSuanli("report " + d);
  ASSERT_EQ(r.code, 0) << r.out;
  std::string html = ReadFile(d + "/report.html");
  // One table row per run of summary.json (run labels depend on the network: "fifo" or "DISPATCH/fifo").
  auto summary = nlohmann::json::parse(ReadFile(d + "/summary.json"));
  ASSERT_GE(summary["policies"].size(), 2u);
  for (const auto& p : summary["policies"]) {
    std::string name = p["policy"].get<std::string>();
    EXPECT_NE(html.find("<tr><th scope=\"row\">" + svg::Escape(name) + "</th>"), std::string::npos) << name;
  }
  EXPECT_NE(html.find("fifo"), std::string::npos);
  EXPECT_NE(html.find("las"), std::string::npos);
  EXPECT_NE(ReadFile(d + "/jct-cdf.svg").find("<polyline"), std::string::npos);
  EXPECT_EQ(Count(html, "<svg"), Count(html, "</svg>"));
}

}  // namespace
}  // namespace suanli
