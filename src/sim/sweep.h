// A sweep: a grid of `suanli sim` runs (network x dispatch x policy x scale x
// seed) and the gathering of their summary.json files into one table. This
// part is pure text in, text out (plus reading the runs' summary.json); how
// the runs are executed (local processes or a Slurm job array) lives in
// apps/suanli/cmd_sweep.cc. See docs/sweep.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace suanli {

// The grid. An empty dimension is not given: the simulator's own default is
// used and the flag is not passed.
struct SweepGrid {
  std::vector<std::string> networks, dispatches, policies, scales, seeds;
  std::string workload;            // empty: the simulator's default
  std::vector<std::string> extra;  // passed to every run, after the grid's flags
};

// One grid point. Empty fields are dimensions that were not given.
struct SweepPoint {
  size_t index = 0;
  std::string id;  // directory name under runs/: "003-tiny-fifo-s2"
  std::string network, dispatch, policy, scale, seed;
};

// "a,b,c" -> {"a","b","c"}; items are trimmed, empty items and duplicates are
// errors naming the flag.
Result<std::vector<std::string>> ParseSweepList(std::string_view flag, std::string_view text);
// Seeds: a comma list of integers and ranges, "1,2,3" or "1-5" or "1-3,10".
Result<std::vector<std::string>> ParseSweepSeeds(std::string_view text);
// Scales: a comma list of positive numbers ("0.5,1,2").
Result<std::vector<std::string>> ParseSweepScales(std::string_view text);
// Checks the extra arguments: none may set a grid dimension or the output.
Status CheckSweepExtraArgs(const std::vector<std::string>& extra);

// Every point in a fixed order: network, then dispatch, policy, scale, seed
// (seed varies fastest).
std::vector<SweepPoint> ExpandSweepGrid(const SweepGrid& grid);

// The arguments of `suanli` for one point: {"sim", "--network", N, ..., "--out", run_dir, "-q"}.
std::vector<std::string> SweepSimArgs(const SweepGrid& grid, const SweepPoint& p, const std::string& run_dir);

// DIR/points.tsv: one line per point, "index<TAB>id<TAB>arg<TAB>arg...".
// Fails if an argument is empty or holds a tab or a line break.
Result<std::string> SweepPointsTsv(const std::vector<SweepPoint>& points,
                                   const std::vector<std::vector<std::string>>& args);

struct SbatchOptions {
  std::string dir;                       // absolute sweep directory (holds points.tsv, runs/, slurm/)
  std::string workdir;                   // absolute working directory of every task
  std::string binary;                    // absolute path of suanli
  size_t points = 0;                     // array size
  size_t max_parallel = 0;               // the array's %max (0: all at once)
  std::string partition;                 // empty: the cluster's default
  std::vector<std::string> sbatch_args;  // more #SBATCH options, e.g. "--time=30"
};
// The job-array batch script (DIR/sweep.sbatch). Fails on paths Slurm's
// #SBATCH lines cannot carry (whitespace).
Result<std::string> SweepSbatchScript(const SbatchOptions& o);

// The gathered results: one row per point and run in its summary.json.
struct SweepRow {
  std::string point;  // point id
  std::string network, dispatch, policy, scale, seed;
  std::string run;                // the run's label in summary.json ("policy")
  nlohmann::ordered_json values;  // numeric keys of the run, in the file's order
};
struct SweepTable {
  std::vector<std::string> metrics;  // every numeric key, in order of first appearance
  std::vector<SweepRow> rows;
};
// Reads DIR/runs/<id>/summary.json of every point in `points` (in order).
Result<SweepTable> GatherSweep(const std::string& dir, const std::vector<SweepPoint>& points);

// sweep.csv: network,dispatch,policy,scale,seed,<metrics...>; numbers as written in summary.json.
std::string SweepCsv(const SweepTable& t);

// Means and sample standard deviations over seeds, per (network, dispatch, policy, scale).
struct SweepGroup {
  std::string network, dispatch, policy, scale;
  size_t runs = 0;
  std::vector<std::string> seeds;
  std::vector<double> mean, stddev;  // per metric of the table; NaN where no run has it
  std::vector<size_t> count;         // runs that have the metric
};
std::vector<SweepGroup> GroupSweep(const SweepTable& t);

struct SweepInfo {
  std::string workload;
  SweepGrid grid;
  size_t points = 0;
  std::vector<std::string> failed;  // ids of points that gave no result
  std::string mode;                 // "local" or "slurm"
};
// sweep.json: the grid, every run and the per-group means and deviations.
std::string SweepJson(const SweepInfo& info, const SweepTable& t, const std::vector<SweepGroup>& groups);

// summary.json in the format of `suanli sim` (docs/formats-output.md): one
// entry per group, labelled by the dimensions that vary, holding the means
// over seeds; so `suanli report DIR` can draw a sweep.
std::string SweepSummaryJson(const SweepInfo& info, const SweepTable& t, const std::vector<SweepGroup>& groups);

// The printed table: one line per group, "mean ± sd" for the chosen metrics
// (empty: a default set, those present).
std::string SweepMeansTable(const SweepTable& t, const std::vector<SweepGroup>& groups,
                            const std::vector<std::string>& metrics);

}  // namespace suanli
