// suanli pack: rows, columns, determinism, tune arithmetic, and the FGD paper's
// qualitative result on the real openb default trace.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/cli.h"

#include "io/model_loader.h"
#include "io/trace.h"
#include "sim/pack.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

const char* const kBaselines[] = {"random", "dot-product", "gpu-clustering", "gpu-packing", "best-fit", "fgd"};

std::string OpenbDir() { return std::string(SUANLI_SOURCE_DIR) + "/data/traces/alibaba-gpu-v2023-openb/csv"; }

// A small cluster (6 nodes of 4 devices, one CPU-only node) and a mixed workload.
struct Small {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 4, 4}, {1, 2, 4}, {kNoModel, 1, 0}});
  Workload w;
  Small() {
    Rng r(5);
    for (int i = 0; i < 40; ++i) {
      Job j;
      j.id = static_cast<JobId>(i);
      uint64_t k = r.Below(10);
      if (k < 4) {
        j.num_gpus = 1;
        j.gpu_milli = static_cast<uint16_t>(100 * (1 + r.Below(9)));
      } else if (k < 7) {
        j.num_gpus = 1;
      } else if (k < 9) {
        j.num_gpus = 2;
      } else {
        j.num_gpus = 0;
      }
      j.cpu_milli = 1000 * static_cast<int64_t>(1 + r.Below(6));
      j.mem_mib = 4096;
      if (r.Below(5) == 0) j.models = 1;
      w.jobs.push_back(j);
    }
    w.name = "small";
  }
};

TEST(Pack, RowsAndColumns) {
  Small s;
  PackInput in = PreparePackInput("small", s.w, s.cat);
  auto run = RunPack(in, s.net, s.cat, "fgd", 42, PackOptions{});
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->rows.size(), 131u);
  for (int p = 0; p <= 130; ++p) EXPECT_EQ(run->rows[p].arrived_pct, p);
  EXPECT_EQ(run->rows[0].allocated_pct, 0.0);
  for (size_t i = 1; i < run->rows.size(); ++i) {
    EXPECT_GE(run->rows[i].allocated_pct, run->rows[i - 1].allocated_pct);  // tasks never leave
    EXPECT_LE(run->rows[i].allocated_pct, 100.0);
    EXPECT_LE(run->rows[i].allocated_pct, run->rows[i].arrived_pct + 1e-9);  // cannot allocate more than arrived
  }
  EXPECT_EQ(run->placed + run->failed, run->tasks);
  EXPECT_DOUBLE_EQ(run->final_allocated_pct,
                   100.0 * static_cast<double>(run->allocated_milli) / static_cast<double>(run->capacity_milli));
  EXPECT_GT(run->failed, 0u);  // 130% of the capacity arrives

  auto dir = std::filesystem::temp_directory_path() / "suanli_pack_test";
  std::filesystem::create_directories(dir);
  std::vector<PackRun> runs{*run};
  ASSERT_TRUE(WritePackCsv((dir / "a.csv").string(), runs, false).ok());
  ASSERT_TRUE(WritePackCsv((dir / "b.csv").string(), runs, true).ok());
  std::ifstream a(dir / "a.csv"), b(dir / "b.csv");
  std::string line;
  std::getline(a, line);
  EXPECT_EQ(line, "policy,seed,arrived_pct,allocated_pct,fragmented_pct");
  std::getline(a, line);
  EXPECT_EQ(line.substr(0, 11), "fgd,42,0,0.");
  size_t n = 1;
  while (std::getline(a, line)) ++n;
  EXPECT_EQ(n, 131u);
  std::getline(b, line);
  EXPECT_EQ(line, "workload,policy,seed,arrived_pct,allocated_pct,fragmented_pct");
  std::getline(b, line);
  EXPECT_EQ(line.substr(0, 13), "small,fgd,42,");
  // A workload named after a file with a comma stays one field.
  runs[0].workload = "nodes,v2";
  ASSERT_TRUE(WritePackCsv((dir / "c.csv").string(), runs, true).ok());
  std::ifstream c(dir / "c.csv");
  std::getline(c, line);
  std::getline(c, line);
  EXPECT_EQ(line.substr(0, 17), "\"nodes,v2\",fgd,42") << line;
  std::filesystem::remove_all(dir);
}

