// `suanli report`: turns the output directory of `suanli sim --out DIR`
// (summary.json, jobs.csv, utilization.csv, centers.csv, usage.csv; see
// docs/formats-output.md) into one self-contained HTML page with inline SVG
// charts, and writes every chart beside it as its own SVG file. See
// docs/report.md for what each chart shows.
//
// summary.json is required. Every other file is optional: a section whose
// input is missing is left out with a one-line note. A file that exists but
// is malformed is an error naming the file, line and field.
//
// Large runs are aggregated (CDFs from log histograms, time series averaged
// down to a few hundred points, top-N centers and tenants plus "other"), so
// the page stays small for million-job runs. The output is a pure function of
// the input files: the same directory gives byte-identical files.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace suanli {

struct ReportOptions {
  std::string out;    // the HTML file; empty: DIR/report.html. Charts are written beside it.
  std::string title;  // empty: "Suanli report: WORKLOAD on NETWORK"
};

struct Report {
  std::string html;
  std::vector<std::pair<std::string, std::string>> charts;  // (file name "x.svg", SVG text), in page order
  std::vector<std::string> notes;                           // sections left out and why
};

// Reads DIR and builds the page and charts without writing anything.
Result<Report> BuildReport(const std::string& dir, const ReportOptions& options);

// Builds the report and writes the HTML file and the SVG files. `written`,
// if given, receives the paths written (the HTML file last) and `notes` the
// sections left out.
Status WriteReport(const std::string& dir, const ReportOptions& options, std::vector<std::string>* written = nullptr,
                   std::vector<std::string>* notes = nullptr);

}  // namespace suanli
