// suanli report: turn the output directory of `suanli sim --out DIR` into one
// self-contained HTML page with charts, and each chart as an SVG file beside it.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "sim/report.h"

namespace suanli::app {
namespace {

struct ReportArgs {
  std::string dir;
  std::string out;
  std::string title;
};

int RunReport(const ReportArgs& a) {
  ReportOptions opt;
  opt.out = a.out;
  opt.title = a.title;
  std::vector<std::string> written, notes;
  Status st = WriteReport(a.dir, opt, &written, &notes);
  if (!st.ok()) {
    std::fprintf(stderr, "suanli report: %s\n", st.message().c_str());
    return st.code() == StatusCode::kIoError ? 1 : 2;  // 2: bad or missing input
  }
  for (const auto& n : notes) std::fprintf(stderr, "suanli report: note: %s\n", n.c_str());
  for (const auto& p : written) std::printf("%s\n", p.c_str());
  return 0;
}

}  // namespace

void RegisterReport(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report", "Turn a `suanli sim --out DIR` directory into an HTML report with charts");
  cmd->add_option("dir", args->dir, "Directory written by `suanli sim --out`")->required();
  cmd->add_option("--out,-o", args->out, "HTML file to write (default: DIR/report.html); charts go beside it");
  cmd->add_option("--title,-t", args->title, "Page title (default: from the workload and network)");
  cmd->callback([args, exit_code]() { *exit_code = RunReport(*args); });
}

}  // namespace suanli::app