TEST(Pack, TuneAddsCopiesUpToTheTarget) {
  Small s;
  ClusterState st(s.net, s.cat.size());
  const int64_t cap = st.total_capacity_milli();
  ASSERT_EQ(cap, 24000);
  int64_t max_req = 0, orig = 0;
  for (const auto& j : s.w.jobs) {
    int64_t g = j.num_gpus ? j.GpuMilli() : 0;
    max_req = std::max(max_req, g);
    orig += g;
  }
  for (uint64_t seed : {1, 2, 3}) {
    for (double tune : {1.3, 2.0, 0.5}) {
      auto list = PackArrivals(s.w, cap, tune, seed);
      ASSERT_TRUE(list.ok());
      int64_t total = 0;
      IdVector<JobId, int> count(s.w.jobs.size(), 0);
      for (JobId i : *list) {
        total += s.w.jobs[i].num_gpus ? s.w.jobs[i].GpuMilli() : 0;
        ++count[i];
      }
      const double target = tune * static_cast<double>(cap);
      EXPECT_LE(static_cast<double>(total), target);
      if (static_cast<double>(orig) < target) {
        // Every task is kept, copies are added until the next would overshoot.
        for (int c : count) EXPECT_GE(c, 1);
        EXPECT_GT(static_cast<double>(total + max_req), target);
        EXPECT_GT(list->size(), s.w.jobs.size());
      } else {
        // Random tasks removed, none copied.
        for (int c : count) EXPECT_LE(c, 1);
        EXPECT_GT(static_cast<double>(total + max_req), target);
      }
    }
  }
  // Same seed, same list; another seed, another order.
  EXPECT_EQ(*PackArrivals(s.w, cap, 1.3, 7), *PackArrivals(s.w, cap, 1.3, 7));
  EXPECT_NE(*PackArrivals(s.w, cap, 1.3, 7), *PackArrivals(s.w, cap, 1.3, 8));
  EXPECT_FALSE(PackArrivals(s.w, cap, 0, 7).ok());
}

TEST(Pack, SameResultsWithOneOrTwoThreads) {
  Small s;
  PackInput in = PreparePackInput("small", s.w, s.cat);
  std::vector<std::string> policies(std::begin(kBaselines), std::end(kBaselines));
  policies.push_back("first-fit");
  policies.push_back("topology");
  PackOptions one, two;
  one.threads = 1;
  two.threads = 2;
  auto a = RunPackGrid({&in}, s.net, s.cat, policies, 40, 44, one);
  auto b = RunPackGrid({&in}, s.net, s.cat, policies, 40, 44, two);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), policies.size() * 5);
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const auto &x = (*a)[i], &y = (*b)[i];
    EXPECT_EQ(x.policy, y.policy);
    EXPECT_EQ(x.seed, y.seed);
    EXPECT_EQ(x.policy, policies[i / 5]);
    EXPECT_EQ(x.seed, 40 + i % 5);
    ASSERT_EQ(x.rows.size(), y.rows.size());
    for (size_t r = 0; r < x.rows.size(); ++r) {
      EXPECT_EQ(x.rows[r].allocated_pct, y.rows[r].allocated_pct);
      EXPECT_EQ(x.rows[r].fragmented_pct, y.rows[r].fragmented_pct);
    }
  }
  EXPECT_FALSE(RunPackGrid({&in}, s.net, s.cat, {"no-such"}, 1, 2, one).ok());
  EXPECT_FALSE(RunPackGrid({&in}, s.net, s.cat, {"fgd"}, 3, 2, one).ok());
}

struct Openb {
  const Catalog& cat = BuiltinCatalog();
  Result<Network> net = ImportCluster(OpenbDir() + "/openb_node_list_gpu_node.csv.gz", "", cat, {});
  Result<Workload> w = ImportWorkload(OpenbDir() + "/openb_pod_list_default.csv.gz", "", cat, {}, nullptr);
};

