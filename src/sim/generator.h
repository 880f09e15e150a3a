// Synthetic workloads of any size whose arrival, size and duration
// distributions are fitted to the public traces bundled under data/traces.
// docs/generator.md says what is fitted to what, lists the constants with
// their sources and gives the load formula.
//
// Determinism: one seed gives the same jobs, in the same order, on every
// platform and for every chunk size. All randomness comes from base/rng.h;
// discrete choices use integer weights, and times and run times are rounded
// (milliseconds, whole seconds) so that the last bit of a libm call cannot
// change the output.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "base/rng.h"
#include "base/status.h"
#include "base/time.h"
#include "core/model/catalog.h"
#include "core/model/job.h"
#include "core/model/network.h"

namespace suanli {

// ---------------------------------------------------------------------------
// Fitted constants

// The empirical distributions the generator samples from. BuiltinFit() holds
// the values compiled into the program; FitGeneratorFromTraces() recomputes
// them from the trace files (tests/generator_test.cc checks that both agree).
struct GeneratorFit {
  // Run time on the reference card: the quantile function of the 83,154 Philly
  // job runtimes (philly/philly_runtime.csv.gz), knots (p, seconds) from p = 0 to
  // p = 1 (type-7 sample quantiles), sampled with log-linear interpolation.
  std::vector<std::pair<double, double>> duration_quantiles;

  // Jobs by (GPUs, workload class) in Gavel's Philly VC traces, msr/seed=0
  // (15,264 jobs; GPUs = scale_factor, class from the job type).
  struct SizeClass {
    uint32_t gpus = 0;
    WorkloadClass cls = WorkloadClass::kOther;
    uint32_t jobs = 0;
  };
  std::vector<SizeClass> philly_sizes;

  // Host demand of the openb default pods (openb_pod_list_default, 8,152 pods):
  // pods by (GPUs, GPU share, CPU, memory). gpu_milli < 1000 = a shared GPU.
  struct HostDemand {
    uint32_t gpus = 0;
    uint16_t gpu_milli = kWholeDevice;
    int64_t cpu_milli = 0;
    int64_t mem_mib = 0;
    uint32_t pods = 0;
  };
  std::vector<HostDemand> openb_pods;

  // Hour-of-day arrival profile: log rate = c0 + sum_k a_k cos(2 pi k h/24) +
  // b_k sin(2 pi k h/24), k = 1, 2, h in hours; Poisson regression on the
  // submissions per 10 minutes of the Helios Venus throughput sample.
  std::array<double, 5> diurnal{};

  // Zipf exponent s (share of rank r ~ r^-s) from a least-squares fit of
  // log(nodes) on log(rank) over the Philly virtual clusters (philly/philly_vc.csv.gz).
  double tenant_zipf = 0;
  // Number of Philly virtual clusters in that table (the default --tenants).
  uint32_t tenant_count = 0;
};

const GeneratorFit& BuiltinFit();

// Recomputes the fit from a directory laid out like data/traces. Files that are
// missing leave their part empty (e.g. philly/philly_runtime.csv.gz, which is
// not bundled everywhere); malformed files are errors.
Result<GeneratorFit> FitGeneratorFromTraces(const std::string& traces_dir);

// The fit as C++ initialisers, to paste into generator_fit.cc after a refit.
std::string FitToSource(const GeneratorFit& fit);

// Rate multiplier of each hour of the day (mean 1) from the diurnal coefficients.
std::array<double, 24> HourlyProfile(const std::array<double, 5>& diurnal);

// Choices that no bundled trace records; documented as assumptions.
struct GeneratorAssumptions {
  uint32_t users_per_tenant = 20;
  double user_zipf = 1.0;
  // Share of jobs of the AI-for-science class (facts S7 names it; no trace labels it).
  uint32_t science_permille = 50;
  // Share of GPU jobs that constrain the accelerator model (FGD paper, section 6.5:
  // about 33 % of production GPU tasks). The constraint is a memory floor: the
  // target's models with at least this much device memory (or, when it has none,
  // its models with the most memory).
  uint32_t model_constraint_percent = 33;
  double transformer_min_memory_gb = 64;
  double other_min_memory_gb = 32;
  // Software stack a GPU job is written for (facts S10), when the target has a
  // model that runs it; the rest run anywhere.
  uint32_t cuda_percent = 60;
  uint32_t cann_percent = 10;
};
const GeneratorAssumptions& BuiltinAssumptions();

// ---------------------------------------------------------------------------
// Generator

struct GenProfileInfo {
  std::string name;
  std::string description;
};
// "mixed" (default), "philly", "openb", "china-aicc".
const std::vector<GenProfileInfo>& GeneratorProfiles();

// What the generator needs to know about the network a workload is meant for,
// so that every job it makes can run there.
struct GenTarget {
  ModelMask models = 0;  // accelerator models present (0 = every model of the catalog)
  // Distinct (devices, CPU, memory) of its accelerator nodes; empty = no cap. A job
  // of k accelerators asks for at most min over shapes of (k <= devices ? node
  // CPU : k x node CPU / devices), and the same for memory, so it fits every shape.
  struct Shape {
    int64_t devices = 0, cpu_milli = 0, mem_mib = 0;
    bool operator<(const Shape& o) const {
      return std::tie(devices, cpu_milli, mem_mib) < std::tie(o.devices, o.cpu_milli, o.mem_mib);
    }
  };
  std::vector<Shape> shapes;
  int64_t cpu_only_cpu = -1;  // the largest node (CPU, then memory), for CPU-only jobs; -1 = no cap
  int64_t cpu_only_mem = -1;

