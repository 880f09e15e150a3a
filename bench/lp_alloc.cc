// Benchmark: the heterogeneity-aware allocation LP (core/policy/dispatch/allocation_lp.h)
// on random instances of T job types x R resources (30% of the pairs cannot run:
// stack constraints; demands 1-32, capacities 1-64, speeds 0.1-3.1, penalties 0-0.2),
// in throughput and max-min fair mode, with column generation (the default) and
// with every column from the start.
//
// usage: suanli_micro_bench --benchmark_filter=LpAlloc
#include <benchmark/benchmark.h>

#include <utility>
#include <vector>

#include "base/rng.h"
#include "core/policy/dispatch/allocation_lp.h"

namespace {

using suanli::LpJobType;
using suanli::LpResource;

struct Instance {
  std::vector<LpJobType> types;
  std::vector<LpResource> resources;
};

Instance Make(int T, int R, uint64_t seed) {
  suanli::Rng rng(seed);
  Instance in;
  for (int r = 0; r < R; ++r) {
    LpResource res;
    res.capacity = static_cast<double>(1 + rng.Below(64));
    res.penalty = 0.2 * rng.Uniform();
    in.resources.push_back(res);
  }
  for (int t = 0; t < T; ++t) {
    LpJobType ty;
    ty.demand = static_cast<double>(1 + rng.Below(32));
    ty.weight = 0.5 + rng.Uniform();
    for (int r = 0; r < R; ++r) ty.speed.push_back(rng.Uniform() < 0.3 ? 0 : 0.1 + 3 * rng.Uniform());
    in.types.push_back(std::move(ty));
  }
  return in;
}

// Args: types, resources, fair (0/1), column generation (0/1).
void BM_LpAlloc(benchmark::State& state) {
  const Instance in = Make(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), 31);
  suanli::LpOptions opt;
  opt.fair = state.range(2) != 0;
  opt.column_generation = state.range(3) != 0;
  opt.time_limit_ms = 600000;
  int iterations = 0;
  for (auto _ : state) {
    auto a = suanli::SolveAllocation(in.types, in.resources, opt);
    if (!a.ok()) {
      state.SkipWithError(a.status().message().c_str());
      break;
    }
    iterations = a->iterations;
    benchmark::DoNotOptimize(a->objective);
  }
  state.counters["simplex_iters"] = iterations;
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int fair : {0, 1})
    for (int gen : {1, 0})
      for (auto [t, r] : {std::pair{50, 30}, std::pair{200, 100}, std::pair{500, 200}}) b->Args({t, r, fair, gen});
  b->ArgNames({"types", "res", "fair", "colgen"});
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_LpAlloc)->Apply(Sizes);

}  // namespace
