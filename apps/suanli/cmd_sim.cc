// suanli sim: replay a workload against a network under several policies and
// compare them.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/strings.h"
#include "commands.h"
#include "core/scheduler/scheduler.h"
#include "io/model_loader.h"
#include "io/sources.h"
#include "sim/engine.h"
#include "sim/output.h"

namespace suanli::app {
namespace {

struct SimArgs {
  std::string workload = kDefaultWorkload;
  std::string format;
  std::string network = kDefaultNetwork;
  std::string network_format;
  std::string catalog;
  std::string policies = "fifo,fifo+easy,sjf,srtf,las,qssf,drf";
  uint64_t seed = 1;
  std::string out;
  bool skip_invalid = false;
  unsigned threads = 0;
  int64_t util_step_s = 0;
  int backfill_depth = 1000;
  bool quiet = false;
};

class Progress {
 public:
  Progress(size_t runs, bool enabled) : fractions_(runs, 0.0), enabled_(enabled) {}
  void Update(size_t run, double f) {
    if (!enabled_) return;
    std::lock_guard<std::mutex> lock(mu_);
    fractions_[run] = f;
    double sum = 0;
    for (double x : fractions_) sum += x;
    double total = sum / static_cast<double>(fractions_.size());
    int width = 40, filled = static_cast<int>(total * width);
    std::fprintf(stderr, "\r[%s%s] %3.0f%%", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), 100 * total);
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\r%60s\r", "");
  }

 private:
  std::mutex mu_;
  std::vector<double> fractions_;
  bool enabled_;
};

int RunSim(const SimArgs& a) {
  Catalog catalog_storage;
  const Catalog* catalog = &BuiltinCatalog();
  if (!a.catalog.empty()) {
    auto c = LoadCatalogFile(a.catalog);
    if (!c.ok()) {
      std::fprintf(stderr, "suanli sim: %s\n", c.status().message().c_str());
      return 2;
    }
    catalog_storage = std::move(*c);
    catalog = &catalog_storage;
  }
  auto net = LoadNetworkSpec(a.network, a.network_format, *catalog);
  if (!net.ok()) {
    std::fprintf(stderr, "suanli sim: %s\n", net.status().message().c_str());
    return 2;
  }
  ImportOptions iopt;
  iopt.skip_invalid = a.skip_invalid;
  ImportReport report;
  auto wl = LoadWorkload(a.workload, a.format, *catalog, iopt, &report);
  if (!wl.ok()) {
    std::fprintf(stderr, "suanli sim: %s\n", wl.status().message().c_str());
    return 2;
  }
  if (report.skipped > 0) std::fprintf(stderr, "suanli sim: %s\n", report.Summary().c_str());

  std::vector<PolicySpec> specs;
  for (auto p : Split(a.policies, ',')) {
    if (Trim(p).empty()) continue;
    auto s = ParsePolicySpec(p);
    if (!s.ok()) {
      std::fprintf(stderr, "suanli sim: %s\n", s.status().message().c_str());
      return 2;
    }
    specs.push_back(*s);
  }
  if (specs.empty()) {
    std::fprintf(stderr, "suanli sim: --policy names no policy\n");
    return 2;
  }
  if (!a.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.out, ec);
    if (ec) {
      std::fprintf(stderr, "suanli sim: cannot create '%s': %s\n", a.out.c_str(), ec.message().c_str());
      return 1;
    }
  }
  if (!a.quiet)
    std::fprintf(stderr, "suanli sim: %zu jobs on %s (%zu nodes, %lld accelerators), %zu policies, seed %llu\n",
                 wl->jobs.size(), net->name.c_str(), net->nodes.size(), static_cast<long long>(net->TotalDevices()),
                 specs.size(), static_cast<unsigned long long>(a.seed));

  std::vector<Result<SimResult>> results(specs.size(), Result<SimResult>(Internal("not run")));
  Progress progress(specs.size(), !a.quiet && isatty(STDERR_FILENO));
  unsigned threads = a.threads ? a.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(specs.size()));
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i = next++; i < specs.size(); i = next++) {
      SimOptions opt;
      opt.seed = a.seed;
      opt.util_interval = Seconds(a.util_step_s);
      opt.scheduler.backfill_depth = a.backfill_depth;
      opt.progress = [&, i](double f) { progress.Update(i, f); };
      results[i] = Simulate(*wl, *net, *catalog, specs[i], opt);
      progress.Update(i, 1.0);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  progress.Done();

  std::vector<SimResult> ok;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!results[i].ok()) {
      std::fprintf(stderr, "suanli sim: policy %s: %s\n", specs[i].text.c_str(),
                   results[i].status().message().c_str());
      return 1;
    }
    ok.push_back(std::move(results[i]).value());
  }
  std::fputs(ComparisonTable(ok).c_str(), stdout);
  for (const auto& r : ok)
    if (!r.unschedulable.empty() && !a.quiet) {
      const auto& [id, why] = r.unschedulable.front();
      std::fprintf(stderr, "suanli sim: %s: %zu unschedulable jobs, e.g. job %u (%s): %s\n", r.policy.c_str(),
                   r.unschedulable.size(), id, wl->JobName(id).c_str(), why.c_str());
      break;
    }
  if (!a.out.empty()) {
    RunInfo info{a.workload, net->name, a.seed};
    for (auto st : {WriteSummaryJson(a.out + "/summary.json", info, ok),
                    WriteJobsCsv(a.out + "/jobs.csv", *wl, *catalog, ok),
                    WriteUtilizationCsv(a.out + "/utilization.csv", ok)}) {
      if (!st.ok()) {
        std::fprintf(stderr, "suanli sim: %s\n", st.message().c_str());
        return 1;
      }
    }
    if (!a.quiet) std::fprintf(stderr, "suanli sim: wrote summary.json, jobs.csv, utilization.csv to %s\n", a.out.c_str());
  }
  return 0;
}

}  // namespace

void RegisterSim(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SimArgs>();
  auto* cmd = app.add_subcommand("sim", "Replay a workload against a network and compare policies");
  cmd->add_option("--workload,-w", args->workload,
                  "Workload file (any trace format) or 'default' (the bundled real workload)");
  cmd->add_option("--format,-f", args->format, "Trace format (see `suanli trace formats`); guessed if omitted");
  cmd->add_option("--network,-n", args->network, "Network YAML file or built-in name (see `suanli network list`)");
  cmd->add_option("--network-format", args->network_format,
                  "yaml, or a cluster format (see `suanli trace formats`); guessed if omitted");
  cmd->add_option("--catalog", args->catalog, "Accelerator catalog YAML (default: the built-in one)");
  cmd->add_option("--policy,-p", args->policies, "Comma-separated policies ORDER[+easy|+greedy][+PLACEMENT]");
  cmd->add_option("--seed,-s", args->seed, "Random seed");
  cmd->add_option("--out,-o", args->out, "Directory for summary.json, jobs.csv, utilization.csv");
  cmd->add_flag("--skip-invalid", args->skip_invalid, "Skip malformed trace rows (counted and reported)");
  cmd->add_option("--threads,-j", args->threads, "Policies run in parallel (default: all cores)");
  cmd->add_option("--util-step", args->util_step_s, "Utilisation time-series step in seconds (default: automatic)");
  cmd->add_option("--backfill-depth", args->backfill_depth, "Jobs examined per scheduling pass")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--quiet,-q", args->quiet, "Only the table");
  cmd->callback([args, exit_code]() { *exit_code = RunSim(*args); });
}

}  // namespace suanli::app