  // The centers and user regions, for the profile that places jobs in a
  // network of centers (china-aicc). Empty when there is no network.
  struct CenterInfo {
    std::string name;
    bool edge = false;
    std::vector<std::pair<ModelId, int64_t>> devices;  // accelerators per model, by model id
    std::vector<double> region_rtt_ms;                 // round trip to each of `regions` (RegionLatencyMs)
  };
  std::vector<CenterInfo> centers;
  // The network's user regions; without any, the distinct `region` labels of its
  // centers, placed at the mean position of their centers.
  std::vector<std::string> regions;
};
GenTarget TargetOf(const Network& network);

struct GenOptions {
  // Number of jobs. china-aicc only: 0 = as many as --load asks for in `days`.
  uint64_t jobs = 1000;
  // china-aicc only: the span of the arrivals in days (0 = 30).
  double days = 0;
  uint64_t seed = 1;
  double load = 0.8;       // offered accelerator-seconds / capacity
  int64_t gpus = 100'000;  // capacity the load refers to (accelerators)
  uint32_t tenants = 0;    // 0 = BuiltinFit().tenant_count
  std::string profile = "mixed";
  bool diurnal = true;  // false: homogeneous Poisson arrivals
  GenTarget target;
  std::string name;  // workload name ("" = "gen-<profile>-<seed>")
};

class WorkloadGenerator {
 public:
  // Checks the options (InvalidArgument names the bad one).
  static Result<WorkloadGenerator> Create(const GenOptions& opts, const Catalog& catalog);

  // An empty workload holding the name, tenants and users the jobs refer to.
  Workload NewWorkload() const;
  // Appends the next jobs, at most `max`, to out->jobs (ids and names continue
  // from the jobs generated so far); returns how many. 0 when all are done.
  size_t Next(size_t max, Workload* out);
  uint64_t generated() const { return generated_; }
  const GenOptions& options() const { return opts_; }

  // The terms of the load formula (docs/generator.md):
  //   rate = load * gpus / (mean_accelerators * mean_duration)   [jobs per second]
  double mean_accelerators() const { return mean_acc_; }  // per job; a shared GPU counts its share
  double mean_duration() const { return mean_dur_; }      // reference seconds
  double arrival_rate() const { return rate_; }
  // china-aicc: the factor applied to the fitted run times of batch jobs so that
  // --jobs N in --days D still offers --load (1 when --jobs is not given).
  double work_scale() const;
  // china-aicc: large-model jobs planned for the whole span.
  uint64_t large_jobs() const;
  // Columns the native writer should use for this generator's jobs.
  bool network_columns() const { return net_ != nullptr; }

