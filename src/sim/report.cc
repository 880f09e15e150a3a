// `suanli report`: the HTML page assembled from its sections (the
// <head>, header, navigation and footer, the style sheet, the figures and
// notes the sections add), and the files written. Reading the run directory
// is in report_load.cc, the sections in report_sections.cc and
// report_usage.cc.
#include "sim/report.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "sim/report_internal.h"
#include "sim/svg_chart.h"

namespace suanli {
namespace report_detail {

using svg::Escape;

void Page::Figure(const std::string& name, const std::string& svg_text, const std::string& caption) {
  std::string file = name + ".svg";
  for (int k = 2; used_.count(file); ++k) file = fmt::format("{}-{}.svg", name, k);
  used_.insert(file);
  report_->charts.emplace_back(file, svg_text);
  html_ += "<figure>\n" + svg_text + "<figcaption>" + caption + " <span class=\"file\">" + Escape(file) +
           "</span></figcaption>\n</figure>\n";
}

void Page::Note(const std::string& text) {
  report_->notes.push_back(text);
  html_ += "<p class=\"note\">" + Escape(text) + "</p>\n";
}

void OpenDetails(std::string& h, const std::string& summary, bool open) {
  h += fmt::format("<details{}><summary>{}</summary>\n", open ? " open" : "", Escape(summary));
}

}  // namespace report_detail

namespace {

namespace fs = std::filesystem;

// The page's style sheet, inline so that the page is self-contained.
constexpr const char* kCss = R"css(
:root{--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--bg:#f3f5f8;--card:#ffffff;--accent:#1f4e79}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:var(--bg);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif}
header.top{background:var(--accent);color:#fff;padding:18px 28px 14px}
header.top h1{margin:0 0 6px;font-size:22px}
header.top dl{display:flex;flex-wrap:wrap;gap:4px 22px;margin:0}
header.top dt{opacity:.75}header.top dd{margin:0 0 0 6px;font-weight:600}
header.top dl div{display:flex}
nav{padding:8px 28px;background:#e7ecf2;font-size:13px}
nav a{margin-right:16px;color:var(--accent);text-decoration:none}
main{max-width:1180px;margin:0 auto;padding:8px 20px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:6px 20px 14px;margin:18px 0}
h2{font-size:18px;margin:12px 0 8px}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;margin:6px 0}
th,td{padding:4px 9px;border-bottom:1px solid #e6e9ed;text-align:right;white-space:nowrap}
thead th{background:#f0f3f6;position:sticky;top:0}
th:first-child,td:first-child{text-align:left}
tbody th{font-weight:600}
td.best{background:#d3f0d9;font-weight:700}
.scroll{overflow-x:auto;max-height:560px}
.note{color:#6b5200;background:#fff5d6;border-left:4px solid #e3b341;padding:6px 10px;margin:8px 0;font-size:13px}
.hint{color:var(--muted);font-size:13px;margin:6px 0}
figure{margin:10px 0 16px}
figure svg{max-width:100%;height:auto;display:block;border:1px solid #eceff2;border-radius:4px}
figcaption{color:var(--muted);font-size:12.5px;margin-top:4px}
figcaption .file{font-family:ui-monospace,monospace;font-size:11px;color:#8c959f;margin-left:6px}
details{border:1px solid var(--line);border-radius:6px;padding:4px 12px;margin:8px 0}
details[open]{padding-bottom:10px}
summary{cursor:pointer;font-weight:600;padding:4px 0}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
)css";

}  // namespace

Result<Report> BuildReport(const std::string& dir, const ReportOptions& options) {
  using namespace report_detail;
  SUANLI_ASSIGN_OR_RETURN(Data d, LoadRunDirectory(dir));

  std::vector<std::string> slugs;
  std::set<std::string> used;
  for (const auto& n : d.runs.names()) {
    std::string s = Slug(n);
    std::string u = s;
    for (int k = 2; used.count(u); ++k) u = fmt::format("{}-{}", s, k);
    used.insert(u);
    slugs.push_back(u);
  }

  Report report;
  Page page(&report);
  const auto& s = d.summary;
  std::string title = options.title;
  if (title.empty())
    title = fmt::format("Suanli report: {} on {}", s.workload.empty() ? "?" : s.workload,
                        s.network.empty() ? "?" : s.network);

  RunsTable(page, d);
  std::string runs_html = std::move(page.html());
  page.html().clear();
  MapSection(page, d, slugs);
  TimeSection(page, d, slugs);
  JctSection(page, d);
  UsageSection(page, d);

  std::string& h = report.html;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + Escape(title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n";
  h += "<header class=\"top\">\n<h1>" + Escape(title) + "</h1>\n<dl>";
  auto item = [&](const char* k, const std::string& v) {
    h += fmt::format("<div><dt>{}</dt><dd>{}</dd></div>", k, Escape(v.empty() ? "-" : v));
  };
  item("workload", s.workload);
  item("network", s.network);
  item("seed", s.seed);
  item("runs", std::to_string(s.runs.size()));
  h += "</dl>\n</header>\n";
  h += "<nav><a href=\"#runs\">Runs</a><a href=\"#centers\">Centers</a><a href=\"#time\">Over time</a>"
       "<a href=\"#jct\">Job completion time</a><a href=\"#usage\">Cost, carbon, energy</a></nav>\n<main>\n";
  h += "<section id=\"runs\"><h2>Runs</h2>\n" + runs_html + "</section>\n";
  h += page.html();
  h += "</main>\n<footer>Made by <code>suanli report</code> from ";
  h += Escape(Join(d.sources, "; "));
  h += ". Every chart is also a separate SVG file beside this page (names under each chart).</footer>\n"
       "</body>\n</html>\n";
  return report;
}

Status WriteReport(const std::string& dir, const ReportOptions& options, std::vector<std::string>* written,
                   std::vector<std::string>* notes) {
  SUANLI_ASSIGN_OR_RETURN(Report report, BuildReport(dir, options));
  fs::path html = options.out.empty() ? fs::path(dir) / "report.html" : fs::path(options.out);
  fs::path out_dir = html.parent_path();
  std::error_code ec;
  if (!out_dir.empty()) {
    fs::create_directories(out_dir, ec);
    if (ec) return IoError("cannot create '{}': {}", out_dir.string(), ec.message());
  }
  auto write = [&](const fs::path& p, const std::string& text) -> Status {
    std::string path = p.string();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return IoError("cannot write '{}': {}", path, std::strerror(errno));
    bool bad = std::fwrite(text.data(), 1, text.size(), f) != text.size();
    bad |= std::fclose(f) != 0;
    if (bad) return IoError("error writing '{}'", path);
    if (written) written->push_back(path);
    return Status::Ok();
  };
  for (const auto& [name, text] : report.charts) SUANLI_RETURN_IF_ERROR(write(out_dir / name, text));
  SUANLI_RETURN_IF_ERROR(write(html, report.html));
  if (notes) *notes = report.notes;
  return Status::Ok();
}

}  // namespace suanli
