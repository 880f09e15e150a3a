// suanli pack: the packing experiment of the FGD paper (see src/sim/pack.h and
// docs/experiments-pack.md). Tasks arrive one by one and never leave; per
// placement policy and seed, how much GPU capacity gets allocated.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "base/parallel.h"
#include "base/strings.h"
#include "commands.h"
#include "core/policy/place/placer.h"
#include "io/model_loader.h"
#include "io/trace.h"
#include "sim/pack.h"

namespace suanli::app {
namespace {

struct PackArgs {
  std::string nodes;
  std::string pods;
  std::string policies;
  std::string seeds = "42-51";
  double tune = 1.3;
  std::string out;
  unsigned threads = 0;
  std::string catalog;
  bool quiet = false;
};

constexpr const char* kUsage = "suanli pack";

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n", kUsage, msg.c_str());
  return code;
}

// "A-B" or "A" -> [lo, hi].
bool ParseSeeds(std::string_view text, uint64_t* lo, uint64_t* hi, std::string* why) {
  std::string_view t = Trim(text);
  size_t dash = t.find('-');
  auto parse = [](std::string_view s, uint64_t* v) {
    s = Trim(s);
    if (s.empty() || s.size() > 19) return false;
    uint64_t x = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      x = x * 10 + static_cast<uint64_t>(c - '0');
    }
    *v = x;
    return true;
  };
  if (dash == std::string_view::npos) {
    if (!parse(t, lo)) {
      *why = fmt::format("--seeds '{}': expected A-B or A (non-negative integers)", text);
      return false;
    }
    *hi = *lo;
    return true;
  }
  if (!parse(t.substr(0, dash), lo) || !parse(t.substr(dash + 1), hi)) {
    *why = fmt::format("--seeds '{}': expected A-B or A (non-negative integers)", text);
    return false;
  }
  if (*lo > *hi) {
    *why = fmt::format("--seeds '{}': the range is empty (first seed {} is after last seed {})", text, *lo, *hi);
    return false;
  }
  return true;
}