TEST(Pack, OpenbDefaultOneSeed) {
  Openb o;
  ASSERT_TRUE(o.net.ok()) << o.net.status().message();
  ASSERT_TRUE(o.w.ok()) << o.w.status().message();
  PackInput in = PreparePackInput("openb_pod_list_default", *o.w, o.cat);
  EXPECT_EQ(in.mix.size(), 151u);  // distinct (cpu, mem, gpus, milli, models) shapes
  auto run = RunPack(in, *o.net, o.cat, "best-fit", 42, PackOptions{});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->capacity_milli, 6212000);
  EXPECT_EQ(run->rows.size(), 131u);
  EXPECT_LE(static_cast<double>(run->requested_milli), 1.3 * 6212000);
  EXPECT_GT(static_cast<double>(run->requested_milli), 1.3 * 6212000 - 8000);
  EXPECT_GT(run->tasks, o.w->jobs.size());
  // Below ~85% of arrived demand, everything fits.
  EXPECT_NEAR(run->rows[50].allocated_pct, 50.0, 0.5);
  EXPECT_GT(run->final_allocated_pct, 85.0);
  EXPECT_LT(run->final_allocated_pct, 100.0);
  EXPECT_GT(run->final_fragmented_pct, 0.0);
}

TEST(Pack, OpenbDefaultFgdAllocatesMoreThanBestFitAndRandom) {
  Openb o;
  ASSERT_TRUE(o.net.ok() && o.w.ok());
  PackInput in = PreparePackInput("openb_pod_list_default", *o.w, o.cat);
  auto runs = RunPackGrid({&in}, *o.net, o.cat, {"random", "best-fit", "fgd"}, 42, 44, PackOptions{});
  ASSERT_TRUE(runs.ok()) << runs.status().message();
  auto summary = SummarizePack(*runs);
  ASSERT_EQ(summary.size(), 3u);
  const double random = summary[0].allocated_pct, best_fit = summary[1].allocated_pct, fgd = summary[2].allocated_pct;
  EXPECT_GE(fgd, best_fit);
  EXPECT_GE(fgd, random);
  EXPECT_LT(summary[2].fragmented_pct, summary[1].fragmented_pct);
}

// The command line: exit code 2 and a message for bad input.
int RunCli(const std::string& args, std::string* out) {
  auto r = testing::RunSuanli("pack " + args);
  *out += r.out;
  return r.code;
}

TEST(PackCli, BadInputExitsWithTwo) {
  auto dir = std::filesystem::temp_directory_path() / "suanli_pack_cli";
  const std::string nodes = OpenbDir() + "/openb_node_list_gpu_node.csv.gz";
  const std::string pods = OpenbDir() + "/openb_pod_list_default.csv.gz";
  std::string out;
  EXPECT_EQ(RunCli("--nodes " + nodes + " --pods " + pods + " --policy fgd --seeds 51-42 --out " + dir.string(), &out),
            2);
  EXPECT_NE(out.find("51-42"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(
      RunCli("--nodes " + nodes + " --pods /no/such/file.csv --policy fgd --seeds 42 --out " + dir.string(), &out), 2);
  EXPECT_NE(out.find("/no/such/file.csv"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(
      RunCli("--nodes " + nodes + " --pods " + pods + " --policy fgd,tetris --seeds 42 --out " + dir.string(), &out),
      2);
  EXPECT_NE(out.find("tetris"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(PackCli, WritesOneCsvWithAWorkloadColumnForSeveralFiles) {
  auto dir = std::filesystem::temp_directory_path() / "suanli_pack_cli2";
  std::filesystem::remove_all(dir);
  const std::string nodes = OpenbDir() + "/openb_node_list_gpu_node.csv.gz";
  const std::string pods =
      OpenbDir() + "/openb_pod_list_default.csv.gz," + OpenbDir() + "/openb_pod_list_multigpu50.csv.gz";
  std::string out;
  ASSERT_EQ(RunCli("--nodes " + nodes + " --pods " + pods + " --policy best-fit --seeds 42 --threads 2 --out " +
                       dir.string() + " --quiet",
                   &out),
            0)
      << out;
  EXPECT_NE(out.find("openb_pod_list_multigpu50"), std::string::npos) << out;
  std::ifstream f(dir / "pack.csv");
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "workload,policy,seed,arrived_pct,allocated_pct,fragmented_pct");
  size_t n = 0;
  while (std::getline(f, line)) ++n;
  EXPECT_EQ(n, 2u * 131u);
  EXPECT_TRUE(std::filesystem::exists(dir / "pack_summary.csv"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace suanli