 private:
  struct NetProfile;  // china-aicc state (generator_net.cc)
  WorkloadGenerator() = default;
  Time NextArrival();
  void FillJob(Job* job);
  double SampleDuration(Rng& rng) const;
  // Caps a job's CPU and memory so that it fits every node shape of the target.
  void CapHost(Job* job) const;
  // Host demand of a whole-GPU job of `gpus` devices from openb's pods of that size bucket.
  void WholeHost(uint32_t gpus, Rng& r, Job* job) const;
  static Status SetUpNetwork(WorkloadGenerator* g, const Catalog& catalog, Rng large_rng);
  Workload NewNetWorkload() const;
  size_t NextNet(size_t max, Workload* out);
  void FillNetJob(Job* job);

  GenOptions opts_;
  int profile_ = 0;
  uint32_t tenants_ = 0;
  // Integer-weight tables (cumulative).
  struct Table {
    std::vector<uint64_t> cum;
    uint64_t Pick(Rng& rng) const;
  };
  std::vector<GeneratorFit::SizeClass> sizes_;  // GPU jobs by size and class
  Table size_table_;
  std::vector<GeneratorFit::HostDemand> host_;  // openb pods, see FillJob
  Table host_all_, host_shared_, host_cpu_only_;
  std::array<Table, 4> host_whole_;  // 1, 2, 4, 8 GPUs
  std::array<uint32_t, 4> host_whole_gpus_{};
  std::vector<size_t> host_shared_idx_, host_cpu_only_idx_;
  std::array<std::vector<size_t>, 4> host_whole_idx_;
  uint64_t openb_cpu_only_ = 0, openb_gpu_ = 0;  // pods, profile "openb"
  uint64_t shared_ = 0, one_gpu_ = 0;            // shared of one-GPU pods
  std::array<uint64_t, kNumClasses> class_weights_{};
  Table class_table_;
  std::vector<double> q_p_, q_log_;  // duration quantile knots
  std::array<double, 24> hourly_{};
  Table tenant_table_, user_table_;
  uint32_t users_per_tenant_ = 1;
  // Constraints by stack choice (any, cuda, cann): the stack bit and the models
  // accepted under the memory floor for transformers [1] and other classes [0].
  struct StackChoice {
    StackMask stacks = 0;
    std::array<ModelMask, 2> floor{};
  };
  std::array<StackChoice, 3> stack_choice_{};
  GeneratorAssumptions assume_;

  double mean_acc_ = 0, mean_dur_ = 0, rate_ = 0;
  Rng arrivals_rng_, jobs_rng_;
  double clock_ = 0;       // seconds, time of the last arrival
  uint64_t arrivals_ = 0;  // arrivals drawn (the first is at time 0)
  uint64_t generated_ = 0;
  std::shared_ptr<NetProfile> net_;  // china-aicc only
};

// The whole workload in memory (tests, small runs).
Result<Workload> GenerateWorkload(const GenOptions& opts, const Catalog& catalog);

struct GenSummary {
  uint64_t jobs = 0;
  Time span = 0;                   // last submit - first submit
  double accelerator_seconds = 0;  // sum of accelerators x work
  double offered_load = 0;         // accelerator_seconds / (span x gpus)
                                   // (china-aicc: large-model jobs only inside the span)
  double arrival_rate = 0;         // planned, jobs per second
  double mean_accelerators = 0, mean_duration = 0;
  // china-aicc: inference services, deferrable jobs, large-model jobs (those with
  // a checkpoint interval) and the run-time factor (see work_scale()).
  uint64_t services = 0, deferrable = 0, large_jobs = 0;
  double work_scale = 1;
};

// Generates and writes in chunks, so memory stays small for any job count.
// The text is the native format, byte for byte what WriteNativeWorkload writes
// for GenerateWorkload(opts); gzip (level 1) when `path` ends in ".gz".
Status WriteGeneratedWorkload(const GenOptions& opts, const Catalog& catalog, const std::string& path,
                              GenSummary* summary);

}  // namespace suanli