int RunPackCommand(const PackArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t seed_lo = 0, seed_hi = 0;
  std::string why;
  if (!ParseSeeds(a.seeds, &seed_lo, &seed_hi, &why)) return Fail(2, why);
  if (!(a.tune > 0) || a.tune > 100) return Fail(2, fmt::format("--tune {}: expected a number in (0, 100]", a.tune));

  std::vector<std::string> policies;
  for (auto p : Split(a.policies, ',')) {
    std::string name = ToLower(Trim(p));
    if (name.empty()) continue;
    if (!MakePlacer(name)) {
      std::vector<std::string> known;
      for (const auto& info : Placers()) known.push_back(info.name);
      return Fail(2, fmt::format("unknown placement policy '{}' (known: {})", name, Join(known, ", ")));
    }
    policies.push_back(name);
  }
  if (policies.empty()) return Fail(2, "--policy names no placement policy");

  std::vector<std::string> pod_files;
  for (auto p : Split(a.pods, ','))
    if (!Trim(p).empty()) pod_files.emplace_back(Trim(p));
  if (pod_files.empty()) return Fail(2, "--pods names no file");
  for (const auto& f : std::vector<std::string>{a.nodes}) {
    if (!std::filesystem::is_regular_file(f)) return Fail(2, fmt::format("--nodes: no such file '{}'", f));
  }
  for (const auto& f : pod_files)
    if (!std::filesystem::is_regular_file(f)) return Fail(2, fmt::format("--pods: no such file '{}'", f));

  Catalog catalog_storage;
  const Catalog* catalog = &BuiltinCatalog();
  if (!a.catalog.empty()) {
    auto c = LoadCatalogFile(a.catalog);
    if (!c.ok()) return Fail(2, c.status().message());
    catalog_storage = std::move(*c);
    catalog = &catalog_storage;
  }
  ImportOptions iopt;
  auto net = ImportCluster(a.nodes, "", *catalog, iopt);
  if (!net.ok()) return Fail(2, net.status().message());

  // Load the pod files in parallel (each is independent).
  std::vector<std::optional<Result<Workload>>> loaded(pod_files.size());
  ParallelFor(pod_files.size(), a.threads,
              [&](size_t i) { loaded[i] = ImportWorkload(pod_files[i], "", *catalog, iopt, nullptr); });
  std::vector<Workload> workloads;
  workloads.reserve(pod_files.size());
  for (size_t i = 0; i < pod_files.size(); ++i) {
    if (!loaded[i]->ok()) return Fail(2, loaded[i]->status().message());
    workloads.push_back(std::move(*loaded[i]).value());
  }
  std::vector<PackInput> inputs;
  inputs.reserve(workloads.size());
  for (size_t i = 0; i < workloads.size(); ++i)
    inputs.push_back(PreparePackInput(import_detail::TraceStem(pod_files[i]), workloads[i], *catalog));
  for (size_t i = 0; i < inputs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (inputs[i].name == inputs[j].name) return Fail(2, fmt::format("--pods names '{}' twice", inputs[i].name));
  std::vector<const PackInput*> ptrs;
  for (const auto& in : inputs) ptrs.push_back(&in);

  std::error_code ec;
  std::filesystem::create_directories(a.out, ec);
  if (ec) return Fail(1, fmt::format("cannot create '{}': {}", a.out, ec.message()));

  PackOptions opt;
  opt.tune = a.tune;
  opt.threads = a.threads;
  const size_t runs = inputs.size() * policies.size() * (seed_hi - seed_lo + 1);
  if (!a.quiet)
    std::fprintf(stderr, "%s: %zu workload(s) on %s (%zu nodes, %lld GPUs), %zu policies x seeds %llu-%llu: %zu runs\n",
                 kUsage, inputs.size(), net->name.c_str(), net->nodes.size(),
                 static_cast<long long>(net->TotalDevices()), policies.size(), static_cast<unsigned long long>(seed_lo),
                 static_cast<unsigned long long>(seed_hi), runs);
  auto res = RunPackGrid(ptrs, *net, *catalog, policies, seed_lo, seed_hi, opt);
  if (!res.ok()) return Fail(res.status().code() == StatusCode::kInvalidArgument ? 2 : 1, res.status().message());

  const std::string csv = a.out + "/pack.csv";
  auto summary = SummarizePack(*res);
  for (const auto& st :
       {WritePackCsv(csv, *res, inputs.size() > 1), WritePackSummaryCsv(a.out + "/pack_summary.csv", summary)})
    if (!st.ok()) return Fail(1, st.message());
  std::fputs(PackSummaryTable(summary).c_str(), stdout);
  if (!a.quiet) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "%s: wrote pack.csv and pack_summary.csv to %s (%.1f s)\n", kUsage, a.out.c_str(), secs);
  }
  return 0;
}

}  // namespace

void RegisterPack(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<PackArgs>();
  auto* cmd = app.add_subcommand(
      "pack", "FGD packing experiment: tasks arrive and never leave; GPU allocation per placement policy");
  cmd->add_option("--nodes", args->nodes, "Cluster node list (e.g. openb_node_list_gpu_node.csv.gz)")->required();
  cmd->add_option("--pods", args->pods, "Comma-separated pod lists (e.g. openb_pod_list_default.csv.gz)")->required();
  cmd->add_option("--policy,-p", args->policies,
                  "Comma-separated placement policies (random, dot-product, gpu-clustering, gpu-packing, "
                  "best-fit, fgd, first-fit, topology)")
      ->required();
  cmd->add_option("--seeds", args->seeds, "Seed range A-B (inclusive) or one seed A (default 42-51)");
  cmd->add_option("--tune", args->tune, "Total GPU request as a multiple of the cluster's GPU capacity");
  cmd->add_option("--out,-o", args->out, "Directory for pack.csv and pack_summary.csv")->required();
  cmd->add_option("--threads,-j", args->threads, "Runs in parallel (default: all cores)");
  cmd->add_option("--catalog", args->catalog, "Accelerator catalog YAML (default: the built-in one)");
  cmd->add_flag("--quiet,-q", args->quiet, "Only the table");
  cmd->callback([args, exit_code]() { *exit_code = RunPackCommand(*args); });
}

}  // namespace suanli::app
