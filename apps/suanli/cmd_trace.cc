// suanli trace: statistics of a trace (`info`) and the formats Suanli reads (`formats`).
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "io/model_loader.h"
#include "io/native_format.h"
#include "io/sources.h"
#include "io/trace.h"
#include "sim/output.h"
#include "sim/trace_stats.h"

namespace suanli::app {
namespace {

struct InfoArgs {
  std::string file;
  std::string format;
  std::string catalog;
  bool skip_invalid = false;
  bool json = false;
  int64_t gpus = 0;
};

double Pct(uint64_t n, uint64_t total) {
  return total ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0;
}

std::string Thousands(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string InfoText(const Workload& w, const TraceStats& s, const ImportReport& r, const InfoArgs& a) {
  std::string o;
  o += fmt::format("trace {}: {} jobs\n", w.name, Thousands(s.jobs));
  o += fmt::format("import: {}\n", r.Summary());
  for (const auto& e : r.errors) o += fmt::format("  skipped: {}\n", e);
  if (r.skipped > r.errors.size()) o += fmt::format("  ... and {} more\n", r.skipped - r.errors.size());
  if (s.jobs == 0) return o;
  o += fmt::format("span {} ({:.0f} s to {:.0f} s)\n", HumanSeconds(ToSeconds(s.span)), ToSeconds(s.first_submit),
                   ToSeconds(s.last_submit));
  o += fmt::format("arrivals {:.4g} per hour; busiest hour of day {:02}:00-{:02}:00 with {} jobs ({:.1f} %)\n",
                   s.arrivals_per_hour, s.busiest_hour, (s.busiest_hour + 1) % 24,
                   Thousands(s.by_hour[static_cast<size_t>(s.busiest_hour)]),
                   Pct(s.by_hour[static_cast<size_t>(s.busiest_hour)], s.jobs));
  std::string top;
  for (const auto& [name, n] : s.top_tenants)
    top += fmt::format("{}{} {}", top.empty() ? "" : ", ", name, Thousands(n));
  o += fmt::format("tenants {}, users {} (most jobs: {})\n", s.tenants, s.users, top);
  o += fmt::format("accelerators per job: mean {:.3f}, max {}\n", s.mean_accelerators, s.max_gpus);
  for (int b = 0; b < kGpuBins; ++b)
    o += fmt::format("  {:>6} {:>12} {:6.2f} %\n", GpuBinLabel(b), Thousands(s.gpu_bins[static_cast<size_t>(b)]),
                     Pct(s.gpu_bins[static_cast<size_t>(b)], s.jobs));
  o += fmt::format("accelerator-seconds {:.6g} (reference card); CPU core-seconds {:.6g}\n", s.accelerator_seconds,
                   s.cpu_core_seconds);
  if (a.gpus > 0) o += fmt::format("offered load on {} accelerators: {:.3f}\n", a.gpus, s.OfferedLoad(a.gpus));
  o += fmt::format(
      "work per job (reference seconds): mean {:.6g}, p50 {:.6g}, p90 {:.6g}, p99 {:.6g}, max "
      "{:.6g}\n",
      s.work_mean, s.work_p50, s.work_p90, s.work_p99, s.work_max);
  o += "classes:";
  for (int c = 0; c < kNumClasses; ++c)
    o += fmt::format(" {} {}", ClassName(static_cast<WorkloadClass>(c)), Thousands(s.classes[static_cast<size_t>(c)]));
  o += "\n";
  o += fmt::format("models requested: any {}", Thousands(s.any_model));
  for (const auto& [name, n] : s.models) o += fmt::format(", {} {}", name, Thousands(n));
  o += "\n";
  o += fmt::format("software stacks: any {}", Thousands(s.any_stack));
  for (const auto& [name, n] : s.stacks) o += fmt::format(", {} {}", name, Thousands(n));
  o += "\n";
  if (s.with_measured_speeds)
    o += fmt::format("jobs with measured per-model run times: {}\n", Thousands(s.with_measured_speeds));
  return o;
}

nlohmann::ordered_json InfoJson(const Workload& w, const TraceStats& s, const ImportReport& r, const InfoArgs& a) {
  nlohmann::ordered_json j;
  j["name"] = w.name;
  j["jobs"] = s.jobs;
  j["import"] = {
      {"rows", r.rows}, {"imported", r.imported}, {"skipped", r.skipped}, {"ignored", r.ignored}, {"errors", r.errors}};
  j["first_submit_s"] = ToSeconds(s.first_submit);
  j["last_submit_s"] = ToSeconds(s.last_submit);
  j["span_s"] = ToSeconds(s.span);
  j["arrivals_per_hour"] = s.arrivals_per_hour;
  j["busiest_hour"] = s.busiest_hour;
  j["jobs_by_hour"] = s.by_hour;
  j["tenants"] = s.tenants;
  j["users"] = s.users;
  auto top = nlohmann::ordered_json::array();
  for (const auto& [name, n] : s.top_tenants) top.push_back({{"tenant", name}, {"jobs", n}});
  j["top_tenants"] = top;
  nlohmann::ordered_json bins;
  for (int b = 0; b < kGpuBins; ++b) bins[std::string(GpuBinLabel(b))] = s.gpu_bins[static_cast<size_t>(b)];
  j["accelerators_per_job"] = bins;
  j["max_accelerators"] = s.max_gpus;
  j["mean_accelerators"] = s.mean_accelerators;
  j["accelerator_seconds"] = s.accelerator_seconds;
  j["cpu_core_seconds"] = s.cpu_core_seconds;
  if (a.gpus > 0) j["offered_load"] = {{"accelerators", a.gpus}, {"load", s.OfferedLoad(a.gpus)}};
  j["work_s"] = {
      {"mean", s.work_mean}, {"p50", s.work_p50}, {"p90", s.work_p90}, {"p99", s.work_p99}, {"max", s.work_max}};
  nlohmann::ordered_json classes;
  for (int c = 0; c < kNumClasses; ++c)
    classes[std::string(ClassName(static_cast<WorkloadClass>(c)))] = s.classes[static_cast<size_t>(c)];
  j["classes"] = classes;
  nlohmann::ordered_json models;
  models["any"] = s.any_model;
  for (const auto& [name, n] : s.models) models[name] = n;
  j["models"] = models;
  nlohmann::ordered_json stacks;
  stacks["any"] = s.any_stack;
  for (const auto& [name, n] : s.stacks) stacks[name] = n;
  j["stacks"] = stacks;
  j["with_measured_speeds"] = s.with_measured_speeds;
  return j;
}

int RunInfo(const InfoArgs& a) {
  Catalog catalog_storage;
  const Catalog* catalog = &BuiltinCatalog();
  if (!a.catalog.empty()) {
    auto c = LoadCatalogFile(a.catalog);
    if (!c.ok()) {
      std::fprintf(stderr, "suanli trace info: %s\n", c.status().message().c_str());
      return 2;
    }
    catalog_storage = std::move(*c);
    catalog = &catalog_storage;
  }
  const bool builtin = a.file == kDefaultWorkload || a.file.rfind("builtin:", 0) == 0;
  std::error_code ec;
  if (!builtin && !std::filesystem::exists(a.file, ec)) {
    std::fprintf(stderr, "suanli trace info: cannot open '%s': no such file\n", a.file.c_str());
    return 2;
  }
  ImportOptions iopt;
  iopt.skip_invalid = a.skip_invalid;
  ImportReport report;
  auto w = LoadWorkload(a.file, a.format, *catalog, iopt, &report);
  if (!w.ok()) {
    std::fprintf(stderr, "suanli trace info: %s\n", w.status().message().c_str());
    return 2;
  }
  TraceStats s = ComputeTraceStats(*w, *catalog);
  if (a.json) {
    std::printf("%s\n", InfoJson(*w, s, report, a).dump(2).c_str());
  } else {
    std::fputs(InfoText(*w, s, report, a).c_str(), stdout);
  }
  return 0;
}

}  // namespace

void RegisterTrace(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("trace", "Inspect job traces and list the formats Suanli reads");
  cmd->require_subcommand(1);

  auto args = std::make_shared<InfoArgs>();
  auto* info = cmd->add_subcommand("info", "Statistics of a trace: arrivals, sizes, durations, constraints");
  info->add_option("file", args->file, "Trace file (any format of `suanli trace formats`), or 'default'")->required();
  info->add_option("--format", args->format, "Trace format (default: guessed from the file)");
  info->add_option("--catalog", args->catalog, "Accelerator catalog YAML (default: the built-in one)");
  info->add_flag("--skip-invalid", args->skip_invalid, "Skip malformed rows (counted and reported)");
  info->add_flag("--json", args->json, "Machine-readable output");
  info->add_option("--gpus", args->gpus, "Also print the offered load on this many accelerators");
  info->callback([args, exit_code]() { *exit_code = RunInfo(*args); });

  struct ConvertArgs {
    std::vector<std::string> files;
    std::string format, out;
    bool skip_invalid = false;
  };
  auto cargs = std::make_shared<ConvertArgs>();
  auto* convert =
      cmd->add_subcommand("convert", "Import one or more traces and write them, merged, in the native format");
  convert->add_option("files", cargs->files, "Trace files (any format; merged by submit time)")->required();
  convert->add_option("--format", cargs->format, "Trace format of every input (default: guessed per file)");
  convert->add_option("--out,-o", cargs->out, "Output file, native format (.gz = gzip)")->required();
  convert->add_flag("--skip-invalid", cargs->skip_invalid, "Skip malformed rows (counted and reported)");
  convert->callback([cargs, exit_code]() {
    const Catalog& catalog = BuiltinCatalog();
    ImportOptions opts;
    opts.skip_invalid = cargs->skip_invalid;
    Workload merged;
    for (const auto& f : cargs->files) {
      ImportReport report;
      auto w = LoadWorkload(f, cargs->format, catalog, opts, &report);
      if (!w.ok()) {
        std::fprintf(stderr, "suanli trace convert: %s\n", w.status().message().c_str());
        *exit_code = 2;
        return;
      }
      std::fprintf(stderr, "%s: %s\n", f.c_str(), report.Summary().c_str());
      AppendWorkload(&merged, *w);
    }
    Status st = WriteNativeWorkload(merged, catalog, cargs->out);
    if (!st.ok()) {
      std::fprintf(stderr, "suanli trace convert: %s\n", st.message().c_str());
      *exit_code = 1;
      return;
    }
    std::fprintf(stderr, "wrote %zu jobs to %s\n", merged.jobs.size(), cargs->out.c_str());
    *exit_code = 0;
  });

  auto* formats = cmd->add_subcommand("formats", "List the trace and cluster formats");
  formats->callback([exit_code]() {
    std::printf("trace formats (suanli trace info --format NAME, suanli sim --format NAME):\n");
    for (const auto& f : TraceFormats()) std::printf("  %-10s %s\n", f.name.c_str(), f.description.c_str());
    std::printf("cluster formats (suanli sim --network FILE --network-format NAME):\n");
    for (const auto& f : ClusterFormats()) std::printf("  %-17s %s\n", f.name.c_str(), f.description.c_str());
    *exit_code = 0;
  });
}

}  // namespace suanli::app
