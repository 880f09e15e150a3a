// suanli gen: synthetic workloads fitted to public traces (docs/generator.md).
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "io/model_loader.h"
#include "io/sources.h"
#include "sim/generator.h"
#include "sim/output.h"

namespace suanli::app {
namespace {

struct GenArgs {
  uint64_t jobs = 0;  // 0 = not given
  double days = 0;    // 0 = not given
  uint64_t seed = 1;
  std::string out;
  double load = 0.8;
  int64_t gpus = 0;  // 0 = the network's accelerators
  uint32_t tenants = 0;
  std::string profile = "mixed";
  std::string network;  // "" = china-aicc for that profile, else uniform-100k
  std::string catalog;
  bool no_diurnal = false;
  bool quiet = false;
};

constexpr const char* kNetProfile = "china-aicc";

int RunGen(GenArgs a) {
  const bool net_profile = a.profile == kNetProfile;
  if (a.jobs == 0 && !net_profile) {
    std::fprintf(stderr, "suanli gen: --jobs is required (except with --profile %s)\n", kNetProfile);
    return 2;
  }
  if (a.days != 0 && !net_profile) {
    std::fprintf(stderr, "suanli gen: --days applies to --profile %s only\n", kNetProfile);
    return 2;
  }
  if (a.network.empty()) a.network = net_profile ? "china-aicc" : "uniform-100k";
  Catalog catalog_storage;
  const Catalog* catalog = &BuiltinCatalog();
  if (!a.catalog.empty()) {
    auto c = LoadCatalogFile(a.catalog);
    if (!c.ok()) {
      std::fprintf(stderr, "suanli gen: %s\n", c.status().message().c_str());
      return 2;
    }
    catalog_storage = std::move(*c);
    catalog = &catalog_storage;
  }
  auto net = LoadNetworkSpec(a.network, "", *catalog);
  if (!net.ok()) {
    std::fprintf(stderr, "suanli gen: --network: %s\n", net.status().message().c_str());
    return 2;
  }
  GenOptions opts;
  opts.jobs = a.jobs;
  opts.days = a.days;
  opts.seed = a.seed;
  opts.load = a.load;
  opts.gpus = a.gpus > 0 ? a.gpus : net->TotalDevices();
  opts.tenants = a.tenants;
  opts.profile = a.profile;
  opts.diurnal = !a.no_diurnal;
  opts.target = TargetOf(*net);
  if (opts.gpus <= 0) {
    std::fprintf(stderr, "suanli gen: network '%s' has no accelerators; give --gpus\n", net->name.c_str());
    return 2;
  }
  GenSummary sum;
  Status st = WriteGeneratedWorkload(opts, *catalog, a.out, &sum);
  if (!st.ok()) {
    std::fprintf(stderr, "suanli gen: %s\n", st.message().c_str());
    return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (!a.quiet && net_profile) {
    std::printf(
        "wrote %llu jobs to %s\n"
        "  profile %s, seed %llu, network %s, capacity %lld accelerators, load %.3g\n"
        "  %llu large-model jobs, %llu inference services, %llu deferrable jobs\n"
        "  arrival rate %.4g jobs/s, batch run times x %.4g\n"
        "  span %s, offered load %.3f\n",
        static_cast<unsigned long long>(sum.jobs), a.out.c_str(), a.profile.c_str(),
        static_cast<unsigned long long>(a.seed), net->name.c_str(), static_cast<long long>(opts.gpus), a.load,
        static_cast<unsigned long long>(sum.large_jobs), static_cast<unsigned long long>(sum.services),
        static_cast<unsigned long long>(sum.deferrable), sum.arrival_rate, sum.work_scale,
        HumanSeconds(ToSeconds(sum.span)).c_str(), sum.offered_load);
  } else if (!a.quiet) {
    std::printf(
        "wrote %llu jobs to %s\n"
        "  profile %s, seed %llu, network %s, capacity %lld accelerators, load %.3g\n"
        "  arrival rate %.4g jobs/s (= load x capacity / (%.4g accelerators x %.6g s per job))\n"
        "  span %s, offered load %.3f\n",
        static_cast<unsigned long long>(sum.jobs), a.out.c_str(), a.profile.c_str(),
        static_cast<unsigned long long>(a.seed), net->name.c_str(), static_cast<long long>(opts.gpus), a.load,
        sum.arrival_rate, sum.mean_accelerators, sum.mean_duration, HumanSeconds(ToSeconds(sum.span)).c_str(),
        sum.offered_load);
  }
  return 0;
}

}  // namespace

void RegisterGen(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<GenArgs>();
  std::string profiles;
  for (const auto& p : GeneratorProfiles()) profiles += "\n  " + p.name + ": " + p.description;
  auto* cmd = app.add_subcommand("gen", "Generate a synthetic workload fitted to public traces");
  cmd->add_option("--jobs", args->jobs,
                  "Number of jobs (required, except with --profile china-aicc: from --load and "
                  "--days)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{4'000'000'000}));
  cmd->add_option("--days", args->days, "Span of the arrivals in days (--profile china-aicc only; default 30)")
      ->check(CLI::Range(0.001, 3650.0));
  cmd->add_option("--seed", args->seed, "Random seed (same seed, same file)")->capture_default_str();
  cmd->add_option("--out", args->out, "Output file, native format (.gz = gzip)")->required();
  cmd->add_option("--load", args->load, "Offered accelerator-seconds / capacity")->capture_default_str();
  cmd->add_option("--gpus", args->gpus, "Capacity in accelerators (default: the network's)");
  cmd->add_option("--tenants", args->tenants, "Number of tenants (default: 11, Philly's virtual clusters)");
  cmd->add_option("--profile", args->profile, "Workload profile:" + profiles)->capture_default_str();
  cmd->add_option("--network", args->network,
                  "Network the jobs must fit (built-in name, YAML file or cluster table); sets the "
                  "default --gpus (default: china-aicc for --profile china-aicc, else "
                  "uniform-100k)");
  cmd->add_option("--catalog", args->catalog, "Accelerator catalog YAML (default: the built-in one)");
  cmd->add_flag("--no-diurnal", args->no_diurnal, "Homogeneous Poisson arrivals (no hour-of-day profile)");
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing on success");
  cmd->callback([args, exit_code]() { *exit_code = RunGen(*args); });
}

}  // namespace suanli::app
